"""`hfa train` on the real index: a model taught on dev questions, written small, read back, used to answer."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answering.features import QUESTION_FEATURES, UNIT_FEATURES
from assistant.answering.model import read_model
from eval.gold import load_all
from eval.split import DEV, side, split
from eval.train import risk_coverage, train

pytestmark = pytest.mark.slow


def test_a_model_taught_on_dev_questions_ranks_units_and_is_calibrated(assistant, tmp_path) -> None:
    items = load_all()
    dev = side(items, split(items), DEV)[:90]
    model, lines = train(assistant, dev)
    assert model.trained["split"] == DEV and model.trained["questions"] <= 90
    assert model.units.features == UNIT_FEATURES and model.answer.features == QUESTION_FEATURES
    # The calibration is monotone and a probability.
    probabilities = model.calibration(np.linspace(-10, 10, 50))
    assert np.all(np.diff(probabilities) >= -1e-9) and 0.0 <= probabilities.min() <= probabilities.max() <= 1.0
    assert any("Risiko–dækning" in line for line in lines)
    path = tmp_path / "model.json"
    model.save(path)
    assert path.stat().st_size < 20_000
    again = read_model(path)
    assert again.units.features == model.units.features and np.allclose(again.units.coef, model.units.coef, atol=1e-5)
    # The taught model answers with the assistant.
    answer = assistant.answer("Hvad er klagefristen for en afgørelse efter § 85 a?")
    assert 0.0 <= answer.confidence <= 1.0 and "4 uger" in answer.text


def test_risk_coverage_counts_answers_given_and_wrong_among_them() -> None:
    confidence = np.array([0.9, 0.8, 0.3, 0.95])
    right = np.array([1.0, 0.0, 1.0, 0.0])
    answerable = np.array([True, True, True, False])
    curve = dict((t, (cov, risk)) for t, cov, risk in risk_coverage(confidence, right, answerable))
    assert curve[0.85] == (1 / 3, 0.5)  # 0.9 (right) and 0.95 (out of scope) are given
    assert curve[0.5][0] == 2 / 3 and curve[0.5][1] == pytest.approx(2 / 3)
