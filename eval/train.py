"""``hfa train``: teach the answer model from the dev split of the gold set, and write it.

Why logistic regression (scikit-learn): a few hundred questions and a few
thousand candidate units are too little for gradient boosting to beat a
linear model without overfitting; its coefficients are readable (a trainer can
see that "the asked value stands in the unit" helps), it ships as a small JSON
file, and it runs in NumPy at answer time.

1. Every dev question is analysed and searched as in answering; each unit of
   its passages is a candidate with its features. A unit is a positive when it
   holds one of the item's facts (in a passage that holds its evidence, when
   one does).
2. The unit model is fitted with grouped 5-fold cross-validation (groups:
   items sharing a source passage, as in the split), giving every unit a
   held-out score.
3. With held-out unit scores each question's answer is composed as the
   assistant would; it is right when it shows at least half the facts of an
   answerable question. The answer model learns that from the question's
   features, again with held-out folds, and an isotonic calibration maps its
   held-out scores to probabilities: the ``confidence``.
4. The risk–coverage curve of those held-out folds is printed: read
   ``answer_confidence`` off it (the share of wrong answers among those given
   at each threshold). The test split and the blind set are never read.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import click
import numpy as np

from assistant.answering.features import QUESTION_FEATURES, UNIT_FEATURES, as_row
from assistant.answering.model import MODEL_FILE, AnswerModel, Calibration, LinearModel
from assistant.answering.outcome import features as answer_features
from assistant.answering.outcome import silent
from assistant.answering.question import Analysis, analyze
from assistant.answering.scoring import ScoredUnit, candidates, named_scope_only, ranked
from assistant.compose import answer_draft
from assistant.retrieval import Passage
from assistant.service import Assistant
from eval.gold import GoldItem, load_all
from eval.metrics import RIGHT_SHARE, holds, normalise
from eval.split import DEV, groups, side, split
from hfa_settings import Settings

FOLDS = 5
CURVE = tuple(round(0.05 * i, 2) for i in range(1, 20))


@dataclass
class Example:
    """One dev question as answering sees it, with its candidate units and their labels."""

    item: GoldItem
    group: str
    analysis: Analysis
    passages: list[Passage]
    units: list[ScoredUnit]
    labels: np.ndarray


def fact_share(item: GoldItem, text: str) -> float:
    """Share of the item's facts in a text (case- and whitespace-insensitive), as eval scores answers."""
    shown = normalise(text).casefold()
    return sum(normalise(f).casefold() in shown for f in item.facts) / len(item.facts) if item.facts else 0.0


def unit_labels(item: GoldItem, units: Sequence[ScoredUnit]) -> np.ndarray:
    """1 for a unit holding a fact (in a passage holding the item's evidence, when any passage does)."""
    if item.out_of_scope:
        return np.zeros(len(units))

    def evidenced(s: ScoredUnit) -> bool:
        passage = {"doc_id": s.unit.chunk.doc_id, "section": s.unit.chunk.section, "text": s.unit.chunk.text}
        return any(holds(passage, e.doc_id, e.quote) for e in item.evidence)

    facts = np.array([fact_share(item, s.unit.text) > 0 for s in units])
    with_evidence = np.array([evidenced(s) for s in units])
    return (facts & with_evidence if (facts & with_evidence).any() else facts).astype(float)


def collect(assistant: Assistant, items: Sequence[GoldItem], group_of: dict[str, str]) -> list[Example]:
    """Each item analysed, searched and cut into candidate units (items the sources are silent on left out)."""
    examples = []
    for item in items:
        analysis = analyze(item.standalone or item.question, assistant.vocabulary)
        passages = assistant.search(analysis)
        if silent(analysis, passages, assistant.settings):
            continue
        units = candidates(analysis, passages, assistant.corpus, assistant.settings)
        if units:
            examples.append(Example(item, group_of[item.id], analysis, passages, units, unit_labels(item, units)))
    return examples


def fit_linear(rows: np.ndarray, labels: np.ndarray, names: Sequence[str], c: float) -> LinearModel:
    """A standardised, class-balanced logistic regression."""
    from sklearn.linear_model import LogisticRegression

    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale == 0] = 1.0
    fitted = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit((rows - mean) / scale, labels)
    return LinearModel(tuple(names), mean, scale, fitted.coef_[0], float(fitted.intercept_[0]))


def _folds(examples: Sequence[Example]) -> list[np.ndarray]:
    from sklearn.model_selection import GroupKFold

    index = np.arange(len(examples))
    return [test for _, test in GroupKFold(FOLDS).split(index, groups=[e.group for e in examples])]


def _unit_rows(examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray]:
    rows = np.vstack([as_row(s.features, UNIT_FEATURES) for e in examples for s in e.units])
    return rows, np.concatenate([e.labels for e in examples])


def _answered(example: Example, unit_model: LinearModel, assistant: Assistant) -> tuple[dict[str, float], float]:
    """The question's features and whether its composed answer is right, with this unit model."""
    scored = named_scope_only(example.analysis, ranked(example.units, unit_model))
    draft = answer_draft(example.analysis, scored, example.passages, assistant.corpus, assistant.settings)
    right = not example.item.out_of_scope and fact_share(example.item, draft.text) >= RIGHT_SHARE
    return answer_features(
        example.analysis, scored, example.passages, draft, assistant.corpus, assistant.settings
    ), float(right)


def held_out_answers(
    examples: Sequence[Example], folds: Sequence[np.ndarray], assistant: Assistant, c: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Question rows and right/wrong labels, each composed with a unit model that never saw its fold.

    Also returns the held-out unit ranking's precision@1 (the best unit holds a fact).
    """
    rows, labels = np.zeros((len(examples), len(QUESTION_FEATURES))), np.zeros(len(examples))
    hits = []
    for test in folds:
        train = [examples[i] for i in range(len(examples)) if i not in set(test)]
        unit_model = fit_linear(*_unit_rows(train), UNIT_FEATURES, c)
        for i in test:
            features, labels[i] = _answered(examples[i], unit_model, assistant)
            rows[i] = as_row(features, QUESTION_FEATURES)
            if examples[i].labels.any():
                best = int(np.argmax(unit_model.decision(_unit_rows([examples[i]])[0])))
                hits.append(examples[i].labels[best])
    return rows, labels, float(np.mean(hits)) if hits else 0.0


def held_out_scores(rows: np.ndarray, labels: np.ndarray, folds: Sequence[np.ndarray], c: float) -> np.ndarray:
    """Each question's answer-model score from a model fitted without its fold."""
    scores = np.zeros(len(rows))
    for test in folds:
        train = np.setdiff1d(np.arange(len(rows)), test)
        scores[test] = fit_linear(rows[train], labels[train], QUESTION_FEATURES, c).decision(rows[test])
    return scores


def isotonic(scores: np.ndarray, labels: np.ndarray) -> Calibration:
    """Held-out scores → probability of a right answer, monotone."""
    from sklearn.isotonic import IsotonicRegression

    fitted = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, labels)
    return Calibration(np.asarray(fitted.X_thresholds_, dtype=float), np.asarray(fitted.y_thresholds_, dtype=float))


def platt(scores: np.ndarray, labels: np.ndarray, points: int = 64) -> Calibration:
    """Held-out scores → probability of a right answer by a logistic fit on the score (Platt), as a fine grid."""
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression().fit(scores[:, None], labels)
    grid = np.linspace(scores.min() - 1.0, scores.max() + 1.0, points)
    return Calibration(grid, fitted.predict_proba(grid[:, None])[:, 1])


def calibrated(scores: np.ndarray, labels: np.ndarray, folds: Sequence[np.ndarray]) -> tuple[Calibration, str]:
    """The calibration (isotonic or Platt) with the lower Brier score on held-out folds of the scores."""
    brier = {}
    for name, fit in (("isotonic", isotonic), ("platt", platt)):
        predicted = np.zeros(len(scores))
        for test in folds:
            train = np.setdiff1d(np.arange(len(scores)), test)
            predicted[test] = fit(scores[train], labels[train])(scores[test])
        brier[name] = float(np.mean((predicted - labels) ** 2))
    best = min(brier, key=brier.__getitem__)
    fit = isotonic if best == "isotonic" else platt
    return fit(scores, labels), f"Kalibrering: {best} (Brier holdt ude: " + ", ".join(
        f"{n} {b:.4f}" for n, b in brier.items()
    ) + ")"


def risk_coverage(
    confidence: np.ndarray, right: np.ndarray, answerable: np.ndarray
) -> list[tuple[float, float, float]]:
    """At each threshold: the share of answerable questions answered, and the share of answers that are wrong."""
    curve = []
    for t in CURVE:
        given = confidence >= t
        coverage = float((given & answerable).sum() / max(1, answerable.sum()))
        risk = float((given & (right == 0)).sum() / given.sum()) if given.any() else 0.0
        curve.append((t, coverage, risk))
    return curve


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if 0 < labels.sum() < len(labels) else 0.5


def train(assistant: Assistant, items: Sequence[GoldItem], c: float = 1.0) -> tuple[AnswerModel, list[str]]:
    """The model taught on ``items`` (the dev split) and the lines that report its held-out quality."""
    examples = collect(assistant, items, groups(items))
    folds = _folds(examples)
    rows, labels, precision = held_out_answers(examples, folds, assistant, c)
    scores = held_out_scores(rows, labels, folds, c)
    calibration, chosen = calibrated(scores, labels, folds)
    answerable = np.array([not e.item.out_of_scope for e in examples])
    model = AnswerModel(
        units=fit_linear(*_unit_rows(examples), UNIT_FEATURES, c),
        answer=fit_linear(rows, labels, QUESTION_FEATURES, c),
        calibration=calibration,
        trained={
            "date": datetime.now(UTC).date().isoformat(),
            "split": DEV,
            "questions": len(examples),
            "units": int(sum(len(e.units) for e in examples)),
            "held_out_unit_precision_at_1": round(precision, 3),
            "held_out_answer_auc": round(_auc(scores, labels), 3),
            "calibration": chosen.split(":")[1].split("(")[0].strip(),
        },
    )
    lines = [
        f"{len(examples)} dev-spørgsmål, {model.trained['units']} kandidatenheder, {FOLDS} grupperede folder.",
        f"Enhedsmodellen (holdt ude): bedste enhed rummer et faktum i {precision:.3f} af spørgsmålene.",
        f"Svarmodellen (holdt ude): AUC {_auc(scores, labels):.3f} for rigtige mod forkerte svar.",
        chosen,
        "Risiko–dækning på de holdt ude folder (tærskel: andel besvarede af de besvarbare, andel forkerte svar):",
    ]
    lines += [
        f"  {t:.2f}: dækning {cov:.3f}, forkerte {risk:.3f}"
        for t, cov, risk in risk_coverage(calibration(scores), labels, answerable)
    ]
    lines += ["Enhedsmodellens vægte (standardiserede):"]
    lines += [f"  {n:>20} {w:+.2f}" for n, w in zip(model.units.features, model.units.coef, strict=True)]
    lines += ["Svarmodellens vægte (standardiserede):"]
    lines += [f"  {n:>20} {w:+.2f}" for n, w in zip(model.answer.features, model.answer.coef, strict=True)]
    return model, lines


@click.command("train")
@click.option("--c", "c", type=float, default=1.0, show_default=True, help="Regularisering (større = mindre).")
@click.option("--dry-run", is_flag=True, help="Vis tallene uden at skrive modellen.")
@click.pass_obj
def train_command(settings: Settings, c: float, dry_run: bool) -> None:
    """Lær svarmodellen af guldsættets dev-del og skriv assistant/answering/model.json."""
    from ingest.embeddings import make_embeddings

    everything = load_all()
    dev = side(everything, split(everything), DEV)
    click.echo(f"Træner på {len(dev)} dev-spørgsmål (test og blindsættet læses ikke) …", err=True)
    assistant = Assistant.open(settings, make_embeddings(settings))
    model, lines = train(assistant, dev, c)
    click.echo("\n".join(lines))
    if dry_run:
        sys.exit(0)
    model.save(MODEL_FILE)
    click.echo(f"Skrev {MODEL_FILE}.")
