"""A draft answer being put together: numbered sources, the citations of the units quoted, how units are shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer import Citation, Table
from assistant.retrieval import Passage
from assistant.units import Unit


@dataclass(frozen=True)
class Draft:
    """An extractive answer before notices: its text, citations, form, outcome and confidence.

    ``outcome`` is ``answer``, ``nearest`` (the nearest the sources say, not
    claimed to answer) or ``not_covered``; ``confidence`` the calibrated
    probability that an answer from these sources is right (None: not estimated).
    """

    text: str
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    kind: str
    table: Table | None = None
    outcome: str = "answer"
    confidence: float | None = None


class Numbering:
    """Numbers sources ``[n]`` by first use and collects the citations and the passages they are from."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        self.numbers: dict[str, int] = {}
        self.citations: list[Citation] = []

    @classmethod
    def continuing(cls, draft: Draft) -> Numbering:
        """A numbering that goes on from a draft's: its sources keep their numbers, new ones follow."""
        numbering = cls(draft.passages)
        numbering.citations = list(draft.citations)
        for citation in draft.citations:
            numbering.numbers.setdefault(citation.chunk.chunk_id, citation.n)
        return numbering

    def cite(self, unit: Unit) -> int:
        """Cite every span of a unit under its chunk's number; returns the number."""
        chunk = unit.chunk
        n = self.numbers.setdefault(chunk.chunk_id, len(self.numbers) + 1)
        if all(p.chunk.chunk_id != chunk.chunk_id for p in self.passages):
            self.passages.append(Passage(len(self.passages) + 1, chunk, 0.0, None, 0.0))
        for start, end in unit.spans:
            if not any(c.chunk.chunk_id == chunk.chunk_id and c.start == start for c in self.citations):
                self.citations.append(Citation(n, chunk, chunk.text[start:end], start, end))
        return n

    def draft(self, text: str, kind: str, table: Table | None = None) -> Draft:
        """The draft answer with what was cited."""
        return Draft(text, tuple(self.citations), tuple(self.passages), kind, table)


def shown(unit: Unit) -> str:
    """A unit as it stands in the answer text: lines of a block joined, spaces normalised."""
    if unit.kind == "block":
        return ", ".join(" ".join(line.split()) for line in unit.quotes()[0].splitlines() if line.strip())
    if unit.kind == "list":
        intro, *items = unit.quotes()
        return "\n".join([" ".join(intro.split()), *(f"- {' '.join(i.split())}" for i in items)])
    return unit.separator().join(" ".join(q.split()) for q in unit.quotes())
