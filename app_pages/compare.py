"""The "Sammenlign metoder" page: the methods side by side, every cell quoted from the sources.

For trainers preparing courses: pick methods, aspects and sources; the table
shows each cell's verbatim quotes with ``[n]`` markers, the source cards below
open the passages, and the table downloads as Markdown, CSV or a PowerPoint
slide (the full citations in its speaker notes). A chat answer comparing
methods links here with its methods chosen (``?metode=CTI&metode=ICM``).
Presentation only: the table is :func:`assistant.comparison.method_table`.
"""

from __future__ import annotations

import html

import streamlit as st

import app
from assistant.answer import NOT_DESCRIBED
from assistant.comparison import OFFERED_ROW, Cell, MethodTable, method_table, named_aspects
from assistant.comparison_export import offered_lines, title, to_csv, to_markdown, to_pptx
from assistant.scopes import scope_name
from assistant.service import Assistant
from hfa_settings import Settings, load_settings
from ingest.index import IndexProblem

METHOD_PARAM = "metode"
ASPECT_PARAM = "aspekt"
SCOPE_PARAM = "kilde"
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
TABLE_CSS = """
<style>
.hfa-compare table { border-collapse: collapse; width: 100%; font-size: 0.9rem; table-layout: fixed; }
.hfa-compare th:first-child { width: 9.5rem; }
.hfa-compare th, .hfa-compare td { border: 1px solid rgba(128,128,128,0.35); padding: 0.45rem 0.6rem;
  vertical-align: top; text-align: left; }
.hfa-compare th { background: rgba(128,128,128,0.12); }
.hfa-compare td.hfa-aspect { font-weight: 600; white-space: nowrap; }
.hfa-compare tr.hfa-offered td { background: rgba(70,130,180,0.08); }
.hfa-compare .hfa-empty { color: #888; font-style: italic; }
.hfa-compare .hfa-marker { font-weight: 600; white-space: nowrap; }
.hfa-compare p { margin: 0 0 0.4rem 0; }
</style>
"""


@st.cache_data(show_spinner="Sammenligner metoderne i kilderne …", max_entries=64)
def comparison(
    _assistant: Assistant,
    index_version: str,
    methods: tuple[str, ...],
    aspects: tuple[tuple[str, str], ...],
    scopes: tuple[str, ...],
) -> MethodTable:
    """The table for one choice of methods, aspects and sources (built once per index version)."""
    return method_table(_assistant.corpus, _assistant.settings, methods, aspects, scopes)


def _key(param: str) -> str:
    """The session-state key of a picker."""
    return f"compare-{param}"


def pickers(assistant: Assistant, settings: Settings) -> tuple[list[str], list[str], list[str]]:
    """Methods, aspects (configured and own free-text ones) and sources; the choice is kept in the URL.

    When the page opens, the pickers take their choice from the URL (a link
    from the chat, a bookmark); after that they keep what the user picks.
    """
    vocabulary = assistant.vocabulary
    methods_known = list(vocabulary.methods)
    labels = [label for label, _ in settings.comparison_aspects]
    scopes_known = list(vocabulary.scope_names)
    linked = {param: st.query_params.get_all(param) for param in (METHOD_PARAM, ASPECT_PARAM, SCOPE_PARAM)}
    state = st.session_state
    if _key(METHOD_PARAM) not in state:  # the page was just opened (its pickers' state goes when it is left)
        state[_key(METHOD_PARAM)] = [m for m in linked[METHOD_PARAM] if m in methods_known] or methods_known
        state[_key(ASPECT_PARAM)] = linked[ASPECT_PARAM] or labels
        state[_key(SCOPE_PARAM)] = [s for s in linked[SCOPE_PARAM] if s in scopes_known]
    left, middle, right = st.columns([2, 3, 2])
    methods = left.multiselect("Metoder", methods_known, key=_key(METHOD_PARAM), placeholder="Vælg metoder")
    aspects = middle.multiselect(
        "Aspekter",
        list(dict.fromkeys([*labels, *state[_key(ASPECT_PARAM)]])),
        key=_key(ASPECT_PARAM),
        placeholder="Vælg aspekter",
        accept_new_options=True,
        help="Skriv et eget aspekt (fx 'uddannelse') for at få en række mere.",
    )
    scopes = right.multiselect(
        "Kilder",
        scopes_known,
        key=_key(SCOPE_PARAM),
        format_func=lambda s: scope_name(s, vocabulary),
        placeholder="Alle kilder",
    )
    st.query_params.from_dict({METHOD_PARAM: methods, ASPECT_PARAM: aspects, SCOPE_PARAM: scopes})
    return methods, aspects, scopes


def _cell_html(cell: Cell) -> str:
    if not cell:
        return f'<span class="hfa-empty">{NOT_DESCRIBED}</span>'
    return "".join(f'<p>{html.escape(q.text)} <span class="hfa-marker">[{q.n}]</span></p>' for q in cell)


def table_html(table: MethodTable) -> str:
    """The comparison as an HTML table (every text escaped): aspects, then the "Tilbydes i" row."""
    head = "".join(f"<th>{html.escape(m)}</th>" for m in ("Aspekt", *table.methods))
    rows = [
        f'<tr><td class="hfa-aspect">{html.escape(label.capitalize())}</td>'
        + "".join(f"<td>{_cell_html(cell)}</td>" for cell in cells)
        + "</tr>"
        for label, cells in table.rows
    ]
    if table.offered:
        offered = [
            "".join(f"<p>{html.escape(line)}</p>" for line in offered_lines(table, i))
            for i in range(len(table.methods))
        ]
        rows.append(
            f'<tr class="hfa-offered"><td class="hfa-aspect">{OFFERED_ROW}</td>'
            + "".join(f"<td>{cell}</td>" for cell in offered)
            + "</tr>"
        )
    return app.html_block(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>", "hfa-compare")


def downloads(table: MethodTable) -> None:
    """Markdown, CSV and a PowerPoint slide of the table."""
    name = "metoder-" + "-".join(m.lower() for m in table.methods)
    md, csv, slide = st.columns(3)
    md.download_button("Hent Markdown", to_markdown(table), f"{name}.md", "text/markdown", width="stretch")
    csv.download_button("Hent CSV", to_csv(table), f"{name}.csv", "text/csv", width="stretch")
    slide.download_button(
        "Hent PowerPoint-slide", lambda: to_pptx(table), f"{name}.pptx", PPTX_MIME, width="stretch", type="primary"
    )


def main() -> None:
    """Lay out the page: pickers, table, downloads and source cards."""
    st.set_page_config(page_title="Sammenlign metoder · Housing First-assistenten", page_icon="🏠", layout="wide")
    st.title("Sammenlign metoder")
    st.caption(
        "Metoderne side om side med ordrette citater fra kilderne. Metodens egne afsnit citeres først; "
        "'Tilbydes i' viser, hvad kommunernes egne dokumenter siger."
    )
    try:
        settings = load_settings()
        assistant = app.open_assistant(settings, app.index_version(settings))
    except (IndexProblem, ValueError) as exc:
        st.error(str(exc))
        st.stop()
    methods, aspects, scopes = pickers(assistant, settings)
    if not methods or not aspects:
        st.info("Vælg mindst én metode og ét aspekt.")
        return
    chosen = named_aspects(aspects, settings)
    table = comparison(assistant, app.index_version(settings), tuple(methods), tuple(chosen), tuple(scopes))
    st.subheader(title(table))
    st.markdown(" ".join(TABLE_CSS.split()) + table_html(table), unsafe_allow_html=True)
    downloads(table)
    st.subheader("Kilder")
    for n, chunk in table.sources():
        spans = [(c.start, c.end) for c in table.citations if c.n == n]
        app.source_card(f"[{n}]", chunk, spans, scope_name(chunk.scope, assistant.vocabulary))


main()
