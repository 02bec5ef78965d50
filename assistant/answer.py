"""The answer a user sees, and its JSON form (a stable contract: eval and outside checks read it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from assistant.privacy import PRIVACY_NOTICES
from assistant.retrieval import Passage
from ingest.documents import Chunk
from ingest.vocabulary import NATIONAL

NOT_DESCRIBED = "ikke beskrevet i kilderne"


@dataclass(frozen=True)
class Citation:
    """A quoted unit (sentence, heading with text, label block, list item) and the passage ``[n]`` it is from.

    ``chunk.text[start:end] == quote``: every quote is verbatim.
    """

    n: int
    chunk: Chunk
    quote: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        """The citation as in ``hfa ask --json``."""
        c = self.chunk
        return {
            "n": self.n,
            "doc_id": c.doc_id,
            "title": c.title,
            "issuer": c.issuer,
            "scope": c.scope,
            "section": c.section,
            "page": c.page,
            "quote": self.quote,
            "chunk_id": c.chunk_id,
            "quote_start": self.start,
            "quote_end": self.end,
        }


@dataclass(frozen=True)
class Table:
    """A comparison: one row per aspect, one column per compared item; cells hold citation numbers.

    An empty cell means the sources describe nothing for that item and aspect.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[tuple[int, ...], ...]], ...]
    # Per row and cell the quoted units as shown, one per number: a passage may
    # be quoted in several cells with different units (empty: not recorded).
    quotes: tuple[tuple[tuple[str, ...], ...], ...] = ()

    def cell_quotes(self, row: int, column: int) -> list[tuple[int, str]]:
        """The numbers of one cell with the text quoted under each (empty when not recorded)."""
        if not self.quotes:
            return []
        return list(zip(self.rows[row][1][column], self.quotes[row][column], strict=True))

    def to_json(self) -> dict[str, Any]:
        """``{"columns": [...], "rows": [{"aspect": ..., "cells": [[n, ...], ...], "quotes": [[text, ...], ...]}]}``."""
        rows = [{"aspect": aspect, "cells": [list(cell) for cell in cells]} for aspect, cells in self.rows]
        for row, quotes in zip(rows, self.quotes, strict=False):
            row["quotes"] = [list(cell) for cell in quotes]
        return {"columns": list(self.columns), "rows": rows}


@dataclass(frozen=True)
class Answer:
    """An answer with its citations and the passages it was drawn from (immutable).

    ``question`` is what the user typed; ``searched`` the standalone question
    that was answered (a follow-up rewritten with its context). ``kind`` is the
    form of the answer: ``list``, ``comparison``, ``value``, ``rule``,
    ``definition``, ``open`` (for ``nearest``: the form the sources would answer
    in) or ``refusal`` (not covered). ``outcome`` is ``answer``, ``nearest`` or
    ``not_covered`` (then ``refused``); ``confidence`` the calibrated
    probability that an answer from these sources is right.
    """

    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    searched: str = ""
    mode: str = "extractive"
    kind: str = "open"
    table: Table | None = None
    notices: tuple[str, ...] = ()
    # Generated sentences that no cited passage supports, and why a generated
    # answer was replaced by the extractive one (None when it was not).
    unsupported_sentences: tuple[str, ...] = ()
    fallback_reason: str | None = None
    outcome: str = "answer"
    confidence: float | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def sources(self) -> list[tuple[int, Chunk]]:
        """Each cited passage once, by its number."""
        return numbered_sources(self.citations)

    @property
    def by_scope(self) -> dict[str, list[int]]:
        """The citation numbers per scope of their source ("national", "norddjurs" …), national first."""
        scopes: dict[str, list[int]] = {}
        for n, chunk in self.sources():
            scopes.setdefault(chunk.scope, []).append(n)
        return dict(sorted(scopes.items(), key=lambda item: item[0] != NATIONAL))

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``hfa ask --json`` and ``hfa chat --json``."""
        return {
            "question": self.question,
            "searched": self.searched or self.question,
            "answer": self.text,
            "refused": self.refused,
            "kind": self.kind,
            "table": self.table.to_json() if self.table else None,
            "mode": self.mode,
            "unsupported_sentences": list(self.unsupported_sentences),
            "fallback_reason": self.fallback_reason,
            "outcome": self.outcome,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "notices": list(self.notices),
            "citations": [c.to_json() for c in self.citations],
            "by_scope": self.by_scope,
            "passages": [passage_json(p) for p in self.passages],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


def numbered_sources(citations: Iterable[Citation]) -> list[tuple[int, Chunk]]:
    """Each cited passage once, by its number."""
    seen: dict[int, Chunk] = {}
    for citation in citations:
        seen.setdefault(citation.n, citation.chunk)
    return sorted(seen.items())


def passage_json(p: Passage) -> dict[str, Any]:
    """A passage as in the JSON contract."""
    return {
        "rank": p.rank,
        "doc_id": p.chunk.doc_id,
        "title": p.chunk.title,
        "issuer": p.chunk.issuer,
        "scope": p.chunk.scope,
        "kind": p.chunk.kind,
        "section": p.chunk.section,
        "page": p.chunk.page,
        "chunk_id": p.chunk.chunk_id,
        "text": p.chunk.text,
        "score": round(p.score, 6),
        "dense": None if p.dense is None else round(p.dense, 4),
    }


def source_label(chunk: Chunk) -> str:
    """``Title (issuer) › section, s. N`` — how a source is named to the user."""
    page = f", s. {chunk.page}" if chunk.page is not None else ""
    return f"{chunk.header()}{page}"


def table_text(answer: Answer, width: int = 40) -> list[str]:
    """A comparison table as aligned terminal lines: markers per cell, "–" where the sources say nothing."""
    if answer.table is None:
        return []
    table = answer.table

    def cell(numbers: tuple[int, ...]) -> str:
        return " ".join(f"[{n}]" for n in numbers) or "–"

    header = ["", *table.columns]
    body = [[aspect, *(cell(c) for c in cells)] for aspect, cells in table.rows]
    widths = [min(width, max(len(row[i]) for row in [header, *body])) for i in range(len(header))]
    return [" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in [header, *body]]


def format_text(answer: Answer) -> str:
    """The answer as plain text for the terminal: the answer, a table if any, the numbered sources, notices.

    A notice about personal data removed from the question stands above the answer, where it is read.
    """
    lines = [n for n in answer.notices if n in PRIVACY_NOTICES]
    lines += [answer.text, ""]
    table = table_text(answer)
    if table:
        lines += [*table, ""]
    lines += [f"[{n}] {source_label(chunk)}" for n, chunk in answer.sources()]
    lines += [n for n in answer.notices if n not in PRIVACY_NOTICES]
    lines += [f"Uden støtte i kilderne: {s}" for s in answer.unsupported_sentences]
    if answer.confidence is not None and not answer.refused:
        lines.append(f"Sikkerhed: {answer.confidence:.0%}")
    return "\n".join(lines).rstrip()
