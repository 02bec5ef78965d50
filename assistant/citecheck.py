"""Check the [n] citations of a generated answer against the passages the model was given.

Pure functions. A marker must name a given passage (others are removed and
reported); every sentence must carry a marker (the others are listed as
unsupported); each cited passage is quoted with its sentence that best matches
the generated sentence, verbatim, so a reader can see what the claim rests on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answer import Citation
from assistant.retrieval import Passage
from ingest.text import sentence_spans, terms

# What the system prompt tells the model to write when the passages do not answer.
REFUSAL_PHRASE = "Kilderne svarer ikke på spørgsmålet"

# "[1]", "[2, 3]" and "[2][3]" (the latter as two markers).
MARKER = re.compile(r"\s?\[(\d+(?:\s*,\s*\d+)*)\]")
# Markers placed after the full stop belong to the sentence before it.
_MARKERS_AFTER_STOP = re.compile(r"([.!?])((?:\s?\[\d+(?:\s*,\s*\d+)*\])+)")


@dataclass(frozen=True)
class CheckedSentence:
    """A generated sentence and the passage numbers it cites."""

    text: str
    cited: tuple[int, ...]


@dataclass(frozen=True)
class CitationCheck:
    """The answer with invalid markers removed, sentence by sentence."""

    text: str
    sentences: list[CheckedSentence]
    invalid: list[int]

    @property
    def cited(self) -> list[int]:
        """The valid passage numbers cited anywhere, in order of first use."""
        return list(dict.fromkeys(n for s in self.sentences for n in s.cited))

    @property
    def unsupported(self) -> list[str]:
        """Sentences that make a claim without a marker (a line introducing a list is exempt)."""
        return [s.text for s in self.sentences if not s.cited and not s.text.endswith(":")]


def _numbers(marker: re.Match[str]) -> list[int]:
    return [int(n) for n in marker.group(1).split(",")]


def check_citations(text: str, passage_count: int) -> CitationCheck:
    """Validate the markers of ``text`` against passages numbered 1..``passage_count``."""
    invalid: list[int] = []

    def keep_valid(marker: re.Match[str]) -> str:
        numbers = _numbers(marker)
        valid = [n for n in numbers if 1 <= n <= passage_count]
        invalid.extend(n for n in numbers if n not in valid)
        return f" [{', '.join(map(str, valid))}]" if valid else ""

    cleaned = MARKER.sub(keep_valid, text.strip()).strip()
    normalized = _MARKERS_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), cleaned)
    sentences = []
    for start, end in sentence_spans(normalized):
        sentence = normalized[start:end]
        cited = tuple(dict.fromkeys(n for m in MARKER.finditer(sentence) for n in _numbers(m)))
        bare = " ".join(MARKER.sub("", sentence).split()).lstrip("-*• ")
        if bare.strip(".!?"):
            sentences.append(CheckedSentence(bare, cited))
    return CitationCheck(cleaned, sentences, sorted(set(invalid)))


def is_refusal(text: str) -> bool:
    """Whether the model said that the passages do not answer the question."""
    return REFUSAL_PHRASE.lower() in " ".join(text.lower().split())


def best_sentence(claim: str, passage_text: str) -> tuple[int, int]:
    """Offsets of the passage sentence that shares most of the claim's terms."""
    claim_terms = set(terms(claim))
    spans = sentence_spans(passage_text) or [(0, len(passage_text))]
    return max(spans, key=lambda span: len(claim_terms & set(terms(passage_text[slice(*span)]))))


def build_citations(check: CitationCheck, passages: list[Passage]) -> list[Citation]:
    """One citation per cited passage and supporting sentence, quoted verbatim from the passage."""
    citations: dict[tuple[int, int], Citation] = {}
    for sentence in check.sentences:
        for n in sentence.cited:
            chunk = passages[n - 1].chunk
            start, end = best_sentence(sentence.text, chunk.text)
            citations.setdefault((n, start), Citation(n, chunk, chunk.text[start:end], start, end))
    return sorted(citations.values(), key=lambda c: (check.cited.index(c.n), c.start))
