"""Feedback storage (real SQLite), its CLI, the chat REPL and the Markdown transcript."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.feedback import feedback_path, list_feedback, record
from assistant.transcript import to_markdown

RULE_QUESTION = "Hvad er klagefristen for en afgørelse efter § 85 a?"


@pytest.fixture(scope="module")
def rule_answer(assistant):
    return assistant.answer(RULE_QUESTION)


def test_record_and_list_round_trip(tmp_path, rule_answer):
    db = feedback_path(tmp_path / "data")
    assert list_feedback(db) == []
    first = record(db, rule_answer, helpful=True, comment="  Præcist svar ")
    second = record(db, rule_answer, helpful=False)
    assert second > first
    rows = list_feedback(db)
    assert [r["helpful"] for r in rows] == [True, False]
    assert rows[0]["question"] == RULE_QUESTION
    assert rows[0]["answer"] == rule_answer.text
    assert rows[0]["comment"] == "Præcist svar"
    assert rows[0]["citations"] == [c.to_json() for c in rule_answer.citations]
    assert any("4 uger" in c["quote"] for c in rows[0]["citations"])


def test_feedback_command_lists_and_exports(tmp_path, rule_answer):
    runner = CliRunner()
    data_dir = tmp_path / "data"
    empty = runner.invoke(main, ["--data-dir", str(data_dir), "feedback"])
    assert empty.exit_code == 0 and "ingen feedback" in empty.output
    record(feedback_path(data_dir), rule_answer, helpful=False, comment="Mangler kilde")
    listed = runner.invoke(main, ["--data-dir", str(data_dir), "feedback"])
    assert "Mangler kilde" in listed.output and "0 op, 1 ned" in listed.output
    out = tmp_path / "feedback.jsonl"
    exported = runner.invoke(main, ["--data-dir", str(data_dir), "feedback", "--export", str(out)])
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["question"] == RULE_QUESTION and rows[0]["helpful"] is False


def test_transcript_has_every_citation_and_quote(assistant, rule_answer):
    refused = assistant.answer("Hvad er satsen for kontanthjælp i 2025?")
    first = assistant.answer("Hvad er det maksimale caseload i CTI?")
    follow_up = assistant.answer("Og i ICM?", history=[first])
    assert (follow_up.question, follow_up.searched) == ("Og i ICM?", "Hvad er det maksimale caseload i ICM?")
    markdown = to_markdown([rule_answer, refused, follow_up])
    assert f"## 1. {RULE_QUESTION}" in markdown and "## 3. Og i ICM?" in markdown
    for citation in rule_answer.citations + follow_up.citations:
        assert f"> {citation.quote}" in markdown
        assert f"**[{citation.n}]**" in markdown
    assert refused.refused and "Nærmeste passager" in markdown
    assert "*Søgte efter: Hvad er det maksimale caseload i ICM?*" in markdown


def test_chat_rewrites_follow_ups_until_an_empty_line(corpus_settings):
    result = CliRunner().invoke(
        main,
        ["--data-dir", str(corpus_settings.data_dir), "chat"],
        input="Hvad er det maksimale caseload i CTI?\nOg i ICM?\n\nOg i ICM?\n",
    )
    assert result.exit_code == 0, result.output
    assert "10 borgere" in result.output
    assert "otte borgere" in result.output
    # After the empty line, a new conversation: the second "Og i ICM?" has nothing to lean on.
    assert result.output.count("(Søgte efter:") == 1
    assert "(Søgte efter: Hvad er det maksimale caseload i ICM?)" in result.output


def test_chat_without_index_names_the_fix(tmp_path):
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "none"), "chat"], input="Hvad er ICM?\n")
    assert result.exit_code == 1
    assert "hfa ingest" in result.output
