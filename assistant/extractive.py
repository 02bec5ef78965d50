"""Extractive answers: pick the sentences of the retrieved passages that answer the question.

Pure functions over passages. Sentences are scored by the IDF-weighted share of
the question's terms they contain (Danish compounds count partly: a question
about "klagefristen" finds "klage"), plus how well their passage as a whole
(with its heading) matches and its rank; very long sentences are discounted.
Every quote is a verbatim slice of its passage.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.answer import Citation
from assistant.retrieval import Passage
from ingest.documents import Chunk
from ingest.text import sentence_spans, terms

MIN_PART = 4
PARTIAL_CREDIT = 0.6
RANK_WEIGHT = 0.15
PASSAGE_WEIGHT = 0.3
LONG_SENTENCE_CHARS = 300
MAX_LIST_ITEMS = 12
DUPLICATE_OVERLAP = 0.6
MIN_SENTENCE_CHARS = 12


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate sentence: where it is, how well it answers, and its terms."""

    passage: Passage
    start: int
    end: int
    score: float
    coverage: float
    context: float
    terms: frozenset[str]

    @property
    def evidence(self) -> float:
        """Share of the question covered by the sentence or by its passage as a whole."""
        return max(self.coverage, self.context)

    @property
    def text(self) -> str:
        """The sentence as it stands in the passage."""
        return self.passage.chunk.text[self.start : self.end]


def inverse_document_frequencies(chunks: Iterable[Chunk]) -> dict[str, float]:
    """IDF of each term over the indexed chunks."""
    frequencies: Counter[str] = Counter()
    total = 0
    for chunk in chunks:
        frequencies.update(set(terms(chunk.stored_text())))
        total += 1
    return {t: math.log(1 + total / f) for t, f in frequencies.items()}


def term_match(question_term: str, sentence_terms: frozenset[str]) -> float:
    """1 for the same term, partial credit when one is a compound part of the other."""
    if question_term in sentence_terms:
        return 1.0
    for term in sentence_terms:
        shorter, longer = sorted((question_term, term), key=len)
        if len(shorter) >= MIN_PART and (longer.startswith(shorter) or longer.endswith(shorter)):
            return PARTIAL_CREDIT
    return 0.0


def coverage(question_terms: set[str], sentence_terms: frozenset[str], idf: dict[str, float]) -> float:
    """IDF-weighted share of the question's terms that the sentence contains."""
    default = max(idf.values(), default=1.0)
    weights = {t: idf.get(t, default) for t in question_terms}
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(w * term_match(t, sentence_terms) for t, w in weights.items()) / total


def answer_units(text: str) -> list[tuple[int, int, int]]:
    """Sentence spans ``(start, end, sentence_end)`` of a passage.

    A sentence introducing a list (ending in ":") extends over the bullets that
    follow it, so "the eight principles" are answered with the list itself.
    ``sentence_end`` is where the introducing sentence alone ends.
    """
    spans = sentence_spans(text)
    units = []
    for i, (start, end) in enumerate(spans):
        stop = end
        if text[start:end].endswith(":"):
            for b_start, b_end in spans[i + 1 : i + 1 + MAX_LIST_ITEMS]:
                if not text[b_start:b_end].startswith("•"):
                    break
                stop = b_end
        units.append((start, stop, end))
    return units


def score_sentences(question: str, passages: list[Passage], idf: dict[str, float]) -> list[ScoredSentence]:
    """Every sentence of the passages with its score, best first."""
    question_terms = set(terms(question))
    scored = []
    for passage in passages:
        text = passage.chunk.text
        context = coverage(question_terms, frozenset(terms(passage.chunk.stored_text())), idf)
        prior = PASSAGE_WEIGHT * context + RANK_WEIGHT / passage.rank
        for start, end, sentence_end in answer_units(text):
            start += len(text[start:end]) - len(text[start:end].lstrip("•– "))
            if end - start < MIN_SENTENCE_CHARS:
                continue
            sentence_terms = frozenset(terms(text[start:end]))
            cov = coverage(question_terms, sentence_terms, idf)
            brevity = min(1.0, LONG_SENTENCE_CHARS / max(1, sentence_end - start)) ** 0.5
            score = (cov + prior) * brevity
            scored.append(ScoredSentence(passage, start, end, score, cov, context, sentence_terms))
    return sorted(scored, key=lambda s: s.score, reverse=True)


def _near_duplicate(candidate: ScoredSentence, chosen: list[ScoredSentence]) -> bool:
    for other in chosen:
        union = candidate.terms | other.terms
        if union and len(candidate.terms & other.terms) / len(union) >= DUPLICATE_OVERLAP:
            return True
    return False


def select_sentences(scored: list[ScoredSentence], limit: int, keep_share: float = 0.6) -> list[ScoredSentence]:
    """The best sentences (at least ``keep_share`` of the best score), without near-duplicates."""
    if not scored:
        return []
    floor = keep_share * scored[0].score
    chosen: list[ScoredSentence] = []
    for sentence in scored:
        if len(chosen) >= limit or sentence.score < floor:
            break
        if not _near_duplicate(sentence, chosen):
            chosen.append(sentence)
    return chosen


def cite(chosen: list[ScoredSentence]) -> list[Citation]:
    """Number the sources by first use; within one source keep document order."""
    by_source: dict[str, list[ScoredSentence]] = {}
    for sentence in chosen:
        by_source.setdefault(sentence.passage.chunk.chunk_id, []).append(sentence)
    citations = []
    for n, sentences in enumerate(by_source.values(), start=1):
        for s in sorted(sentences, key=lambda s: s.start):
            citations.append(Citation(n, s.passage.chunk, s.text, s.start, s.end))
    return citations


def compose(citations: list[Citation]) -> str:
    """The answer text: each quoted sentence followed by its marker."""
    return "\n".join(f"{c.quote} [{c.n}]" for c in citations)
