"""Whether to answer: ``answer``, ``nearest`` or ``not_covered``, with a calibrated confidence.

- ``not_covered`` only on hard evidence that the sources are silent: the
  question names a municipality, a § or a proper name no document knows, or
  nothing is retrieved as near as ``retrieval_floor``;
- otherwise the answer model estimates, from the question and its best units,
  how likely the composed answer is right (``confidence``, calibrated on
  held-out folds of the dev split); at ``answer_confidence`` or above the
  assistant answers, below it shows the nearest the sources say (``nearest``):
  the would-be answer and the best unit of each of the best passages, quoted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.answering.features import as_row, question_features
from assistant.answering.model import AnswerModel
from assistant.answering.question import Analysis
from assistant.answering.scoring import ScoredUnit
from assistant.drafting import Draft
from assistant.retrieval import Passage
from assistant.units import Unit, continued
from hfa_settings import Settings

if TYPE_CHECKING:
    from assistant.corpus import Corpus

ANSWER, NEAREST, NOT_COVERED = "answer", "nearest", "not_covered"


def silent(analysis: Analysis, passages: Sequence[Passage], settings: Settings) -> bool:
    """Hard evidence that the sources do not cover the question (no model needed)."""
    if analysis.uncovered or not passages:
        return True
    return max((p.dense or 0.0 for p in passages), default=0.0) < settings.retrieval_floor


def features(
    analysis: Analysis,
    scored: Sequence[ScoredUnit],
    passages: Sequence[Passage],
    draft: Draft,
    corpus: Corpus,
    settings: Settings,
) -> dict[str, float]:
    """The answer model's features of a question, its scored units (best first) and its composed answer."""
    ranked = [(s.decision, s.features) for s in scored]
    passage_terms = [corpus.terms_of(p.chunk) for p in passages]
    return question_features(analysis, ranked, passages, passage_terms, (draft.kind, draft.text), settings)


def confidence(
    analysis: Analysis,
    scored: Sequence[ScoredUnit],
    passages: Sequence[Passage],
    draft: Draft,
    corpus: Corpus,
    model: AnswerModel,
    settings: Settings,
) -> float:
    """The calibrated probability that the composed answer is right."""
    row = as_row(features(analysis, scored, passages, draft, corpus, settings), model.answer.features)[None, :]
    return float(model.calibration(model.answer.decision(row))[0])


def decide(confidence_value: float, settings: Settings) -> str:
    """``answer`` at or above the configured confidence, else ``nearest``."""
    return ANSWER if confidence_value >= settings.answer_confidence else NEAREST


def nearest_units(scored: Sequence[ScoredUnit], settings: Settings) -> list[Unit]:
    """The best unit of each of the ``nearest_passages`` best-ranked passages, with the sentence after it.

    Chosen on dev: by passage rank and continued, the quotes show a little more of
    the asked facts than by unit score alone (0.800 against 0.796).
    """
    best: dict[str, ScoredUnit] = {}
    for s in scored:  # best first: the first unit seen of a passage is its best
        best.setdefault(s.unit.chunk.chunk_id, s)
    ranked = sorted(best.values(), key=lambda s: s.passage.rank)[: settings.nearest_passages]
    return [continued(s.unit) for s in ranked]
