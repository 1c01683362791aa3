"""Calibration of the ensemble on held-out authored records: one temperature per model, then the mix.

A model trained on authored posts is sure of itself on text unlike anything it saw (ten-character
ad lines came out "not a promotion, p=1.00"). Each model's logits are divided by the temperature
that minimizes its log loss on held-out records, and the n-gram weight is the one whose mixture
minimizes it; the figures live in ``calibration.json`` beside the weights.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

FILE = "calibration.json"
TEMPERATURES = np.round(np.arange(0.5, 6.01, 0.25), 2)
WEIGHTS = np.round(np.arange(0.0, 1.001, 0.1), 2)


@dataclass
class Calibration:
    """Temperatures and the n-gram model's share of the mixed probabilities (0: transformer only)."""

    transformer_temperature: float = 1.0
    ngram_temperature: float = 1.0
    ngram_weight: float = 0.0
    held_out_records: int = 0

    @classmethod
    def load(cls, directory: str | Path) -> Calibration:
        path = Path(directory) / FILE
        return cls(**json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else cls()

    def save(self, directory: str | Path) -> None:
        (Path(directory) / FILE).write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def log_loss(probs: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0))))


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The grid temperature with the lowest log loss on (logits, y)."""
    return float(min(TEMPERATURES, key=lambda t: log_loss(softmax(logits / t), y)))


def mix(transformer: np.ndarray, ngram: np.ndarray, weight: float, seen: np.ndarray) -> np.ndarray:
    """The ensemble's probabilities: the n-gram model's ``weight``, plus the share of each post the
    transformer did not read (``seen``: the share it did, per post), since the n-gram reads it all."""
    share = (1 - (1 - weight) * seen)[:, None]
    mixed = (1 - share) * transformer + share * ngram
    # Which tier: the n-gram model's split, trained with the written posts' weight on real styles.
    tier_split = ngram[:, 1:] / np.clip(ngram[:, 1:].sum(axis=1, keepdims=True), 1e-9, None)
    return np.concatenate([mixed[:, :1], (1 - mixed[:, :1]) * tier_split], axis=1)


def fit(transformer_logits: np.ndarray, ngram_logits: np.ndarray, y: np.ndarray, seen: np.ndarray,
        weight: float | None = None) -> Calibration:
    """Temperatures per model, then the n-gram weight (or the given one) with the lowest mixed log loss."""
    t1, t2 = fit_temperature(transformer_logits, y), fit_temperature(ngram_logits, y)
    p1, p2 = softmax(transformer_logits / t1), softmax(ngram_logits / t2)
    if weight is None:
        weight = float(min(WEIGHTS, key=lambda w: log_loss(mix(p1, p2, w, seen), y)))
    return Calibration(t1, t2, weight, len(y))
