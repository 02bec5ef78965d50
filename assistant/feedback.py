"""User feedback on answers, kept in a small SQLite database."""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from assistant.answer import Answer
from assistant.privacy import mask_personal_numbers

FEEDBACK_FILE = "feedback.sqlite"
log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    question TEXT NOT NULL,
    searched TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    citations TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (0, 1)),
    comment TEXT NOT NULL DEFAULT '',
    exported_to_gold TEXT
)
"""
# Columns added after the first release: name -> declaration for ALTER TABLE ADD COLUMN.
_ADDED_COLUMNS = {"exported_to_gold": "exported_to_gold TEXT"}


def feedback_path(data_dir: Path) -> Path:
    """Where the feedback database of a data directory lives."""
    return data_dir / FEEDBACK_FILE


class FeedbackError(RuntimeError):
    """The feedback database cannot be used (Danish message naming the file and the fix)."""


@contextmanager
def _database(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A connection with the schema in place, committed on success; any database error as FeedbackError."""
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(db_path)) as connection, connection:
            connection.row_factory = sqlite3.Row
            connection.execute(_SCHEMA)
            _migrate(connection)
            yield connection
    except (sqlite3.Error, OSError) as exc:
        log.error("Feedbackdatabasen %s kan ikke bruges", db_path, exc_info=exc)
        raise FeedbackError(
            f"Feedbackdatabasen {db_path} kan ikke bruges ({exc}). Flyt filen væk (den oprettes igen), "
            "eller giv skriveadgang til mappen."
        ) from exc


def _migrate(connection: sqlite3.Connection) -> None:
    """Add the columns a database made by an older version lacks (existing rows get NULL)."""
    present = {row["name"] for row in connection.execute("PRAGMA table_info(feedback)")}
    for name, declaration in _ADDED_COLUMNS.items():
        if name in present:
            continue
        try:
            connection.execute(f"ALTER TABLE feedback ADD COLUMN {declaration}")
        except sqlite3.OperationalError as exc:
            # Another process may have added it between our look and the ALTER.
            if "duplicate column" not in str(exc).lower():
                raise


def record(db_path: Path, answer: Answer, helpful: bool, comment: str = "") -> int:
    """Store a thumbs up (``helpful``) or down for an answer; returns the row id.

    The comment is typed by the user, so CPR numbers in it are masked as in a question.
    """
    citations = json.dumps([c.to_json() for c in answer.citations], ensure_ascii=False)
    with _database(db_path) as connection:
        cursor = connection.execute(
            "INSERT INTO feedback (created, question, searched, answer, refused, citations, rating, comment)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                datetime.now(UTC).isoformat(timespec="seconds"),
                answer.question,
                answer.searched or answer.question,
                answer.text,
                int(answer.refused),
                citations,
                int(helpful),
                mask_personal_numbers(comment.strip()).text,
            ),
        )
        return int(cursor.lastrowid or 0)


def list_feedback(db_path: Path) -> list[dict]:
    """All stored feedback, oldest first, with citations decoded (empty if none yet)."""
    if not db_path.is_file():
        return []
    with _database(db_path) as connection:
        rows = connection.execute("SELECT * FROM feedback ORDER BY id").fetchall()
    return [
        dict(row)
        | {"refused": bool(row["refused"]), "helpful": bool(row["rating"]), "citations": json.loads(row["citations"])}
        for row in rows
    ]


def purge_older_than(db_path: Path, days: int, now: datetime | None = None) -> int:
    """Delete the feedback given more than ``days`` days before ``now``; returns how many rows went.

    Deleted rows are overwritten in the file (``secure_delete``), not merely unlinked
    from it, so the questions and comments are gone from the disk. No database: 0.
    """
    if not db_path.is_file():
        return 0
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=days)).isoformat(timespec="seconds")
    with _database(db_path) as connection:
        connection.execute("PRAGMA secure_delete = ON")
        cursor = connection.execute("DELETE FROM feedback WHERE julianday(created) < julianday(?)", (cutoff,))
        return cursor.rowcount


# --- Thumbs-down feedback as gold-set candidates ------------------------------------------------

ANSWER_PREVIEW_CHARS = 300
CANDIDATE_CATEGORY = "ukendt"
CANDIDATE_TAG = "feedback"
_ENGLISH_WORDS = frozenset(
    "the a an what which who whom whose where when why how is are was were be does do did can could "
    "should must would will of in on to with and or my your their there this that".split()
)
_DANISH_WORDS = frozenset(
    "hvad hvilke hvilken hvilket hvem hvor hvornår hvorfor hvordan er var og i på til af med for om "
    "en et den det de der som at kan skal må bliver har min mit mine".split()
)
# Characters PyYAML refuses anywhere in a stream, comments included.
_NOT_YAML_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FILE_HEADER = """\
# Kandidater til guldsættet fra brugernes tommel ned (hfa feedback --to-gold).
# Ingen af dem er nøglet endnu. For hvert element: udfyld evidence (doc_id og et ordret citat
# fra én linje i kilden) og facts, sæt category (uden-for-kilderne, hvis kilderne ikke svarer;
# så forbliver evidence og facts tomme), giv det et rigtigt id, og flyt det til eval/gold.yaml.
"""


def guess_lang(question: str) -> str:
    """``"en"`` if the question has more English than Danish function words, else ``"da"``."""
    words = re.findall(r"\w+", question.lower())
    english = sum(word in _ENGLISH_WORDS for word in words)
    danish = sum(word in _DANISH_WORDS for word in words)
    return "en" if english > danish else "da"


def gold_candidates(db_path: Path, include_exported: bool = False) -> list[dict[str, Any]]:
    """Thumbs-down feedback, oldest first; without ``include_exported`` only rows not yet exported."""
    return [
        row
        for row in list_feedback(db_path)
        if not row["helpful"] and (include_exported or row.get("exported_to_gold") is None)
    ]


def mark_exported(db_path: Path, ids: Sequence[int], target: Path) -> None:
    """Record that these feedback rows were written as gold candidates to ``target``."""
    stamp = f"{datetime.now(UTC).isoformat(timespec='seconds')} {target}"
    with _database(db_path) as connection:
        connection.executemany("UPDATE feedback SET exported_to_gold = ? WHERE id = ?", [(stamp, i) for i in ids])


def _comment(text: str, indent: str = "") -> list[str]:
    """``text`` as YAML comment lines (every line prefixed, so no input can break the YAML)."""
    clean = _NOT_YAML_PRINTABLE.sub("?", text)
    return [f"# {indent}{line}".rstrip() for line in clean.splitlines() or [""]]


def _citation_comment(citation: dict[str, Any]) -> list[str]:
    """One cited quote with where it comes from, as comment lines."""
    where = f"doc_id: {citation.get('doc_id', '?')}, afsnit: {citation.get('section') or '—'}"
    if citation.get("page"):
        where += f", s. {citation['page']}"
    return _comment(f"[{citation.get('n', '?')}] {where}", "  ") + _comment(
        f"citat: {citation.get('quote', '')}", "    "
    )


def _candidate_comments(row: dict[str, Any]) -> list[str]:
    """What the trainer needs to key the candidate: date, comment, the answer seen and its quotes."""
    answer = row["answer"]
    preview = answer[:ANSWER_PREVIEW_CHARS] + ("…" if len(answer) > ANSWER_PREVIEW_CHARS else "")
    refusal = " (svaret var en afvisning)" if row["refused"] else ""
    lines = _comment(f"Feedback {row['id']}, {row['created']} — tommel ned{refusal}")
    lines += _comment(f"Brugerens kommentar: {row['comment'] or '(ingen)'}")
    if row["searched"] != row["question"]:
        lines += _comment(f"standalone: {row['searched']}")
    lines += _comment(f"Svaret brugeren så (første {ANSWER_PREVIEW_CHARS} tegn):")
    lines += _comment(preview, "  ")
    lines += _comment("Citater i svaret:" if row["citations"] else "Citater i svaret: (ingen)")
    for citation in row["citations"]:
        lines += _citation_comment(citation)
    return lines


def candidate_item(row: dict[str, Any]) -> dict[str, Any]:
    """A feedback row as an unkeyed gold item (same keys as the items of ``eval/gold.yaml``)."""
    return {
        "id": f"kandidat-{row['id']}",
        "question": row["question"],
        "lang": guess_lang(row["question"]),
        "category": CANDIDATE_CATEGORY,
        "tags": [CANDIDATE_TAG],
        "evidence": [],
        "facts": [],
    }


def candidates_yaml(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as a YAML list of gold candidates, each with its context as comments above it."""
    blocks = [_FILE_HEADER]
    for row in rows:
        item = yaml.safe_dump(
            [candidate_item(row)], allow_unicode=True, sort_keys=False, default_flow_style=None, width=10**6
        )
        blocks.append("\n".join(_candidate_comments(row)) + "\n" + item)
    return "\n".join(blocks)


def write_new_file(path: Path, text: str, force: bool = False) -> None:
    """Write ``text`` atomically (temporary file, then link or replace); never overwrite unless ``force``.

    Raises:
        FileExistsError: ``path`` exists and ``force`` is not set (the file is left as it was).
    """
    if path.exists() and not force:
        raise FileExistsError(path)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        os.fchmod(handle, 0o644)  # mkstemp makes it private; the candidates are meant to be shared.
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if force:
            os.replace(temp, path)
        else:
            os.link(temp, path)  # Fails if the file appeared meanwhile: no overwrite even in a race.
    finally:
        temp.unlink(missing_ok=True)


def export_gold_candidates(db_path: Path, target: Path, include_exported: bool = False, force: bool = False) -> int:
    """Write thumbs-down feedback as gold candidates to ``target`` and mark it exported.

    Returns the number written; with none to write, no file is written and 0 is returned.

    Raises:
        FileExistsError: ``target`` exists and ``force`` is not set.
        FeedbackError: the database cannot be used.
        OSError: the file cannot be written.
    """
    rows = gold_candidates(db_path, include_exported)
    if not rows:
        return 0
    write_new_file(target, candidates_yaml(rows), force)
    mark_exported(db_path, [row["id"] for row in rows], target)
    return len(rows)
