"""grayscan.classifier: tier posts as level1 / level2 abnormal rights defense, or none.

Public API::

    from classifier import Classifier
    clf = Classifier()                       # bundled lexicon and model
    [d.to_dict() for d in clf.classify(["征信修复，加V详聊"])]
    Classifier(model=None)                   # the lexicon-only baseline
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lexicon import Lexicon, ScanResult

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import ModelError, TextModel
from .canonical import model_text
from .policy import THRESHOLD, Tiering, has_finance_content, tier

__all__ = ["DEFAULT_MODEL", "THRESHOLD", "Classifier", "Detection", "MAX_TEXT_CHARS", "ModelError", "TextModel", "Tiering", "tier"]

#: Texts are cut to this many characters before classification: post text is hostile input.
MAX_TEXT_CHARS = 20_000
#: ``model=`` value meaning the model bundled with the package.
DEFAULT_MODEL = "bundled"
#: Where the bundled model lives (kept here so the lexicon-only path never imports torch).
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "model"


def __getattr__(name: str):
    # torch is imported only when a model is actually wanted.
    if name in ("ModelError", "TextModel"):
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Detection:
    """The classify contract's result for one text."""

    tier: str
    score: float
    reasons: list[str]
    matches: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "tier": self.tier,
            "score": self.score,
            "reasons": self.reasons,
            "matches": self.matches,
            "contacts": self.contacts,
        }


class Classifier:
    """Lexicon evidence plus the model and the tiering policy, behind one ``classify`` call.

    ``model`` is the bundled model by default, a ``save_pretrained`` directory, an already
    loaded ``TextModel``, or None for the lexicon-only baseline.
    """

    def __init__(
        self,
        lexicon: Lexicon | None = None,
        lexicon_files: Iterable[str | Path] = (),
        model: str | Path | TextModel | None = DEFAULT_MODEL,
        batch_size: int = 64,
    ):
        self.lexicon = lexicon or Lexicon.load(list(lexicon_files))
        if model == DEFAULT_MODEL and not (DEFAULT_MODEL_DIR / "config.json").is_file():
            # A source tree without the built model still classifies, with the lexicon baseline.
            warnings.warn(f"no bundled model in {DEFAULT_MODEL_DIR}; using the lexicon-only policy "
                          "(build it with `grayscan train --output classifier/model`)", stacklevel=2)
            model = None
        if isinstance(model, (str, Path)):
            from .model import TextModel

            model = TextModel.load(None if model == DEFAULT_MODEL else model)
        self.model: TextModel | None = model
        self.batch_size = batch_size
        self.name = f"policy-v2+bert:{model.name}" if model is not None else "lexicon-policy-v1"

    def classify(self, texts: Iterable[str]) -> list[Detection]:
        """One Detection per text, in order; the model runs once over the batch. Empty text is tier ``none``.

        Texts with no finance content (see ``policy.has_finance_content``) never reach the model.
        """
        texts = [(t or "")[:MAX_TEXT_CHARS] for t in texts]
        scans = [self.lexicon.scan(t) if t.strip() else None for t in texts]
        canonical = [model_text(t) if scan is not None else "" for t, scan in zip(texts, scans)]
        live = [i for i, scan in enumerate(scans) if scan is not None and has_finance_content(scan, canonical[i])]
        probabilities: dict[int, tuple[float, float, float]] = {}
        if self.model is not None and live:
            probs = self.model.probabilities([canonical[i] for i in live], batch_size=self.batch_size, canonical=True)
            probabilities = dict(zip(live, probs))
        return [self._detect(scan, canonical[i], probabilities.get(i)) if scan is not None
                else Detection("none", 0.0, ["empty text"]) for i, scan in enumerate(scans)]

    def classify_one(self, text: str) -> Detection:
        return self.classify([text])[0]

    def _detect(self, scan: ScanResult, canonical: str, probabilities: tuple[float, float, float] | None) -> Detection:
        result = tier(scan, probabilities, canonical)
        return Detection(
            result.tier,
            result.score,
            result.reasons,
            [{"term": m.term, "category": m.category, "start": m.start, "end": m.end} for m in scan.matches],
            [{"type": c.type, "value": c.value, "start": c.start, "end": c.end} for c in scan.contacts],
        )
