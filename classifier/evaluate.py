"""Evaluation of a classifier on labelled records: actionable P/R/F1, tier accuracy, confusion matrix."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .model import LABELS


@dataclass
class Scores:
    """Metrics of one classifier on one labelled set; ``confusion[gold][predicted]`` counts posts."""

    name: str
    confusion: dict[str, dict[str, int]] = field(default_factory=lambda: {g: dict.fromkeys(LABELS, 0) for g in LABELS})
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (gold, predicted, text)
    subsets: dict[str, Scores] = field(default_factory=dict)

    def add(self, gold: str, predicted: str, text: str, subsets: Sequence[str] = ()) -> None:
        self.confusion[gold][predicted] += 1
        if gold != predicted:
            self.errors.append((gold, predicted, text))
        for name in subsets:
            self.subsets.setdefault(name, Scores(name)).add(gold, predicted, text)

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.confusion.values())

    def _actionable(self) -> tuple[int, int, int]:
        c = self.confusion
        tp = sum(c[g][p] for g in LABELS[1:] for p in LABELS[1:])
        fp = sum(c["none"][p] for p in LABELS[1:])
        fn = sum(c[g]["none"] for g in LABELS[1:])
        return tp, fp, fn

    @property
    def precision(self) -> float:
        tp, fp, _ = self._actionable()
        return tp / (tp + fp) if tp + fp else 0.0

    @property
    def recall(self) -> float:
        tp, _, fn = self._actionable()
        return tp / (tp + fn) if tp + fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def tier_accuracy(self) -> float:
        return sum(self.confusion[label][label] for label in LABELS) / self.total if self.total else 0.0

    @property
    def none_kept(self) -> float:
        """Share of gold ``none`` posts classified none (the warnings-and-news figure)."""
        row = self.confusion["none"]
        return row["none"] / sum(row.values()) if sum(row.values()) else 0.0

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "records": self.total,
            "actionable": {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4)},
            "tier_accuracy": round(self.tier_accuracy, 4),
            "none_kept": round(self.none_kept, 4),
            "confusion": self.confusion,
            **({"subsets": {k: v.to_dict() for k, v in self.subsets.items()}} if self.subsets else {}),
        }


#: Record styles (the corpus's ``style``) and kinds (real-post sets' ``kind``) of warnings, notices and news.
WARNING_STYLES = frozenset({"notice", "news", "warning"})
#: Labels of records that are not scored: borderline calls, and posts quoted elsewhere (``exposed``).
UNSCORED_LABELS = frozenset({"borderline"})


def scored(record: dict) -> bool:
    """Whether a labelled record counts: not borderline, not marked ``exposed``."""
    return str(record.get("label", "")).strip().lower() not in UNSCORED_LABELS and not record.get("exposed")


def subsets_of(record: dict) -> list[str]:
    """The report subsets a labelled record belongs to, read from its provenance fields when present."""
    names = []
    if record.get("evasions") or record.get("moves"):
        names.append("obfuscated")
    if record.get("label") == "none" and (record.get("style") in WARNING_STYLES or record.get("kind") in WARNING_STYLES):
        names.append("warnings & news")
    if record.get("source") == "hand-written":
        names.append("hand-written")
    if record.get("kind"):
        names.append(f"kind: {record['kind']}")
    return names


def evaluate(
    classifiers: Sequence,
    records: Sequence[dict],
    batch_size: int = 256,
    on_batch: Callable[[int], None] | None = None,
) -> list[Scores]:
    """Score every classifier on ``records`` ({"text", "label"}); ``on_batch(n)`` reports progress."""
    scores = [Scores(c.name) for c in classifiers]
    for start in range(0, len(records), batch_size):
        chunk = records[start:start + batch_size]
        texts = [r["text"] for r in chunk]
        for clf, score in zip(classifiers, scores):
            for record, detection in zip(chunk, clf.classify(texts)):
                score.add(record["label"], detection.tier, record["text"], subsets_of(record))
        if on_batch:
            on_batch(len(chunk))
    return scores
