"""Streamlit chat for the Housing First assistant: presentation only.

Run with ``streamlit run app.py``. The index location comes from the usual
settings (``hfa.toml`` or ``HFA_DATA_DIR``).
"""

from __future__ import annotations

import gc
import html
import logging
import re
from dataclasses import dataclass

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from assistant.answer import NOT_DESCRIBED, Answer, source_label
from assistant.answering.outcome import NEAREST
from assistant.answering.question import analyze
from assistant.comparison import method_names
from assistant.feedback import FeedbackError, feedback_path, record
from assistant.logs import configure_logging, log_path
from assistant.privacy import PRIVACY_NOTICES, mask_personal_numbers
from assistant.retrieval import Filters
from assistant.scopes import differences, sides, without_municipalities
from assistant.service import Assistant
from assistant.transcript import to_markdown
from hfa_settings import LLM_BACKENDS, Settings, load_settings
from ingest.documents import Chunk
from ingest.index import CATALOG_FILE, IndexProblem
from ingest.vocabulary import NATIONAL

EXAMPLES = {
    "Ny medarbejder": [
        "Hvad er Housing First kort fortalt?",
        "Hvor mange kerneprincipper bygger Housing First på?",
        "Hvad er det maksimale caseload i CTI?",
    ],
    "Sagsbehandler": [
        "Hvad er klagefristen for en afgørelse efter § 85 a?",
        "Hvilke metoder bevilger Aarhus Kommune bostøtte efter?",
        "Hvor længe varer bostøtten efter Housing First i Norddjurs?",
    ],
    "Underviser": [
        "Hvad går kerneprincippet om skadesreduktion ud på?",
        "Hvem er målgruppen for ICM?",
        "Hvornår udkom de nationale retningslinjer for indsatsen mod hjemløshed?",
    ],
}
MODE_NAMES = {
    "extractive": "Udtrukne citater (offline)",
    "ollama": "Sprogmodel via Ollama",
    "openai": "Sprogmodel (OpenAI-kompatibel)",
}
PRIVACY_REMINDER = "Skriv ikke navne, CPR-numre eller andre personoplysninger om borgere i spørgsmålene."
ERROR_TEXT = "Der skete en fejl, da svaret skulle findes. Prøv igen, eller formulér spørgsmålet anderledes."
COMPARE_PAGE = "app_pages/compare.py"
SOURCES_PAGE = "app_pages/sources.py"
log = logging.getLogger("app")


@dataclass
class Turn:
    """One question in the conversation and what came of it."""

    question: str
    answer: Answer | None = None
    feedback_sent: bool = False


@st.cache_resource(show_spinner="Indlæser dokumenterne …", max_entries=2)
def open_assistant(settings: Settings, index_version: str) -> Assistant:
    """The assistant for these settings, opened once per process and again after each ingest.

    Only the newest versions are kept: each document added on the Kilder page makes a new one. The
    opened index and models live as long as the process, so garbage collections stop walking them.
    """
    assistant = Assistant.open(settings)
    gc.freeze()
    return assistant


def index_version(settings: Settings) -> str:
    """Changes whenever `hfa ingest` rewrites the index (so the app picks up new documents)."""
    catalog = settings.index_dir / CATALOG_FILE
    return str(catalog.stat().st_mtime_ns) if catalog.exists() else ""


MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
MARKER_LINE = re.compile(r"^- ")


def plain(text: str) -> str:
    """Text for a widget that renders Markdown (captions, labels), with every Markdown character escaped."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def html_block(inner: str, css_class: str) -> str:
    """One HTML block on one line: Markdown leaves its content alone, so nothing in it becomes a link or image."""
    return f'<div class="{css_class}" style="line-height:1.5">{inner.replace(chr(13), "").replace(chr(10), "")}</div>'


def answer_html(text: str) -> str:
    """The answer text as escaped HTML: one line per quoted unit, "- " lines as a bulleted list."""
    parts: list[str] = []
    items: list[str] = []
    for line in text.splitlines():
        if MARKER_LINE.match(line):
            items.append(f"<li>{html.escape(line[2:])}</li>")
            continue
        if items:
            parts.append(f"<ul>{''.join(items)}</ul>")
            items = []
        parts.append(f"{html.escape(line)}<br>")
    if items:
        parts.append(f"<ul>{''.join(items)}</ul>")
    return html_block("".join(parts), "hfa-answer")


def highlighted(chunk: Chunk, spans: list[tuple[int, int]], quoted_lines_only: bool = False) -> str:
    """The passage as HTML, the quoted spans wrapped in <mark> (only the lines they stand on, if asked)."""
    parts, position = [], 0
    for start, end in sorted(spans):
        if start < position:
            continue
        parts += [html.escape(chunk.text[position:start]), f"<mark>{html.escape(chunk.text[start:end])}</mark>"]
        position = end
    parts.append(html.escape(chunk.text[position:]))
    lines = "".join(parts).split("\n")
    if quoted_lines_only:
        lines = _marked_lines(lines)
    return html_block("<br>".join(lines), "hfa-passage")


def _marked_lines(lines: list[str]) -> list[str]:
    """The lines a <mark> opens on, runs on or closes on (a quote may span several lines)."""
    kept, inside = [], False
    for line in lines:
        if inside or "<mark>" in line:
            kept.append(line)
        inside = line.rfind("<mark>") > line.rfind("</mark>") or (inside and "</mark>" not in line)
    return kept


def source_card(label: str, chunk: Chunk, spans: list[tuple[int, int]], scope_name: str) -> None:
    """An expander naming a source, with the passage and its quoted units highlighted."""
    with st.expander(plain(f"{label} {chunk.title}")):
        details = [chunk.issuer, scope_name, chunk.kind, chunk.section, f"s. {chunk.page}" if chunk.page else ""]
        st.caption(plain(" · ".join(dict.fromkeys(d for d in details if d))))
        st.markdown(highlighted(chunk, spans), unsafe_allow_html=True)


def nearest_quotes(answer: Answer, assistant: Assistant) -> None:
    """The nearest the sources say, open: each passage named by section and document, its sentence marked."""
    blocks = [html_block(html.escape(answer.text.splitlines()[0]), "hfa-nearest-lead")]
    for n, chunk in answer.sources():
        spans = [(c.start, c.end) for c in answer.citations if c.n == n]
        where = " · ".join(d for d in (chunk.section, chunk.title, assistant.vocabulary.scope_name(chunk)) if d)
        page = f", s. {chunk.page}" if chunk.page else ""
        blocks.append(html_block(f"<b>[{n}] {html.escape(where + page)}</b>", "hfa-nearest-source"))
        blocks.append(highlighted(chunk, spans, quoted_lines_only=True))
    st.markdown("\n\n".join(blocks), unsafe_allow_html=True)
    for notice in answer.notices:
        if notice not in PRIVACY_NOTICES:
            st.caption(plain(notice))


def comparison_table(answer: Answer) -> None:
    """A comparison as a table: one row per aspect, each cell its cited quote with the marker."""
    table = answer.table
    if table is None:
        return
    quotes = {c.n: c.quote for c in answer.citations}

    def cell(row: int, column: int) -> str:
        quoted = table.cell_quotes(row, column) or [(n, quotes[n]) for n in table.rows[row][1][column]]
        return " ".join(f"[{n}] {' '.join(text.split())}" for n, text in quoted) or NOT_DESCRIBED

    rows = {aspect: [cell(r, c) for c in range(len(cells))] for r, (aspect, cells) in enumerate(table.rows)}
    st.table(pd.DataFrame.from_dict(rows, orient="index", columns=list(table.columns)))


@st.cache_data(max_entries=64, show_spinner=False)
def national_answer(_assistant: Assistant, index_version: str, question: str) -> Answer:
    """A question answered from the national sources only (for the column beside a municipality's rules)."""
    return _assistant.answer(question, filters=Filters(scopes=(NATIONAL,)))


def national_beside_local(answer: Answer, assistant: Assistant) -> None:
    """National guidance beside local rules, when the answer cites both or its question names a municipality."""
    question = answer.searched or answer.question
    named = analyze(question, assistant.vocabulary).municipalities
    national = None
    if named and NATIONAL not in answer.by_scope:
        national = national_answer(
            assistant, index_version(assistant.settings), without_municipalities(question, named)
        )
    found = sides(answer, assistant.vocabulary, named, national)
    if not found:
        return
    for note in differences(found, method_names(assistant.corpus)):
        st.info(plain(f"Forskel: {note}"), icon=":material/compare_arrows:")
    for column, side in zip(st.columns(len(found)), found, strict=True):
        with column:
            st.markdown(f"**{plain(side.name)}**")
            if not side.numbered:
                st.caption("Svaret citerer ikke herfra; sådan svarer disse kilder alene:")
            lines = [
                f"<p>{f'[{n}] ' if side.numbered else ''}{html.escape(text)}"
                + ("" if side.numbered else f"<br><small>{html.escape(source_label(c.chunk))}</small>")
                + "</p>"
                for n, text, c in side.quotes()
            ]
            if lines:
                st.markdown(html_block("".join(lines), "hfa-side"), unsafe_allow_html=True)
            else:
                st.caption("Svaret citerer intet herfra.")


def show_answer(answer: Answer, assistant: Assistant) -> None:
    """The answer text (or table), its notices and one source card per cited passage."""
    if answer.searched and answer.searched != answer.question:
        st.caption(plain(f"Søgte efter: {answer.searched}"))
    if answer.table is not None:
        if answer.outcome == NEAREST:
            st.caption(plain(answer.text.splitlines()[0]))
        comparison_table(answer)
        st.page_link(
            COMPARE_PAGE,
            label="Åbn sammenligningen med alle aspekter og download den",
            icon=":material/table_view:",
            query_params={"metode": list(answer.table.columns)},
        )
    elif answer.outcome == NEAREST:
        nearest_quotes(answer, assistant)
        return
    else:
        st.markdown(answer_html(answer.text), unsafe_allow_html=True)
        if not answer.refused:
            national_beside_local(answer, assistant)
    for notice in answer.notices:
        if notice not in PRIVACY_NOTICES:
            st.caption(plain(notice))
    for sentence in answer.unsupported_sentences:
        st.caption(plain(f"⚠️ Uden støtte i kilderne: {sentence}"))
    for n, chunk in answer.sources():
        spans = [(c.start, c.end) for c in answer.citations if c.n == n]
        source_card(f"[{n}]", chunk, spans, assistant.vocabulary.scope_name(chunk))


def feedback_widget(turn: Turn, key: str, settings: Settings) -> None:
    """Thumbs up/down with an optional comment, stored once per answer."""
    if turn.feedback_sent:
        st.caption("Tak for din feedback.")
        return
    rating = st.feedback("thumbs", key=f"{key}-rating")
    if rating is None:
        return
    comment = st.text_input("Kommentar (valgfri)", key=f"{key}-comment")
    if st.button("Send feedback", key=f"{key}-send") and turn.answer is not None:
        try:
            record(feedback_path(settings.data_dir), turn.answer, helpful=rating == 1, comment=comment)
        except FeedbackError as exc:
            st.error(str(exc))
            return
        turn.feedback_sent = True
        st.rerun()


def show_turn(turn: Turn, key: str, settings: Settings, assistant: Assistant) -> None:
    """A question and its answer (or the error it met) as chat messages."""
    with st.chat_message("user"):
        st.markdown(html_block(html.escape(turn.question), "hfa-question"), unsafe_allow_html=True)
    with st.chat_message("assistant"):
        if turn.answer is None:
            st.error(f"{ERROR_TEXT} Detaljer står i {log_path(settings)}.")
            return
        for notice in turn.answer.notices:
            if notice in PRIVACY_NOTICES:
                st.warning(notice, icon=":material/privacy_tip:")
        show_answer(turn.answer, assistant)
        feedback_widget(turn, key, settings)


def answer_turn(assistant: Assistant, question: str, history: list[Answer], filters: Filters, mode: str) -> Turn:
    """Answer one turn (streaming a generated answer while it is checked); an error becomes an empty turn.

    The turn keeps (and the log sees) the question with CPR numbers masked, as the service answers it.
    """
    question_shown = mask_personal_numbers(question).text
    generative = mode != "extractive"
    streamed = st.empty() if generative else None
    tokens: list[str] = []

    def show_token(token: str) -> None:
        tokens.append(token)
        if streamed is not None:
            streamed.markdown(html_block(html.escape("".join(tokens)) + " ▌", "hfa-draft"), unsafe_allow_html=True)

    try:
        answer = assistant.answer(
            question, history=history, filters=filters, mode=mode, on_token=show_token if generative else None
        )
    except Exception:  # any failure is logged, shown in Danish, and the app keeps working
        log.exception("Spørgsmålet kunne ikke besvares: %s", question_shown)
        return Turn(question_shown)
    finally:
        if streamed is not None:
            streamed.empty()
    return Turn(question_shown, answer)


def sidebar(assistant: Assistant, settings: Settings) -> tuple[Filters, str, DeltaGenerator]:
    """New conversation, answer mode, filters and index status.

    Returns the filters, the chosen answer mode and a slot for the download. A
    language model is offered only when one is configured (HFA_LLM_MODEL).
    """
    catalog = assistant.retriever.catalog
    with st.sidebar:
        if st.button("Ny samtale", icon=":material/add_comment:", width="stretch"):
            st.session_state.turns = []
            st.session_state.conversation += 1
            st.rerun()
        download_slot = st.empty()
        modes = list(LLM_BACKENDS) if settings.llm_model else ["extractive"]
        mode = st.selectbox(
            "Svarform",
            modes,
            index=modes.index(settings.llm_backend),
            format_func=MODE_NAMES.__getitem__,
            help="En sprogmodel skal være sat op (se README: Brug en sprogmodel); ellers bruges citaterne.",
        )
        st.subheader("Afgræns kilderne")
        documents = sorted(catalog.documents.values(), key=lambda d: d.title)
        titles = {d.doc_id: d.title for d in documents}
        doc_ids = st.multiselect("Dokumenter", list(titles), format_func=titles.__getitem__, placeholder="Alle")
        scopes = st.multiselect(
            "Gælder for",
            sorted({d.scope for d in documents}),
            format_func=lambda s: assistant.vocabulary.scope_names.get(s, s),
            placeholder="Alle",
        )
        kinds = st.multiselect("Dokumenttype", sorted({d.kind for d in documents}), placeholder="Alle")
        st.caption(PRIVACY_REMINDER)
        st.subheader("Indeks")
        st.caption(
            f"{len(catalog.documents)} dokumenter · {len(catalog.chunks)} afsnit  \n"
            f"Embedder: {catalog.embedder}  \nSeneste indlæsning: {catalog.last_ingest}"
        )
    filters = Filters(doc_ids=tuple(doc_ids), scopes=tuple(scopes), kinds=tuple(kinds))
    return filters, mode, download_slot


def download(slot: DeltaGenerator, turns: list[Turn]) -> None:
    """Offer the conversation so far as Markdown (filled in last, so it includes the newest answer)."""
    answers = [t.answer for t in turns if t.answer is not None]
    if answers:
        slot.download_button(
            "Download samtalen",
            to_markdown(answers),
            file_name="housing-first-samtale.md",
            mime="text/markdown",
            width="stretch",
        )


def start_page() -> None:
    """Examples per user group; clicking one asks it."""
    st.markdown(
        "Spørg om Housing First-tilgangen, metoderne CTI, ICM og ACT og de lokale regler i "
        "Norddjurs og Aarhus. Svarene citerer kilderne ordret; findes svaret ikke i dokumenterne, siger jeg det."
    )
    for column, (group, questions) in zip(st.columns(len(EXAMPLES)), EXAMPLES.items(), strict=True):
        with column:
            st.markdown(f"**{group}**")
            for i, question in enumerate(questions):
                st.button(
                    question,
                    key=f"example-{group}-{i}",
                    on_click=st.session_state.__setitem__,
                    args=("pending", question),
                    width="stretch",
                )


def main() -> None:
    """Lay out the page and answer the question just asked, if any."""
    st.set_page_config(page_title="Housing First-assistenten", page_icon="🏠", layout="wide")
    st.title("Housing First-assistenten")
    try:
        settings = load_settings()
        configure_logging(settings)
        assistant = open_assistant(settings, index_version(settings))
    except (IndexProblem, ValueError) as exc:
        st.error(str(exc))
        st.stop()
    st.session_state.setdefault("turns", [])
    st.session_state.setdefault("conversation", 0)
    turns: list[Turn] = st.session_state.turns
    filters, mode, download_slot = sidebar(assistant, settings)

    typed = st.chat_input("Stil et spørgsmål om Housing First (uden navne og CPR-numre) …")
    question = (typed or st.session_state.pop("pending", None) or "").strip()
    if not turns and not question:
        start_page()
    prefix = f"c{st.session_state.conversation}"
    for i, turn in enumerate(turns):
        show_turn(turn, f"{prefix}-{i}", settings, assistant)
    if question:
        with st.spinner("Finder svar i kilderne …"):
            history = [t.answer for t in turns if t.answer is not None]
            turn = answer_turn(assistant, question, history, filters, mode)
        turns.append(turn)
        show_turn(turn, f"{prefix}-{len(turns) - 1}", settings, assistant)
    download(download_slot, turns)


if __name__ == "__main__":
    st.navigation(
        [
            st.Page(main, title="Chat", icon=":material/chat:", default=True),
            st.Page(COMPARE_PAGE, title="Sammenlign metoder", icon=":material/table_view:", url_path="sammenlign"),
            st.Page(SOURCES_PAGE, title="Kilder", icon=":material/library_books:", url_path="kilder"),
        ]
    ).run()
