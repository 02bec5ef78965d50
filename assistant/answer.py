"""The answer a user sees, and its JSON form (a stable contract: eval and outside checks read it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.retrieval import Passage
from ingest.documents import Chunk

SCOPE_NAMES = {"national": "national", "norddjurs": "Norddjurs Kommune", "aarhus": "Aarhus Kommune"}


@dataclass(frozen=True)
class Citation:
    """A quoted sentence and the passage ``[n]`` it is taken from verbatim."""

    n: int
    chunk: Chunk
    quote: str
    start: int
    end: int

    def to_json(self) -> dict:
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


@dataclass
class Answer:
    """An answer with its citations and the passages it was drawn from."""

    question: str
    text: str
    refused: bool
    citations: list[Citation]
    passages: list[Passage]
    searched: str = ""
    mode: str = "extractive"
    notices: list[str] = field(default_factory=list)
    # Generated sentences without any [n] marker, and why a generated answer was
    # replaced by the extractive one (None when it was not).
    unsupported_sentences: list[str] = field(default_factory=list)
    fallback_reason: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def sources(self) -> list[tuple[int, Chunk]]:
        """Each cited passage once, by its number."""
        seen: dict[int, Chunk] = {}
        for citation in self.citations:
            seen.setdefault(citation.n, citation.chunk)
        return sorted(seen.items())

    def to_json(self) -> dict:
        """The JSON object of ``hfa ask --json``."""
        return {
            "question": self.question,
            "searched": self.searched or self.question,
            "answer": self.text,
            "refused": self.refused,
            "mode": self.mode,
            "unsupported_sentences": self.unsupported_sentences,
            "fallback_reason": self.fallback_reason,
            "notices": self.notices,
            "citations": [c.to_json() for c in self.citations],
            "passages": [
                {
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
                for p in self.passages
            ],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


def source_label(chunk: Chunk) -> str:
    """``Title (issuer) › section, s. N`` — how a source is named to the user."""
    page = f", s. {chunk.page}" if chunk.page is not None else ""
    return f"{chunk.header()}{page}"


def format_text(answer: Answer, with_text: bool = True) -> str:
    """The answer as plain text for the terminal: sentences, then the numbered sources.

    ``with_text=False`` leaves out the sentences, for an answer already streamed to the terminal.
    """
    lines = [answer.text, ""] if with_text else [""]
    lines += [f"[{n}] {source_label(chunk)}" for n, chunk in answer.sources()]
    if answer.refused and answer.passages:
        lines.append("Nærmeste passager:")
        lines += [f"  - {source_label(p.chunk)}" for p in answer.passages[:3]]
    lines += answer.notices
    return "\n".join(lines).rstrip()
