"""User feedback on answers, kept in a small SQLite database."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from assistant.answer import Answer

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
    comment TEXT NOT NULL DEFAULT ''
)
"""


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
            yield connection
    except (sqlite3.Error, OSError) as exc:
        log.error("Feedbackdatabasen %s kan ikke bruges", db_path, exc_info=exc)
        raise FeedbackError(
            f"Feedbackdatabasen {db_path} kan ikke bruges ({exc}). Flyt filen væk (den oprettes igen), "
            "eller giv skriveadgang til mappen."
        ) from exc


def record(db_path: Path, answer: Answer, helpful: bool, comment: str = "") -> int:
    """Store a thumbs up (``helpful``) or down for an answer; returns the row id."""
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
                comment.strip(),
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
