"""Rank the quotable units of the retrieved passages with the taught unit model (pure given the model).

Every unit of every retrieved passage becomes a candidate with its features
(:mod:`assistant.answering.features`); the unit model turns them into the
probability that the unit holds what the question asks. The answer quotes the
best of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from assistant.answering.features import as_row, passage_context, unit_features, with_relative
from assistant.answering.model import AnswerModel, LinearModel, load_model, sigmoid
from assistant.answering.question import Analysis
from assistant.retrieval import Passage
from assistant.units import Unit, chunk_units
from hfa_settings import Settings
from ingest.text import terms

if TYPE_CHECKING:
    from assistant.corpus import Corpus


@dataclass(frozen=True)
class ScoredUnit:
    """A candidate unit: where it is, how likely it answers (``score``), and what the model saw of it."""

    unit: Unit
    passage: Passage
    score: float
    coverage: float
    context: float
    terms: frozenset[str]
    features: dict[str, float] = field(default_factory=dict, compare=False)
    decision: float = 0.0


def candidates(analysis: Analysis, passages: Sequence[Passage], corpus: Corpus, settings: Settings) -> list[ScoredUnit]:
    """Every quotable unit of the passages with its features, unscored, in passage order."""
    question_vector = corpus.query_vector(analysis.search_text)
    found = []
    for passage in passages:
        context, section = passage_context(analysis, passage, corpus.terms_of(passage.chunk), corpus.idf, settings)
        for unit in chunk_units(passage.chunk, settings.max_list_items):
            if len(unit.text) < settings.min_sentence_chars:
                continue
            unit_terms = frozenset(terms(unit.text))
            similarity = corpus.unit_similarity(unit, question_vector)
            features = unit_features(
                analysis,
                passage,
                unit,
                unit_terms,
                context,
                section,
                (passage.dense or 0.0) if similarity is None else similarity,
                corpus.idf,
                settings,
            )
            found.append(ScoredUnit(unit, passage, 0.0, features["coverage"], context, unit_terms, features))
    with_relative([s.features for s in found])
    return found


def ranked(found: Sequence[ScoredUnit], units: LinearModel) -> list[ScoredUnit]:
    """The candidates scored by a unit model, best first."""
    if not found:
        return []
    decisions = units.decision(np.vstack([as_row(s.features, units.features) for s in found]))
    probabilities = sigmoid(decisions)
    scored = [
        ScoredUnit(s.unit, s.passage, float(p), s.coverage, s.context, s.terms, s.features, float(d))
        for s, p, d in zip(found, probabilities, decisions, strict=True)
    ]
    return sorted(scored, key=lambda s: s.score, reverse=True)


def score_units(
    analysis: Analysis,
    passages: Sequence[Passage],
    corpus: Corpus,
    settings: Settings,
    model: AnswerModel | None = None,
) -> list[ScoredUnit]:
    """Every unit of the passages scored by the (shipped) unit model, best first (see :func:`named_scope_only`)."""
    return named_scope_only(
        analysis, ranked(candidates(analysis, passages, corpus, settings), (model or load_model()).units)
    )


def named_scope_only(analysis: Analysis, scored: Sequence[ScoredUnit]) -> list[ScoredUnit]:
    """A question naming a municipality is answered from that municipality's documents when any were retrieved.

    Its rules are local: another source's rule quoted for it would read as the municipality's own.
    """
    local = [s for s in scored if s.unit.chunk.scope in analysis.scopes]
    return local or list(scored)


def lexical_units(
    analysis: Analysis, passages: Sequence[Passage], corpus: Corpus, settings: Settings
) -> list[ScoredUnit]:
    """Every unit ranked by its share of the terms, then by holding the asked value, its passage's share, rank."""
    found = candidates(analysis, passages, corpus, settings)
    ordered = sorted(
        found, key=lambda s: (s.coverage, s.features["value_held"], s.context, -s.passage.rank), reverse=True
    )
    return [replace(s, score=s.coverage) for s in ordered]


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
