"""What the taught model sees of a question and of each unit it may quote.

Every feature carries over to documents nobody has seen: shares of the
question's terms, e5 similarities (the units' sentences are embedded at
ingest), the passage's rank, whether the asked kind of value stands in the
unit, whether its document is the named municipality's, and the question's
kind. None names a document, a section or a word of the corpus.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from assistant.answering.matching import coverage
from assistant.answering.question import Analysis
from assistant.answering.values import holds_value
from assistant.retrieval import Passage
from assistant.units import Unit
from hfa_settings import Settings
from ingest.text import terms

UNIT_FEATURES = (
    "coverage",  # IDF-weighted share of the question's terms in the unit
    "context",  # ... in its passage with the passage's headings
    "section_coverage",  # ... in the section path (a heading or label row the question names)
    "unit_similarity",  # e5 cosine of question and unit
    "passage_similarity",  # e5 cosine of question and passage
    "inverse_rank",  # 1 / the passage's rank
    "log_chars",  # length of the unit
    "value_held",  # a value of the asked kind stands in the unit
    "value_missing",  # a value is asked and the unit holds none
    "in_named_scope",  # the unit's document is the named municipality's
    "other_scope",  # a municipality is named and the unit is from another source
    "unit_heading",  # the unit is a heading with its first sentence
    "unit_block",  # ... a block of short lines
    "unit_list",  # ... a list with its introduction
    "list_for_list",  # a list is asked and the unit is one
    "position",  # where the unit stands in its chunk (0 first, 1 last)
    "brevity",  # short units read better: min(1, 300 / characters) ** 0.5
    "coverage_brief",  # coverage × brevity
    "context_brief",  # context × brevity
    "coverage_similarity",  # coverage × unit similarity: both lexical and semantic match
    # Relative to the other units of the same question (a pointwise model cannot see them otherwise):
    "coverage_gap",  # how far below the best covering unit this one is
    "similarity_gap",  # how far below the most similar unit this one is
    "coverage_place",  # 1 / the unit's place among the distinct coverages (1 = best)
    "similarity_place",  # 1 / its place among the distinct similarities
)
BRIEF_CHARS = 300
QUESTION_KINDS = ("list", "value", "rule", "definition", "comparison", "section")
ANSWER_FORMS = ("list", "value", "section", "comparison")
QUESTION_FEATURES = (
    "best",  # the unit model's score of the best unit
    "second",  # ... of the second best
    "best_coverage",  # the best covering unit's share of the question
    "best_context",  # the best covering passage's share
    "passage_similarity",  # the best e5 similarity of a passage
    "unit_similarity",  # the best e5 similarity of a unit
    "unknown_share",  # share of the question's content words the corpus does not know
    "value_asked",  # the question asks for a value
    "value_near",  # one of the five best units holds it
    "named_scope",  # the question names a municipality
    "named_scope_near",  # one of the five best units is from its documents
    "english",  # the question is in English
    "log_terms",  # how many content words the question has
    "answer_coverage",  # share of the question's terms the composed answer names
    "passages_coverage",  # share of them named anywhere in the retrieved passages
    *(f"kind_{k}" for k in QUESTION_KINDS),
    *(f"form_{k}" for k in ANSWER_FORMS),  # the form the document structure gave the answer
)
NEAR = 5


def unit_features(
    analysis: Analysis,
    passage: Passage,
    unit: Unit,
    unit_terms: frozenset[str],
    context: float,
    section_coverage: float,
    similarity: float,
    idf: dict[str, float],
    settings: Settings,
) -> dict[str, float]:
    """The features of one unit of a retrieved passage."""
    chunk = passage.chunk
    named = bool(analysis.scopes)
    held = holds_value(analysis, unit)
    cover = coverage(analysis.terms, unit_terms, idf, settings)
    brevity = min(1.0, BRIEF_CHARS / max(1, len(unit.text))) ** 0.5
    return {
        "coverage": cover,
        "context": context,
        "section_coverage": section_coverage,
        "unit_similarity": similarity,
        "passage_similarity": passage.dense or 0.0,
        "inverse_rank": 1.0 / passage.rank,
        "log_chars": math.log(1 + len(unit.text)),
        "value_held": float(held),
        "value_missing": float(bool(analysis.value_kind) and not held),
        "in_named_scope": float(named and chunk.scope in analysis.scopes),
        "other_scope": float(named and chunk.scope not in analysis.scopes),
        "unit_heading": float(unit.kind == "heading"),
        "unit_block": float(unit.kind == "block"),
        "unit_list": float(unit.kind == "list"),
        "list_for_list": float(analysis.kind == "list" and unit.kind == "list"),
        "position": unit.start / max(1, len(chunk.text)),
        "brevity": brevity,
        "coverage_brief": cover * brevity,
        "context_brief": context * brevity,
        "coverage_similarity": cover * similarity,
    }


def with_relative(features: Sequence[dict[str, float]]) -> None:
    """Add each unit's standing among the units of the same question (gaps to the best, places)."""
    coverages = sorted({f["coverage"] for f in features}, reverse=True)
    similarities = sorted({f["unit_similarity"] for f in features}, reverse=True)
    for f in features:
        f["coverage_gap"] = coverages[0] - f["coverage"]
        f["similarity_gap"] = similarities[0] - f["unit_similarity"]
        f["coverage_place"] = 1.0 / (1 + coverages.index(f["coverage"]))
        f["similarity_place"] = 1.0 / (1 + similarities.index(f["unit_similarity"]))


def passage_context(
    analysis: Analysis, passage: Passage, passage_terms: frozenset[str], idf: dict[str, float], settings: Settings
) -> tuple[float, float]:
    """The question's coverage by the passage as a whole (its terms given), and by its section path alone."""
    whole = coverage(analysis.terms, passage_terms, idf, settings)
    return whole, coverage(analysis.terms, frozenset(terms(passage.chunk.section)), idf, settings)


def question_features(
    analysis: Analysis,
    ranked: Sequence[tuple[float, dict[str, float]]],
    passages: Sequence[Passage],
    passage_terms: Sequence[frozenset[str]],
    answer: tuple[str, str],
    settings: Settings,
) -> dict[str, float]:
    """The features of a question, its best units (unit score and features, best first) and its answer.

    ``passage_terms`` are the passages' stemmed terms; ``answer`` is the composed answer's form and text.
    """
    form, text = answer
    everything = frozenset().union(*passage_terms)
    scores = [score for score, _ in ranked]
    near = [features for _, features in ranked[:NEAR]]
    content = len(analysis.terms) + len(analysis.unknown)
    return {
        "best": scores[0] if scores else -10.0,
        "second": scores[1] if len(scores) > 1 else -10.0,
        "best_coverage": max((f["coverage"] for _, f in ranked), default=0.0),
        "best_context": max((f["context"] for _, f in ranked), default=0.0),
        "passage_similarity": max((p.dense or 0.0 for p in passages), default=0.0),
        "unit_similarity": max((f["unit_similarity"] for _, f in ranked), default=0.0),
        "unknown_share": len(analysis.unknown) / content if content else 0.0,
        "value_asked": float(bool(analysis.value_kind)),
        "value_near": float(any(f["value_held"] for f in near)),
        "named_scope": float(bool(analysis.scopes)),
        "named_scope_near": float(any(f["in_named_scope"] for f in near)),
        "english": float(analysis.language == "en"),
        "log_terms": math.log(1 + len(analysis.terms)),
        "answer_coverage": coverage(analysis.terms, frozenset(terms(text)), {}, settings),
        "passages_coverage": coverage(analysis.terms, everything, {}, settings),
        **{f"kind_{k}": float(analysis.kind == k) for k in QUESTION_KINDS},
        **{f"form_{k}": float(form == k) for k in ANSWER_FORMS},
    }


def as_row(features: dict[str, float], names: Sequence[str]) -> np.ndarray:
    """The features in a model's column order."""
    return np.array([features[name] for name in names], dtype=float)
