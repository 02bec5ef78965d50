"""Streamlit chat for the Housing First assistant: presentation only.

Run with ``streamlit run app.py``. The index location comes from the usual
settings (``hfa.toml`` or ``HFA_DATA_DIR``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from assistant.answer import SCOPE_NAMES, Answer
from assistant.feedback import feedback_path, record
from assistant.generation import generate_answer, rewrite_with_llm
from assistant.retrieval import Filters
from assistant.service import Assistant
from assistant.settings import LLM_BACKENDS, Settings, load_settings
from assistant.transcript import to_markdown
from ingest.documents import Chunk
from ingest.index import CATALOG_FILE, IndexProblem

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
ERROR_TEXT = "Der skete en fejl, da svaret skulle findes. Prøv igen, eller formulér spørgsmålet anderledes."
NEAREST_SHOWN = 3


@dataclass
class Turn:
    """One question in the conversation and what came of it."""

    question: str
    answer: Answer | None = None
    feedback_sent: bool = False


@st.cache_resource(show_spinner="Indlæser dokumenterne …")
def open_assistant(settings: Settings, index_version: str) -> Assistant:
    """The assistant for these settings, opened once per process and again after each ingest."""
    return Assistant.open(settings)


def index_version(settings: Settings) -> str:
    """Changes whenever `hfa ingest` rewrites the index (so the app picks up new documents)."""
    catalog = settings.index_dir / CATALOG_FILE
    return str(catalog.stat().st_mtime_ns) if catalog.exists() else ""


def highlighted(chunk: Chunk, spans: list[tuple[int, int]]) -> str:
    """The passage as HTML, the quoted spans wrapped in <mark>."""
    parts, position = [], 0
    for start, end in sorted(spans):
        if start < position:
            continue
        parts += [html.escape(chunk.text[position:start]), f"<mark>{html.escape(chunk.text[start:end])}</mark>"]
        position = end
    parts.append(html.escape(chunk.text[position:]))
    # One line without blank lines keeps it a single HTML block, so Markdown leaves the text alone.
    body = "".join(parts).replace("\r", "").replace("\n", "<br>")
    return f'<div class="hfa-passage" style="line-height:1.5">{body}</div>'


def source_card(label: str, chunk: Chunk, spans: list[tuple[int, int]]) -> None:
    """An expander naming a source, with the passage and its quoted sentences highlighted."""
    with st.expander(f"{label} {chunk.title}"):
        details = [
            chunk.issuer,
            SCOPE_NAMES.get(chunk.scope, chunk.scope),
            chunk.kind,
            chunk.section,
            f"s. {chunk.page}" if chunk.page is not None else "",
        ]
        st.caption(" · ".join(dict.fromkeys(d for d in details if d)))
        st.markdown(highlighted(chunk, spans), unsafe_allow_html=True)


def show_answer(answer: Answer) -> None:
    """The answer text, its notices and one source card per cited passage."""
    if answer.searched and answer.searched != answer.question:
        st.caption(f"Søgte efter: {answer.searched}")
    st.markdown(answer.text.replace("\n", "  \n"))  # one line per quoted sentence
    for notice in answer.notices:
        st.caption(notice)
    for sentence in answer.unsupported_sentences:
        st.caption(f"⚠️ Uden kildehenvisning: {sentence}")
    for n, chunk in answer.sources():
        spans = [(c.start, c.end) for c in answer.citations if c.n == n]
        source_card(f"[{n}]", chunk, spans)
    if answer.refused and answer.passages:
        st.caption("Nærmeste passager:")
        for passage in answer.passages[:NEAREST_SHOWN]:
            source_card("·", passage.chunk, [])


def feedback_widget(turn: Turn, key: str, settings: Settings) -> None:
    """Thumbs up/down with an optional comment, stored once per answer."""
    if turn.feedback_sent:
        st.caption("Tak for din feedback.")
        return
    rating = st.feedback("thumbs", key=f"{key}-rating")
    if rating is None:
        return
    comment = st.text_input("Kommentar (valgfri)", key=f"{key}-comment")
    if st.button("Send feedback", key=f"{key}-send"):
        record(feedback_path(settings.data_dir), turn.answer, helpful=rating == 1, comment=comment)
        turn.feedback_sent = True
        st.rerun()


def show_turn(turn: Turn, key: str, settings: Settings) -> None:
    """A question and its answer (or the error it met) as chat messages."""
    with st.chat_message("user"):
        st.markdown(turn.question)
    with st.chat_message("assistant"):
        if turn.answer is None:
            st.error(ERROR_TEXT)
            return
        show_answer(turn.answer)
        feedback_widget(turn, key, settings)


def answer_turn(assistant: Assistant, question: str, history: list[str], filters: Filters, settings: Settings) -> Turn:
    """Rewrite a follow-up, answer (streaming a generated answer), keep the original question.

    An error becomes an empty turn.
    """
    generative = settings.llm_backend != "extractive"
    streamed = st.empty() if generative else None
    tokens: list[str] = []

    def show_token(token: str) -> None:
        tokens.append(token)
        streamed.markdown("".join(tokens) + " ▌")

    try:
        searched = rewrite_with_llm(history, question, settings)
        answer = generate_answer(
            assistant, searched, settings, on_token=show_token if generative else None, filters=filters
        )
    except Exception:  # any failure is shown in Danish and the app keeps working
        return Turn(question)
    finally:
        if streamed is not None:
            streamed.empty()
    answer.searched, answer.question = answer.question, question
    return Turn(question, answer)


def sidebar(assistant: Assistant, settings: Settings) -> tuple[Filters, Settings, DeltaGenerator]:
    """New conversation, answer mode, filters and index status.

    Returns the filters, the settings with the chosen answer mode and a slot for the download.
    """
    catalog = assistant.retriever.catalog
    with st.sidebar:
        if st.button("Ny samtale", icon=":material/add_comment:", width="stretch"):
            st.session_state.turns = []
            st.session_state.conversation += 1
            st.rerun()
        download_slot = st.empty()
        mode = st.selectbox(
            "Svarform",
            LLM_BACKENDS,
            index=LLM_BACKENDS.index(settings.llm_backend),
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
            format_func=lambda s: SCOPE_NAMES.get(s, s),
            placeholder="Alle",
        )
        kinds = st.multiselect("Dokumenttype", sorted({d.kind for d in documents}), placeholder="Alle")
        st.subheader("Indeks")
        st.caption(
            f"{len(catalog.documents)} dokumenter · {len(catalog.chunks)} afsnit  \n"
            f"Embedder: {catalog.embedder}  \nSeneste indlæsning: {catalog.last_ingest}"
        )
    filters = Filters(doc_ids=tuple(doc_ids), scopes=tuple(scopes), kinds=tuple(kinds))
    return filters, replace(settings, llm_backend=mode), download_slot


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
        assistant = open_assistant(settings, index_version(settings))
    except (IndexProblem, ValueError) as exc:
        st.error(str(exc))
        st.stop()
    st.session_state.setdefault("turns", [])
    st.session_state.setdefault("conversation", 0)
    turns: list[Turn] = st.session_state.turns
    filters, answer_settings, download_slot = sidebar(assistant, settings)

    typed = st.chat_input("Stil et spørgsmål om Housing First …")
    question = (typed or st.session_state.pop("pending", None) or "").strip()
    if not turns and not question:
        start_page()
    prefix = f"c{st.session_state.conversation}"
    for i, turn in enumerate(turns):
        show_turn(turn, f"{prefix}-{i}", settings)
    if question:
        with st.spinner("Finder svar i kilderne …"):
            turn = answer_turn(assistant, question, [t.question for t in turns], filters, answer_settings)
        turns.append(turn)
        show_turn(turn, f"{prefix}-{len(turns) - 1}", settings)
    download(download_slot, turns)


main()
