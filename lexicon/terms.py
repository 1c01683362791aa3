"""Lexicon records as data: load, merge and validate TOML term files."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

CATEGORIES = (
    "level1_term",
    "level2_term",
    "impersonation",
    "claim",
    "signal",
    "loan_slang",
    "warning_cue",
    "legit_context",
)
FP_RISKS = ("low", "medium", "high")
KEYS = {"canonical", "category", "family", "variants", "source", "fp_risk"}


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Term:
    """One lexicon entry: a canonical form, its category and the variants that mean it."""

    canonical: str
    category: str
    family: str
    variants: tuple[str, ...] = ()
    source: str = ""
    fp_risk: str = "medium"
    origin: str = field(default="", compare=False)

    @property
    def forms(self) -> tuple[str, ...]:
        """Every surface form that should match this term (canonical first)."""
        return (self.canonical, *self.variants)


def _parse(path: str, text: str) -> list[Term]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"{path}: not valid TOML: {exc}") from exc
    unknown_top = set(data) - {"term"}
    if unknown_top:
        raise LexiconError(f"{path}: unknown top-level keys {sorted(unknown_top)}; entries go in [[term]] tables")
    terms = []
    for number, entry in enumerate(data.get("term", []), 1):
        where = f"{path}: term #{number} ({entry.get('canonical', '?')})"
        unknown = set(entry) - KEYS
        if unknown:
            raise LexiconError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(KEYS)}")
        for required in ("canonical", "category", "family"):
            if not isinstance(entry.get(required), str) or not entry[required].strip():
                raise LexiconError(f"{where}: missing or empty '{required}'")
        if entry["category"] not in CATEGORIES:
            raise LexiconError(f"{where}: category {entry['category']!r} is not one of {', '.join(CATEGORIES)}")
        fp_risk = entry.get("fp_risk", "medium")
        if fp_risk not in FP_RISKS:
            raise LexiconError(f"{where}: fp_risk {fp_risk!r} is not one of {', '.join(FP_RISKS)}")
        variants = entry.get("variants", [])
        if not isinstance(variants, list) or not all(isinstance(v, str) and v.strip() for v in variants):
            raise LexiconError(f"{where}: 'variants' must be a list of non-empty strings")
        terms.append(
            Term(
                canonical=entry["canonical"].strip(),
                category=entry["category"],
                family=entry["family"].strip(),
                variants=tuple(v.strip() for v in variants),
                source=entry.get("source", ""),
                fp_risk=fp_risk,
                origin=path,
            )
        )
    return terms


def check(terms: list[Term]) -> list[Term]:
    """Refuse duplicate canonicals and forms claimed by two different categories."""
    seen: dict[str, Term] = {}
    for term in terms:
        for form in term.forms:
            other = seen.get(form)
            if other is None:
                seen[form] = term
            elif other.category != term.category:
                raise LexiconError(
                    f"{term.origin}: {form!r} is {term.category} in {term.canonical!r} "
                    f"but {other.category} in {other.canonical!r} ({other.origin})"
                )
            elif form == term.canonical and other.canonical == term.canonical:
                raise LexiconError(f"{term.origin}: duplicate entry {form!r} (also in {other.origin})")
    return terms


def load_terms(extra: list[str | Path] | tuple = ()) -> list[Term]:
    """The bundled terms plus any extra lexicon files (a team's own terms), validated together."""
    bundled = resources.files("lexicon").joinpath("data/terms.toml")
    terms = _parse("lexicon/data/terms.toml", bundled.read_text(encoding="utf-8"))
    for path in extra:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise LexiconError(f"{path}: cannot read: {exc.strerror}") from exc
        terms += _parse(str(path), text)
    return check(terms)
