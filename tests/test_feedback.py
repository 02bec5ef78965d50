"""Feedback storage (real SQLite), its CLI, the chat REPL and the Markdown transcript."""

from __future__ import annotations

import json
import sqlite3

import pytest
import yaml
from click.testing import CliRunner

from assistant.cli import main
from assistant.feedback import feedback_path, guess_lang, list_feedback, record
from assistant.transcript import to_markdown
from eval.gold import load_gold

RULE_QUESTION = "Hvad er klagefristen for en afgørelse efter § 85 a?"
GOLD_KEYS = {"id", "question", "lang", "category", "tags", "evidence", "facts"}
# The table as the first release created it (before exported_to_gold).
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    question TEXT NOT NULL,
    searched TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    citations TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (0, 1)),
    comment TEXT NOT NULL DEFAULT ''
)
"""


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
    refused = assistant.answer("Hvad er klagefristen for bostøtte i Odense Kommune?")
    nearest = assistant.answer("Hvad er satsen for kontanthjælp i 2025?")
    first = assistant.answer("Hvad er det maksimale caseload i CTI?")
    follow_up = assistant.answer("Og i ICM?", history=[first])
    assert (follow_up.question, follow_up.searched) == ("Og i ICM?", "Hvad er det maksimale caseload i ICM?")
    markdown = to_markdown([rule_answer, refused, follow_up, nearest])
    assert f"## 1. {RULE_QUESTION}" in markdown and "## 3. Og i ICM?" in markdown
    for citation in rule_answer.citations + follow_up.citations + nearest.citations:
        assert f"> {citation.quote}" in markdown
        assert f"**[{citation.n}]**" in markdown
    assert refused.refused and refused.text in markdown
    assert nearest.outcome == "nearest" and nearest.text.splitlines()[0] in markdown
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


def _to_gold(data_dir, target, *flags):
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), "feedback", "--to-gold", str(target), *flags])


def _items(path):
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(items, list) and all(isinstance(item, dict) and set(item) == GOLD_KEYS for item in items)
    return items


def test_to_gold_writes_only_thumbs_down_as_unkeyed_candidates(tmp_path, rule_answer):
    data_dir = tmp_path / "data"
    db = feedback_path(data_dir)
    down = record(db, rule_answer, helpful=False, comment="Fristen for Aarhus mangler i svaret")
    record(db, rule_answer, helpful=True, comment="Godt og præcist svar")
    target = tmp_path / "kandidater.yaml"
    result = _to_gold(data_dir, target)
    assert result.exit_code == 0, result.output
    assert "Skrev 1 kandidat til guldsættet" in result.output and "eval/gold.yaml" in result.output
    assert _items(target) == [
        {
            "id": f"kandidat-{down}",
            "question": RULE_QUESTION,
            "lang": "da",
            "category": "ukendt",
            "tags": ["feedback"],
            "evidence": [],
            "facts": [],
        }
    ]
    comments = [line for line in target.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    assert "# Brugerens kommentar: Fristen for Aarhus mangler i svaret" in comments
    assert not any("Godt og præcist" in line for line in comments)
    preview = rule_answer.text[:300] + ("…" if len(rule_answer.text) > 300 else "")
    for line in preview.splitlines():
        assert f"#   {line}".rstrip() in comments  # the answer the user saw, line by line
    assert rule_answer.citations
    for citation in rule_answer.citations:
        assert any(citation.chunk.doc_id in line and citation.chunk.section in line for line in comments)
        assert f"#     citat: {citation.quote.splitlines()[0]}".rstrip() in comments
    assert not any(line.startswith("# standalone:") for line in comments)


def test_a_keyed_candidate_loads_as_a_gold_item(tmp_path, rule_answer):
    data_dir = tmp_path / "data"
    record(feedback_path(data_dir), rule_answer, helpful=False)
    target = tmp_path / "kandidater.yaml"
    assert _to_gold(data_dir, target).exit_code == 0
    [item] = _items(target)
    quote = next(c for c in rule_answer.citations if "4 uger" in c.quote)
    item |= {"category": "regler", "facts": ["4 uger"], "evidence": [{"doc_id": quote.chunk.doc_id, "quote": "4 uger"}]}
    keyed = tmp_path / "gold.yaml"
    keyed.write_text(yaml.safe_dump([item], allow_unicode=True), encoding="utf-8")
    [gold] = load_gold(keyed)
    assert (gold.question, gold.lang, gold.tags) == (RULE_QUESTION, "da", ("feedback",))


def test_to_gold_skips_exported_rows_unless_all(tmp_path, rule_answer):
    data_dir = tmp_path / "data"
    db = feedback_path(data_dir)
    first = record(db, rule_answer, helpful=False, comment="Forkert")
    assert _to_gold(data_dir, tmp_path / "a.yaml").exit_code == 0
    assert list_feedback(db)[0]["exported_to_gold"].endswith("a.yaml")

    again = _to_gold(data_dir, tmp_path / "b.yaml")
    assert again.exit_code == 0, again.output
    assert "skrevet ud før" in again.output and "--all" in again.output
    assert not (tmp_path / "b.yaml").exists()

    second = record(db, rule_answer, helpful=False, comment="Også forkert")
    assert _to_gold(data_dir, tmp_path / "c.yaml").exit_code == 0
    assert [item["id"] for item in _items(tmp_path / "c.yaml")] == [f"kandidat-{second}"]

    everything = _to_gold(data_dir, tmp_path / "d.yaml", "--all")
    assert everything.exit_code == 0 and "Skrev 2 kandidater" in everything.output
    assert [item["id"] for item in _items(tmp_path / "d.yaml")] == [f"kandidat-{first}", f"kandidat-{second}"]


def test_to_gold_without_thumbs_down_writes_nothing(tmp_path, rule_answer):
    data_dir = tmp_path / "data"
    target = tmp_path / "kandidater.yaml"
    assert "ingen feedback med tommel ned" in _to_gold(data_dir, target).output
    record(feedback_path(data_dir), rule_answer, helpful=True)
    result = _to_gold(data_dir, target, "--all")
    assert result.exit_code == 0 and "ingen feedback med tommel ned" in result.output
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [data_dir]  # no temporary file left behind either


def test_to_gold_refuses_an_existing_file_without_force(tmp_path, rule_answer):
    data_dir = tmp_path / "data"
    record(feedback_path(data_dir), rule_answer, helpful=False)
    target = tmp_path / "kandidater.yaml"
    target.write_text("# trænerens egne noter\n", encoding="utf-8")
    refused = _to_gold(data_dir, target)
    assert refused.exit_code == 1 and "findes allerede" in refused.output and "--force" in refused.output
    assert target.read_text(encoding="utf-8") == "# trænerens egne noter\n"
    assert list_feedback(feedback_path(data_dir))[0]["exported_to_gold"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "kandidater.yaml"]

    forced = _to_gold(data_dir, target, "--force")
    assert forced.exit_code == 0, forced.output
    assert len(_items(target)) == 1


def test_to_gold_reads_a_database_with_the_old_schema(tmp_path, rule_answer):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = feedback_path(data_dir)
    citations = json.dumps([c.to_json() for c in rule_answer.citations], ensure_ascii=False)
    with sqlite3.connect(db) as connection:
        connection.execute(OLD_SCHEMA)
        connection.execute(
            "INSERT INTO feedback (created, question, searched, answer, refused, citations, rating, comment)"
            " VALUES ('2024-05-01T09:00:00+00:00', ?, ?, ?, 0, ?, 0, 'Gammel kommentar')",
            (RULE_QUESTION, RULE_QUESTION, rule_answer.text, citations),
        )
    connection.close()
    target = tmp_path / "kandidater.yaml"
    result = _to_gold(data_dir, target)
    assert result.exit_code == 0, result.output
    assert [item["id"] for item in _items(target)] == ["kandidat-1"]
    text = target.read_text(encoding="utf-8")
    assert "2024-05-01T09:00:00+00:00" in text and "# Brugerens kommentar: Gammel kommentar" in text
    with sqlite3.connect(db) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(feedback)")}
    connection.close()
    assert "exported_to_gold" in columns
    assert record(db, rule_answer, helpful=True) == 2
    assert "skrevet ud før" in _to_gold(data_dir, tmp_path / "igen.yaml").output


def test_to_gold_keeps_the_standalone_question_and_odd_comments_as_comments(tmp_path, assistant):
    first = assistant.answer("Hvad er det maksimale caseload i CTI?")
    follow_up = assistant.answer("Og i ICM?", history=[first])
    data_dir = tmp_path / "data"
    record(feedback_path(data_dir), follow_up, helpful=False, comment="Forkert tal\n- id: snyd\x07\nquestion: x")
    target = tmp_path / "kandidater.yaml"
    assert _to_gold(data_dir, target).exit_code == 0
    [item] = _items(target)
    assert item["question"] == "Og i ICM?"
    lines = target.read_text(encoding="utf-8").splitlines()
    assert "# standalone: Hvad er det maksimale caseload i ICM?" in lines
    assert "# - id: snyd?" in lines and "# question: x" in lines


def test_guess_lang():
    assert guess_lang("What is the maximum caseload per ICM worker according to the national manual?") == "en"
    assert guess_lang("How often should the fidelity form be filled in?") == "en"
    assert guess_lang(RULE_QUESTION) == "da"
    assert guess_lang("Og i ICM?") == "da"


def test_all_and_force_need_to_gold(tmp_path):
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "feedback", "--all"])
    assert result.exit_code == 2 and "--to-gold" in result.output
