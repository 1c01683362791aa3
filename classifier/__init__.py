"""grayscan.classifier: tier posts as level1 / level2 abnormal rights defense, or none.

Public API::

    from classifier import Classifier
    clf = Classifier()                       # bundled lexicon
    [d.to_dict() for d in clf.classify(["征信修复，加V详聊"])]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lexicon import Lexicon

from .policy import THRESHOLD, Tiering, tier

__all__ = ["THRESHOLD", "Classifier", "Detection", "MAX_TEXT_CHARS", "Tiering", "tier"]

#: Texts are cut to this many characters before classification: post text is hostile input.
MAX_TEXT_CHARS = 20_000


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
    """Lexicon evidence plus the tiering policy, behind one ``classify`` call."""

    name = "lexicon-policy-v1"

    def __init__(self, lexicon: Lexicon | None = None, lexicon_files: Iterable[str | Path] = ()):
        self.lexicon = lexicon or Lexicon.load(list(lexicon_files))

    def classify(self, texts: Iterable[str]) -> list[Detection]:
        """One Detection per text, in order. Empty or whitespace-only text is tier ``none``."""
        return [self.classify_one(text) for text in texts]

    def classify_one(self, text: str) -> Detection:
        text = (text or "")[:MAX_TEXT_CHARS]
        if not text.strip():
            return Detection("none", 0.0, ["empty text"])
        scan = self.lexicon.scan(text)
        result = tier(scan)
        return Detection(
            result.tier,
            result.score,
            result.reasons,
            [{"term": m.term, "category": m.category, "start": m.start, "end": m.end} for m in scan.matches],
            [{"type": c.type, "value": c.value, "start": c.start, "end": c.end} for c in scan.contacts],
        )
