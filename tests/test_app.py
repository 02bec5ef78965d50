"""The Streamlit chat, driven headless with AppTest over the real corpus index."""

from __future__ import annotations

import html
import re

import pytest
from streamlit.testing.v1 import AppTest

from assistant.feedback import feedback_path, list_feedback
from assistant.service import NEAREST_LEAD, REFUSAL
from hfa_settings import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")
TIMEOUT = 180


def _opened(corpus_settings, monkeypatch) -> AppTest:
    # Feedback from these tests lands in the session index dir (a copy would cost a re-ingest).
    monkeypatch.setenv("HFA_DATA_DIR", str(corpus_settings.data_dir))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def app(corpus_settings, monkeypatch) -> AppTest:
    return _opened(corpus_settings, monkeypatch)


@pytest.fixture
def answering_app(corpus_settings, monkeypatch) -> AppTest:
    """The app answering whatever its confidence: for the tests of how an answer's form is shown."""
    monkeypatch.setenv("HFA_ANSWER_CONFIDENCE", "0")
    return _opened(corpus_settings, monkeypatch)


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def shown(value: str) -> str:
    """What the user reads: HTML tags dropped, entities and Markdown escapes undone."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", value))
    return " ".join(re.sub(r"\\(.)", r"\1", text).split())


def test_start_page_has_examples_per_user_group(app):
    labels = [b.label for b in app.button]
    assert "Ny samtale" in labels
    assert "Hvad er klagefristen for en afgørelse efter § 85 a?" in labels
    assert {"**Ny medarbejder**", "**Sagsbehandler**", "**Underviser**"} <= {m.value for m in app.markdown}
    assert "5 dokumenter" in " ".join(c.value for c in app.sidebar.caption)


def test_rule_question_is_answered_with_sources(answering_app):
    app = answering_app  # an answer's source cards, whatever its confidence
    _ask(app, "Hvad er klagefristen for en afgørelse efter § 85 a?")
    reply = app.chat_message[-1]
    text = "\n".join(m.value for m in reply.markdown)
    assert "4 uger" in text and "[1]" in text
    assert shown(reply.expander[0].label).startswith("[1] Kvalitetsstandard")
    assert "<mark>" in text and "4 uger" in text.split("<mark>", 1)[1]
    assert any("lokale regler" in shown(c.value) for c in reply.caption)
    assert app.sidebar.download_button[0].label == "Download samtalen"


def test_a_nearest_outcome_shows_open_quotes_with_the_sentence_marked_and_its_section(app):
    _ask(app, "Hvad er satsen for kontanthjælp i 2025?")
    answer = app.session_state["turns"][-1].answer
    assert answer.outcome == "nearest"
    reply = app.chat_message[-1]
    shown_block = reply.markdown[0].value  # one block: the lead, then each source's name and its marked lines
    assert NEAREST_LEAD in shown_block.split('class="hfa-nearest-source"')[0]
    quotes = shown_block.split('class="hfa-nearest-source"')[1:]
    assert all("<mark>" in quote for quote in quotes)
    assert len(quotes) == len(answer.sources()) >= 2
    for (n, chunk), shown_quote in zip(answer.sources(), quotes, strict=True):
        assert f"[{n}] {html.escape(chunk.section)}" in shown_quote
        first = next(c for c in answer.citations if c.n == n)
        assert f"<mark>{html.escape(first.quote)}</mark>" in shown_quote.replace("<br>", "\n")
    assert len(reply.expander) == 0  # open, never collapsed boxes named after the document


def test_a_municipality_no_document_knows_is_refused(app):
    _ask(app, "Hvad er klagefristen for bostøtte i Odense Kommune?")
    reply = app.chat_message[-1]
    assert shown(reply.markdown[0].value) == REFUSAL


def test_follow_up_is_rewritten_and_shown(answering_app):
    _ask(answering_app, "Hvad er det maksimale caseload i CTI?")
    _ask(answering_app, "Og i ICM?")
    reply = answering_app.chat_message[-1]
    assert shown(reply.caption[0].value) == "Søgte efter: Hvad er det maksimale caseload i ICM?"
    assert "otte borgere" in shown(reply.markdown[0].value)
    assert [shown(m.markdown[0].value) for m in answering_app.chat_message if m.name == "user"] == [
        "Hvad er det maksimale caseload i CTI?",
        "Og i ICM?",
    ]


def test_example_button_asks_and_new_conversation_clears(app):
    app.button(key="example-Sagsbehandler-0").click().run()
    assert "4 uger" in " ".join(shown(m.value) for m in app.chat_message[-1].markdown)
    app.sidebar.button[0].click().run()
    assert not app.chat_message
    assert "Hvad er Housing First kort fortalt?" in [b.label for b in app.button]


def test_empty_input_is_ignored(app):
    _ask(app, "   ")
    assert not app.chat_message


def test_filter_adds_notice(answering_app):
    answering_app.sidebar.multiselect[1].set_value(["aarhus"]).run()
    _ask(answering_app, "Hvilke metoder bevilger Aarhus Kommune bostøtte efter?")
    captions = [shown(c.value) for c in answering_app.chat_message[-1].caption]
    assert any("afgrænset af et filter" in c for c in captions)
    assert answering_app.chat_message[-1].expander
    assert all(shown(e.label).endswith("koordinerende sagsbehandling") for e in answering_app.chat_message[-1].expander)


def test_feedback_is_stored(app, corpus_settings):
    db = feedback_path(corpus_settings.data_dir)
    before = len(list_feedback(db))
    _ask(app, "Hvad er klagefristen for en afgørelse efter § 85 a?")
    app.feedback[0].set_value(0).run()
    app.text_input[0].set_value("Mangler fristen for genvurdering").run()
    app.button(key="c0-0-send").click().run()
    rows = list_feedback(db)
    assert len(rows) == before + 1
    assert rows[-1]["helpful"] is False and rows[-1]["comment"] == "Mangler fristen for genvurdering"
    assert "Tak for din feedback." in [c.value for c in app.chat_message[-1].caption]


def test_missing_index_shows_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("HFA_DATA_DIR", str(tmp_path / "no-index"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert "hfa ingest" in at.error[0].value
    assert not at.chat_input


def test_language_model_answer_is_streamed_and_checked_in_the_app(app, monkeypatch):
    from tests.llm_servers import API_KEY, MODEL, OpenAIServer, Reply

    reply = Reply(content="En klage skal indgives inden 4 uger. [1] Klagen kan sendes med brevdue.")
    with OpenAIServer([reply, reply]) as server:
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        monkeypatch.setenv("HFA_LLM_MODEL", MODEL)
        monkeypatch.setenv("HFA_LLM_BASE_URL", server.url + "/v1")
        app.run()
        app.sidebar.selectbox[0].set_value("openai").run()
        app.chat_input[0].set_value("Hvad er klagefristen for en afgørelse efter § 85 a?").run(timeout=60)
        assert server.chat_requests(), "the app did not call the language model"
    page = shown(" ".join(m.value for m in app.chat_message[-1].markdown))
    assert "4 uger. [1]" in page
    captions = [shown(c.value) for c in app.chat_message[-1].caption]
    assert any("Uden støtte i kilderne: Klagen kan sendes med brevdue." in c for c in captions)
    assert any("ingen kildehenvisning" in c for c in captions)


def test_list_answer_is_a_bulleted_list(answering_app):
    _ask(answering_app, "Hvilke kerneprincipper bygger Housing First på?")
    answer = answering_app.chat_message[-1].markdown[0].value
    assert answer.count("<ul>") == 1 and answer.count("<li>") == 8
    assert shown(answer).startswith("Housing First bygger på følgende otte kerneprincipper: [1]")
    assert "<li>boligen som en basal menneskeret [1]</li>" in answer


def test_comparison_is_a_table_with_quotes_per_item(answering_app):
    _ask(answering_app, "Hvad er forskellen på ICM og CTI?")
    reply = answering_app.chat_message[-1]
    table = reply.table[0].value
    assert list(table.columns) == ["ICM", "CTI"]
    assert {"målgruppe", "caseload"} <= set(table.index)
    assert "otte borgere" in table.loc["caseload", "ICM"] and "10 borgere" in table.loc["caseload", "CTI"]
    assert "tidsubegrænset" in table.loc["varighed", "ICM"]  # "ICM-indsatsen er tidsubegrænset …"
    assert all(re.match(r"\[\d+\] ", cell) for cell in table.loc["målgruppe"])
    assert shown(reply.expander[0].label).startswith("[1] ")


def test_markdown_and_html_in_a_question_are_shown_as_typed(app):
    question = "Hvad er <b>ICM</b> og [ACT](https://example.org)?"
    _ask(app, question)
    [user] = [m for m in app.chat_message if m.name == "user"]
    value = user.markdown[0].value
    assert "<b>" not in value and "&lt;b&gt;ICM&lt;/b&gt;" in value
    assert shown(value) == question
