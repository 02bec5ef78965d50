"""CPR numbers are masked where a question enters, and feedback can be purged.

End to end with the real index, CLI, app and SQLite; only the language model is
a scripted loopback server (tests/llm_servers.py).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from assistant.answer import Answer
from assistant.cli import main
from assistant.feedback import feedback_path, list_feedback, purge_older_than, record
from assistant.privacy import CPR_NOTICE, CPR_PLACEHOLDER, mask_personal_numbers
from assistant.service import Assistant
from assistant.transcript import to_markdown
from hfa_settings import PROJECT_ROOT, Settings, load_settings
from tests.llm_servers import API_KEY, MODEL, OpenAIServer, Reply

CPR_QUESTION = "Min borger med cpr 010190-1234 har fået afslag på bostøtte efter § 85 a. Hvad er klagefristen?"
MASKED_QUESTION = (
    f"Min borger med cpr {CPR_PLACEHOLDER} har fået afslag på bostøtte efter § 85 a. Hvad er klagefristen?"
)
FOLLOW_UP = "Gælder det også, når cpr er 0101901234?"
CPR_COMMENT = "Svaret passede ikke til borgeren med cpr 010190-1234."
# Any trace of the number: both forms and its date part alone (a cut-off number is still personal data).
RAW = (b"010190-1234", b"0101901234", b"010190")
CITED = "Klagefristen er 4 uger [1]. Den gælder i Norddjurs Kommune [1]."
REWRITTEN = "Gælder klagefristen for afslag på bostøtte efter § 85 a også?"
APP = str(PROJECT_ROOT / "app.py")


# --- The masking itself -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("010190-1234", CPR_PLACEHOLDER),
        ("0101901234", CPR_PLACEHOLDER),
        ("cpr 290200-1234 (skudår)", f"cpr {CPR_PLACEHOLDER} (skudår)"),
        ("29. feb.: 2902231234", f"29. feb.: {CPR_PLACEHOLDER}"),  # any year may hold 29 February
        ("311299-4321, og 3112994321.", f"{CPR_PLACEHOLDER}, og {CPR_PLACEHOLDER}."),
        ("Borgeren (300675-0000) spørger", f"Borgeren ({CPR_PLACEHOLDER}) spørger"),
    ],
)
def test_cpr_numbers_with_a_real_birth_date_are_masked(text, expected):
    masked = mask_personal_numbers(text)
    assert (masked.text, masked.masked) == (expected, True)
    assert masked.notices == (CPR_NOTICE,)


@pytest.mark.parametrize(
    "text",
    [
        "Ring på 8753 5000 eller 87535000.",  # phone numbers
        "+45 87 53 50 00",
        "4587535000",  # a phone number with country code: day 45 does not exist
        "Afgørelsen er fra 03-04-2024.",  # a date
        "Hvad er klagefristen for en afgørelse efter § 85 a?",  # § numbers
        "§ 107 og § 108, stk. 1",
        "3201901234",  # day 32
        "3104901234",  # 31 April
        "3002901234",  # 30 February
        "0113901234",  # month 13
        "0001901234",  # day 00
        "010190-12345",  # more digits than a CPR number
        "12010190123",  # part of a longer number
        "010190 1234",  # not one of the two forms
    ],
)
def test_other_numbers_are_left_alone(text):
    masked = mask_personal_numbers(text)
    assert (masked.text, masked.masked, masked.notices) == (text, False, ())


# --- End to end: nothing holds the number -------------------------------------------------------


@pytest.fixture
def data_dir(corpus_settings: Settings, tmp_path: Path) -> Path:
    """A data directory of its own (a copy of the session's index), so every file in it can be scanned."""
    target = tmp_path / "data"
    shutil.copytree(corpus_settings.index_dir, target / "index")
    return target


def files_holding_the_number(data_dir: Path) -> list[str]:
    """Every file under ``data_dir`` (SQLite, logs, index) whose bytes hold any form of the number."""
    return [
        str(path.relative_to(data_dir))
        for path in sorted(data_dir.rglob("*"))
        if path.is_file() and any(raw in path.read_bytes() for raw in RAW)
    ]


def _llm_env(server: OpenAIServer) -> dict[str, str]:
    # DEBUG: the log file records every request to the model, and everything else that is logged.
    return {
        "OPENAI_API_KEY": API_KEY,
        "HFA_LLM_MODEL": MODEL,
        "HFA_LLM_BASE_URL": server.url + "/v1",
        "HFA_LOG_LEVEL": "DEBUG",
    }


@pytest.mark.usefixtures("restore_logging")
def test_a_cpr_number_never_reaches_the_model_the_disk_or_the_json(data_dir, embeddings, monkeypatch):
    runner = CliRunner()
    replies = [Reply(CITED), Reply(CITED), Reply(REWRITTEN), Reply(CITED), Reply(CITED)]
    with OpenAIServer(replies) as server:
        env = _llm_env(server)
        asked = runner.invoke(
            main, ["--data-dir", str(data_dir), "ask", CPR_QUESTION, "--json", "--mode", "openai"], env=env
        )
        chatted = runner.invoke(
            main,
            ["--data-dir", str(data_dir), "chat", "--json", "--mode", "openai"],
            input=f"{CPR_QUESTION}\n{FOLLOW_UP}\n",
            env=env,
        )
        # A rating with a comment, stored as the app stores it.
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = load_settings(data_dir=data_dir, llm_backend="openai")
        rated = Assistant.open(settings, embeddings).answer(CPR_QUESTION)
        record(feedback_path(data_dir), rated, helpful=False, comment=CPR_COMMENT)
        requests = server.chat_requests()
    assert asked.exit_code == 0, asked.output
    assert chatted.exit_code == 0, chatted.output

    # The model was asked (answer, follow-up rewrite) and saw the placeholder only.
    sent = [json.dumps(r["body"], ensure_ascii=False) for r in requests]
    assert len(sent) == 5
    assert not [body for body in sent if any(raw.decode() in body for raw in RAW)]
    assert all(CPR_PLACEHOLDER in body for body in sent[:2])
    rewrite = requests[2]["body"]["messages"][0]["content"]
    assert f"1. {MASKED_QUESTION}" in rewrite and "Gælder det også, når cpr er [CPR-nummer]?" in rewrite

    # The JSON echoes the masked question and says why.
    turns = [json.loads(asked.output), *(json.loads(line) for line in chatted.output.splitlines())]
    assert [t["question"] for t in turns] == [
        MASKED_QUESTION,
        MASKED_QUESTION,
        FOLLOW_UP.replace("0101901234", CPR_PLACEHOLDER),
    ]
    assert all(t["notices"][0] == CPR_NOTICE for t in turns)
    assert turns[0]["mode"] == "openai"

    # Feedback, the log of these runs and the index: no trace of the number.
    [row] = list_feedback(feedback_path(data_dir))
    assert (row["question"], row["comment"]) == (MASKED_QUESTION, CPR_COMMENT.replace("010190-1234", CPR_PLACEHOLDER))
    assert "HTTP Request: POST" in (data_dir / "logs" / "hfa.log").read_text(encoding="utf-8")
    assert files_holding_the_number(data_dir) == []


def test_the_terminal_answer_opens_with_the_notice(corpus_settings):
    result = CliRunner().invoke(main, ["--data-dir", str(corpus_settings.data_dir), "ask", CPR_QUESTION])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == CPR_NOTICE
    assert result.output.count(CPR_NOTICE) == 1
    assert "010190" not in result.output


def test_a_question_without_a_cpr_number_has_no_notice(assistant):
    answer = assistant.answer("Hvad er klagefristen for en afgørelse efter § 85 a?")
    assert CPR_NOTICE not in answer.notices


def test_a_masked_number_does_not_change_what_is_answered(assistant):
    # The placeholder stands in the question the user sees, but says nothing about what is asked.
    with_number = assistant.answer("Borgeren (010190-1234) spørger: hvad er ICM?")
    without = assistant.answer("Borgeren spørger: hvad er ICM?")
    assert with_number.question == f"Borgeren ({CPR_PLACEHOLDER}) spørger: hvad er ICM?"
    assert with_number.outcome == without.outcome
    assert with_number.sources()[0][1].chunk_id == without.sources()[0][1].chunk_id
    assert with_number.confidence == pytest.approx(without.confidence, abs=0.02)


# --- The app -------------------------------------------------------------------------------------


def _download(at: AppTest) -> str:
    """What "Download samtalen" offers: the transcript of the session's answers.

    (AppTest drops the media store holding the button's bytes when a run ends, so
    the transcript is made from the same answers, as ``app.download`` makes it.)
    """
    assert at.sidebar.download_button[0].label == "Download samtalen"
    return to_markdown([t.answer for t in at.session_state["turns"] if t.answer is not None])


def test_the_app_warns_masks_and_keeps_no_number(data_dir, monkeypatch):
    monkeypatch.setenv("HFA_DATA_DIR", str(data_dir))
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception, at.exception
    assert any("CPR-numre" in c.value for c in at.sidebar.caption)  # the reminder before anything is typed
    assert "CPR" in at.chat_input[0].placeholder

    at.chat_input[0].set_value(CPR_QUESTION).run()
    assert not at.exception, at.exception
    user, reply = at.chat_message[-2:]
    assert CPR_PLACEHOLDER in user.markdown[0].value and "010190" not in user.markdown[0].value
    assert [w.value for w in reply.warning] == [CPR_NOTICE]
    assert CPR_NOTICE not in [c.value for c in reply.caption]  # shown once, as the warning

    at.feedback[0].set_value(0).run()
    at.text_input[0].set_value(CPR_COMMENT).run()
    at.button(key="c0-0-send").click().run()
    assert list_feedback(feedback_path(data_dir))[-1]["comment"].startswith("Svaret passede ikke")

    transcript = _download(at)
    assert f"## 1. {MASKED_QUESTION}" in transcript and f"*{CPR_NOTICE}*" in transcript
    assert "010190" not in transcript
    assert files_holding_the_number(data_dir) == []


# --- Purging old feedback ----------------------------------------------------------------------


def _rate(db: Path, question: str, days_old: int) -> None:
    """A stored rating, dated ``days_old`` days back."""
    row = record(db, Answer(question, "Et svar.", False), helpful=True, comment=f"kommentar til {question}")
    created = (datetime.now(UTC) - timedelta(days=days_old)).isoformat(timespec="seconds")
    with closing(sqlite3.connect(db)) as connection, connection:
        connection.execute("UPDATE feedback SET created = ? WHERE id = ?", (created, row))


def test_purge_deletes_only_older_feedback_and_leaves_no_trace(tmp_path):
    data_dir = tmp_path / "data"
    db = feedback_path(data_dir)
    _rate(db, "Gammelt spørgsmål om ACT", 200)
    _rate(db, "Halvgammelt spørgsmål om ICM", 45)
    _rate(db, "Nyt spørgsmål om CTI", 1)
    runner = CliRunner()

    result = runner.invoke(main, ["--data-dir", str(data_dir), "feedback", "--purge-older-than", "30"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Slettede 2 feedback-svar, der var ældre end 30 dage."
    assert [r["question"] for r in list_feedback(db)] == ["Nyt spørgsmål om CTI"]
    # Overwritten, not just unlinked: the old questions and comments are gone from the file.
    assert b"ACT" not in db.read_bytes() and b"ICM" not in db.read_bytes()

    again = runner.invoke(main, ["--data-dir", str(data_dir), "feedback", "--purge-older-than", "30"])
    assert again.output.strip() == "Ingen feedback er ældre end 30 dage; intet er slettet."


def test_purge_without_a_number_uses_the_retention_setting(tmp_path):
    data_dir = tmp_path / "data"
    db = feedback_path(data_dir)
    _rate(db, "Gammelt spørgsmål", 100)
    _rate(db, "Nyere spørgsmål", 60)
    runner = CliRunner()
    args = ["--data-dir", str(data_dir), "feedback", "--purge-older-than"]

    assert runner.invoke(main, args).output.strip() == "Slettede 1 feedback-svar, der var ældre end 90 dage."
    assert [r["question"] for r in list_feedback(db)] == ["Nyere spørgsmål"]
    shorter = runner.invoke(main, args, env={"HFA_FEEDBACK_RETENTION_DAYS": "30"})
    assert shorter.output.strip() == "Slettede 1 feedback-svar, der var ældre end 30 dage."
    assert list_feedback(db) == []


def test_purge_refuses_bad_days_and_other_options(tmp_path):
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path), "feedback"]
    bad = runner.invoke(main, [*base, "--purge-older-than", "tre"])
    assert bad.exit_code == 2 and "ikke et helt antal dage" in bad.output
    assert runner.invoke(main, [*base, "--purge-older-than=-5"]).exit_code == 2
    both = runner.invoke(main, [*base, "--purge-older-than", "--export", str(tmp_path / "x.jsonl")])
    assert both.exit_code == 2 and "alene" in both.output
    assert purge_older_than(feedback_path(tmp_path / "none"), 30) == 0
    assert not (tmp_path / "none").exists()  # no database is made just to purge it
