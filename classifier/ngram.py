"""A character n-gram linear model over the canonical text: the transformer's second opinion.

Character 1–4-grams of ``model_text`` are hashed into a fixed number of columns (sklearn's
HashingVectorizer: no vocabulary to store) and scored by a multinomial logistic regression. The
bundled model is plain arrays (``ngram.npz``: coefficients and intercepts), loaded without pickle.
It reads every character of a post rather than learned word shapes, so it transfers to post styles
the transformer never saw; its probabilities are tempered (see calibrate.py) before the ensemble.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .canonical import model_text

LABELS = ("none", "level1", "level2")
#: Hashed feature columns: 2**18 keeps collisions rare for the corpus's few hundred thousand n-grams.
N_FEATURES = 2**18
NGRAMS = (1, 4)
FILE = "ngram.npz"


def vectorizer():
    """The stateless feature map shared by training and inference."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer="char", ngram_range=NGRAMS, n_features=N_FEATURES, alternate_sign=False,
                             lowercase=False, norm="l2", dtype=np.float32)


class NgramModel:
    """Logits = X · coefᵀ + intercept over hashed character n-grams; columns in LABELS order."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray):
        self.coef = np.ascontiguousarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self._features = vectorizer()

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
        features = self._features.transform(views)
        return np.asarray(features @ self.coef.T) + self.intercept


def fit(texts: Sequence[str], labels: Sequence[str], weights: Sequence[float] | None = None,
        c: float = 4.0) -> NgramModel:
    """Train on canonical ``texts``; ``c`` is the inverse L2 strength (smaller = more regularized)."""
    from sklearn.linear_model import LogisticRegression

    y = np.array([LABELS.index(label) for label in labels])
    features = vectorizer().transform(list(texts))
    clf = LogisticRegression(C=c, max_iter=300, tol=1e-3)
    clf.fit(features, y, sample_weight=None if weights is None else np.asarray(weights, dtype=np.float64))
    order = [list(clf.classes_).index(i) for i in range(len(LABELS))]
    return NgramModel(clf.coef_[order], clf.intercept_[order])
