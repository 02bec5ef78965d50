"""Score the answer units of the retrieved passages against an analysed question (pure functions).

A unit scores the IDF-weighted share of the question's terms it contains
(Danish compounds count partly: a question about "klagefristen" finds
"klage"), plus how well its passage as a whole (with its heading) matches and
its rank; very long units are discounted, and a unit holding the kind of value
asked for ("hvor længe" → a duration) is preferred. The weights are settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.evidence import value_span
from assistant.question import NUMBER_WORDS, Analysis
from assistant.retrieval import Passage
from assistant.units import Unit, chunk_units
from hfa_settings import Settings
from ingest.text import terms

if TYPE_CHECKING:
    from assistant.corpus import Corpus


# A small number typed as a digit meets the word the documents spell it with ("8 kerneprincipper").
SPELLED = {str(n): term for word, n in NUMBER_WORDS.items() for term in terms(word)}


@dataclass(frozen=True)
class ScoredUnit:
    """A candidate unit: where it is, how well it answers, and its terms."""

    unit: Unit
    passage: Passage
    score: float
    coverage: float
    context: float
    terms: frozenset[str]

    @property
    def evidence(self) -> float:
        """Share of the question covered by the unit or by its passage as a whole."""
        return max(self.coverage, self.context)


def term_match(question_term: str, unit_terms: frozenset[str], settings: Settings) -> float:
    """1 for the same term (or "8" for "otte"), partial credit when one is a compound part of the other."""
    if question_term in unit_terms or SPELLED.get(question_term) in unit_terms:
        return 1.0
    for term in unit_terms:
        shorter, longer = sorted((question_term, term), key=len)
        if len(shorter) >= settings.compound_min_part and (longer.startswith(shorter) or longer.endswith(shorter)):
            return settings.compound_credit
    return 0.0


def coverage(
    question_terms: frozenset[str], unit_terms: frozenset[str], idf: dict[str, float], settings: Settings
) -> float:
    """IDF-weighted share of the question's terms that the unit contains."""
    default = max(idf.values(), default=1.0)
    weights = {t: idf.get(t, default) for t in question_terms}
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(w * term_match(t, unit_terms, settings) for t, w in weights.items()) / total


def score_units(
    analysis: Analysis, passages: Sequence[Passage], corpus: Corpus, settings: Settings
) -> list[ScoredUnit]:
    """Every unit of the passages with its score, best first."""
    question_terms = analysis.terms
    scored = []
    for passage in passages:
        chunk = passage.chunk
        context = coverage(question_terms, frozenset(terms(chunk.stored_text())), corpus.idf, settings)
        prior = settings.passage_weight * context + settings.rank_weight / passage.rank
        for unit in chunk_units(chunk, settings.max_list_items):
            text = unit.text
            if len(text) < settings.min_sentence_chars:
                continue
            unit_terms = frozenset(terms(text))
            cov = coverage(question_terms, unit_terms, corpus.idf, settings)
            brevity = min(1.0, settings.long_sentence_chars / max(1, *map(len, unit.quotes()))) ** 0.5
            bonus = settings.value_weight if analysis.value_kind and value_span(analysis.value_kind, unit) else 0.0
            if chunk.scope in analysis.scopes:
                bonus += settings.scope_weight
            score = (cov + prior + bonus) * brevity
            scored.append(ScoredUnit(unit, passage, score, cov, context, unit_terms))
    return sorted(scored, key=lambda s: s.score, reverse=True)


def _near_duplicate(candidate: ScoredUnit, chosen: list[ScoredUnit], overlap: float) -> bool:
    for other in chosen:
        if overlapping(other.unit, candidate.unit):
            return True
        union = candidate.terms | other.terms
        if union and len(candidate.terms & other.terms) / len(union) >= overlap:
            return True
    return False


def overlapping(a: Unit, b: Unit) -> bool:
    """Whether two units quote some of the same text."""
    return a.chunk.chunk_id == b.chunk.chunk_id and any(s1 < e2 and s2 < e1 for s1, e1 in a.spans for s2, e2 in b.spans)


def select_units(scored: Sequence[ScoredUnit], settings: Settings) -> list[ScoredUnit]:
    """The best units (at least ``answer_keep_share`` of the best score), without near-duplicates or overlaps."""
    if not scored:
        return []
    floor = settings.answer_keep_share * scored[0].score
    chosen: list[ScoredUnit] = []
    for unit in scored:
        if len(chosen) >= settings.answer_max_sentences or unit.score < floor:
            break
        if not _near_duplicate(unit, chosen, settings.duplicate_overlap):
            chosen.append(unit)
    return chosen
