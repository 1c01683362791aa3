"""A character n-gram linear model over the canonical text: the transformer's second opinion.

Character 1–4-grams of ``model_text`` are hashed into a fixed number of columns (no vocabulary to
store: a multiplicative rolling hash over the code points, computed with numpy a post at a time,
five times faster than scikit-learn's HashingVectorizer, whose n-grams are Python strings), counted,
L2-normalized and scored by a multinomial logistic regression (scikit-learn, at training time only).
The bundled model is plain arrays (``ngram.npz``: coefficients and intercepts), loaded without
pickle. It reads every character of a post rather than learned word shapes, so it transfers to post
styles the transformer never saw; its probabilities are tempered (see calibrate.py) before the ensemble.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .canonical import model_text

LABELS = ("none", "level1", "level2")
#: Hashed feature columns: 2**18 keeps collisions rare for the corpus's few hundred thousand n-grams.
N_FEATURES = 2**18
MAX_N = 4
FILE = "ngram.npz"
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def features(texts: Sequence[str]) -> sp.csr_matrix:
    """L2-normalized counts of the hashed character 1..MAX_N-grams of each text, one row per text."""
    columns, indptr, total = [], [0], 0
    for text in texts:
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        rolling = np.zeros(len(points), dtype=np.uint64)
        for n in range(1, min(MAX_N, len(points)) + 1):
            # The hash of the n-gram at i extends the (n-1)-gram's hash at i by the code point at i+n-1;
            # a last multiply carries every bit into the high bits the column is taken from.
            rolling = rolling[:len(points) - n + 1] * _MULTIPLIER + points[n - 1:] + np.uint64(n)
            columns.append(((rolling * _MULTIPLIER) >> np.uint64(40)) % np.uint64(N_FEATURES))
            total += len(rolling)
        indptr.append(total)
    indices = np.concatenate(columns).astype(np.int32) if columns else np.zeros(0, dtype=np.int32)
    counts = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, np.array(indptr)),
                           shape=(len(texts), N_FEATURES))
    counts.sum_duplicates()
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    return sp.diags(1 / np.where(norms > 0, norms, 1)).astype(np.float32) @ counts


class NgramModel:
    """Logits = X · coefᵀ + intercept over hashed character n-grams; columns in LABELS order."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray):
        self.coef = np.ascontiguousarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)

    @classmethod
    def load(cls, directory: str | Path) -> NgramModel | None:
        """The model saved in ``directory``, or None when it has none."""
        path = Path(directory) / FILE
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as data:
            return cls(data["coef"].astype(np.float32), data["intercept"])

    def save(self, directory: str | Path) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        np.savez_compressed(Path(directory) / FILE, coef=self.coef.astype(np.float16), intercept=self.intercept)

    def logits(self, texts: Sequence[str], canonical: bool = False) -> np.ndarray:
        """One row of logits per text; ``canonical`` says the texts already went through ``model_text``."""
        views = list(texts) if canonical else [model_text(t) for t in texts]
        return np.asarray(features(views) @ self.coef.T) + self.intercept


def fit(texts: Sequence[str], labels: Sequence[str], weights: Sequence[float] | None = None,
        c: float = 4.0) -> NgramModel:
    """Train on canonical ``texts``; ``c`` is the inverse L2 strength (smaller = more regularized)."""
    from sklearn.linear_model import LogisticRegression

    y = np.array([LABELS.index(label) for label in labels])
    clf = LogisticRegression(C=c, max_iter=300, tol=1e-3)
    clf.fit(features(texts), y, sample_weight=None if weights is None else np.asarray(weights, dtype=np.float64))
    order = [list(clf.classes_).index(i) for i in range(len(LABELS))]
    return NgramModel(clf.coef_[order], clf.intercept_[order])
