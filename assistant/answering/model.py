"""The taught answer model: two logistic regressions and a calibration, read from a small JSON file.

- ``units``: how likely a quotable unit of a retrieved passage holds what the
  question asks (ranks the units an answer quotes);
- ``answer``: how likely the answer composed from the best units is right,
  mapped to a probability by ``calibration`` (isotonic, fitted on held-out
  folds of the dev split), the ``confidence`` of every answer.

Trained by ``hfa train`` (``eval/train.py``) on the dev split only; inference
is plain NumPy, so answering does not import scikit-learn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILE = Path(__file__).resolve().parent / "model.json"
MODEL_VERSION = 1


def sigmoid(scores: np.ndarray) -> np.ndarray:
    """The logistic probability of each linear score."""
    return 1.0 / (1.0 + np.exp(-scores))


class ModelError(RuntimeError):
    """The model file is missing, of another version or does not fit the features (Danish message)."""


@dataclass(frozen=True)
class LinearModel:
    """A standardised logistic regression over named features."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def decision(self, rows: np.ndarray) -> np.ndarray:
        """The linear score of each row (feature columns in ``features`` order)."""
        return ((rows - self.mean) / self.scale) @ self.coef + self.intercept

    def to_json(self) -> dict[str, Any]:
        """The model as JSON-ready data."""
        return {
            "features": list(self.features),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "coef": self.coef.round(6).tolist(),
            "intercept": round(float(self.intercept), 6),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinearModel:
        """Read a model written by :meth:`to_json`."""
        return cls(
            tuple(data["features"]),
            np.asarray(data["mean"], dtype=float),
            np.asarray(data["scale"], dtype=float),
            np.asarray(data["coef"], dtype=float),
            float(data["intercept"]),
        )


@dataclass(frozen=True)
class Calibration:
    """A monotone map from a linear score to a probability (isotonic steps, interpolated)."""

    x: np.ndarray
    y: np.ndarray

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        """The calibrated probability of each score."""
        return np.interp(scores, self.x, self.y)

    def to_json(self) -> dict[str, Any]:
        """The calibration as JSON-ready data."""
        return {"x": self.x.round(6).tolist(), "y": self.y.round(6).tolist()}


@dataclass(frozen=True)
class AnswerModel:
    """The unit ranker, the answer model and its calibration."""

    units: LinearModel
    answer: LinearModel
    calibration: Calibration
    trained: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The whole model as written to ``model.json``."""
        return {
            "version": MODEL_VERSION,
            "trained": self.trained,
            "units": self.units.to_json(),
            "answer": self.answer.to_json(),
            "calibration": self.calibration.to_json(),
        }

    def save(self, path: Path = MODEL_FILE) -> None:
        """Write the model atomically."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)


def read_model(path: Path) -> AnswerModel:
    """Read a model file (raises ModelError naming the file and the fix)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"Svarmodellen {path} kan ikke læses ({exc}). Kør 'hfa train' for at lave den igen.") from exc
    if data.get("version") != MODEL_VERSION:
        raise ModelError(
            f"Svarmodellen {path} er version {data.get('version')}, koden læser {MODEL_VERSION}. Kør 'hfa train'."
        )
    calibration = data["calibration"]
    return AnswerModel(
        LinearModel.from_json(data["units"]),
        LinearModel.from_json(data["answer"]),
        Calibration(np.asarray(calibration["x"], dtype=float), np.asarray(calibration["y"], dtype=float)),
        data.get("trained", {}),
    )


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE) -> AnswerModel:
    """The shipped model (read once per process)."""
    return read_model(path)
