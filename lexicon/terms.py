"""Lexicon records as data: load, merge and validate TOML term files.

Validation collects every problem of every file before failing, and names each by file, line
and entry, so a team can fix its lexicon in one pass. Two forms count as the same when they
normalize to the same key (停息挂帐 and 停息掛賬 are both 停息挂账): the normalizer already
matches such spellings, so listing both is a duplicate.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .normalize import term_key

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
KEYS = ("canonical", "category", "family", "variants", "source", "fp_risk")
REQUIRED = ("canonical", "category", "family")
#: Shorter keys would fire everywhere (a single character is part of countless words).
MIN_KEY_CHARS = 2
BUNDLED = "lexicon/data/terms.toml"
_ENTRY_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*term[ \t]*\]\]", re.MULTILINE)


class LexiconError(ValueError):
    """Lexicon files that cannot be used; ``problems`` lists each one with its file, line and entry."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        head = problems[0] if len(problems) == 1 else f"{len(problems)} problems in lexicon files:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in problems)]) if len(problems) > 1 else head)


@dataclass(frozen=True)
class Term:
    """One lexicon entry: a canonical form, its category and the variants that mean it."""

    canonical: str
    category: str
    family: str
    variants: tuple[str, ...] = ()
    source: str = ""
    fp_risk: str = "medium"
    origin: str = field(default="", compare=False)  # "path:line", where the entry starts

    @property
    def forms(self) -> tuple[str, ...]:
        """Every surface form that should match this term (canonical first)."""
        return (self.canonical, *self.variants)


def _suggest(value: object, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(value), choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _entry(path: str, line: int, number: int, entry: object, problems: list[str]) -> Term | None:
    """One parsed [[term]] table as a Term, or None after recording why it cannot be one."""
    if not isinstance(entry, dict):
        problems.append(f"{path}:{line}: term #{number}: expected a table, got {type(entry).__name__}")
        return None
    where = f"{path}:{line}: term #{number} ({entry.get('canonical', '?')})"
    for key in sorted(set(entry) - set(KEYS)):  # reported, and the entry still checked against the others
        problems.append(f"{where}: unknown key {key!r}{_suggest(key, KEYS)}; allowed: {', '.join(KEYS)}")
    before = len(problems)
    for key in REQUIRED:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            problems.append(f"{where}: missing or empty {key!r} (a string)")
    for key in ("source", "fp_risk"):
        if key in entry and not isinstance(entry[key], str):
            problems.append(f"{where}: {key!r} must be a string")
    category = entry.get("category")
    if isinstance(category, str) and category.strip() and category not in CATEGORIES:
        problems.append(f"{where}: category {category!r} is not one of {', '.join(CATEGORIES)}{_suggest(category, CATEGORIES)}")
    fp_risk = entry.get("fp_risk", "medium")
    if isinstance(fp_risk, str) and fp_risk not in FP_RISKS:
        problems.append(f"{where}: fp_risk {fp_risk!r} is not one of {', '.join(FP_RISKS)}")
    variants = entry.get("variants", [])
    if not isinstance(variants, list) or not all(isinstance(v, str) and v.strip() for v in variants):
        problems.append(f"{where}: 'variants' must be a list of non-empty strings")
    if len(problems) > before:
        return None
    return Term(
        canonical=entry["canonical"].strip(),
        category=category,
        family=entry["family"].strip(),
        variants=tuple(v.strip() for v in variants),
        source=entry.get("source", "").strip(),
        fp_risk=fp_risk,
        origin=f"{path}:{line}",
    )


def parse(path: str, text: str, problems: list[str]) -> list[Term]:
    """The terms of one lexicon file; problems are appended to ``problems``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: not valid TOML: {exc}")
        return []
    for key in sorted(set(data) - {"term"}):
        problems.append(f"{path}: unknown top-level key {key!r}; entries go in [[term]] tables")
    entries = data.get("term", [])
    if not isinstance(entries, list):
        problems.append(f"{path}: 'term' must be an array of tables ([[term]]), got {type(entries).__name__}")
        return []
    lines = [text.count("\n", 0, m.start()) + 1 for m in _ENTRY_HEADER.finditer(text)]
    terms = []
    for number, entry in enumerate(entries, 1):
        line = lines[number - 1] if number <= len(lines) else 0
        term = _entry(path, line, number, entry, problems)
        if term is not None:
            terms.append(term)
    return terms


def check(terms: list[Term], problems: list[str]) -> None:
    """Record duplicates, forms claimed by two categories, and forms too short to match."""
    seen: dict[str, tuple[Term, str]] = {}
    for term in terms:
        where = f"{term.origin}: term {term.canonical!r}"
        for form in term.forms:
            key = term_key(form)
            if len(key) < MIN_KEY_CHARS:
                problems.append(f"{where}: {form!r} normalizes to {key!r}, too short to match (needs {MIN_KEY_CHARS}+ characters)")
                continue
            if key not in seen:
                seen[key] = (term, form)
                continue
            other, other_form = seen[key]
            same = "" if form == other_form else f" ({form!r} and {other_form!r} both normalize to {key!r})"
            if other is term:
                problems.append(f"{where}: variant {form!r} repeats {other_form!r}{same}; the normalizer already matches it")
            elif other.category != term.category:
                problems.append(
                    f"{where}: conflicting categories: {form!r} is {term.category} here "
                    f"but {other.category} in {other.canonical!r} at {other.origin}{same}"
                )
            else:
                problems.append(f"{where}: duplicate: {form!r} is already listed in {other.canonical!r} at {other.origin}{same}")


def load_terms(extra: list[str | Path] | tuple = ()) -> list[Term]:
    """The bundled terms plus any extra lexicon files (a team's own terms), validated together."""
    problems: list[str] = []
    bundled = resources.files("lexicon").joinpath("data/terms.toml")
    terms = parse(BUNDLED, bundled.read_text(encoding="utf-8"), problems)
    for path in extra:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            problems.append(f"{path}: cannot read: {exc.strerror}")
            continue
        except UnicodeDecodeError as exc:
            problems.append(f"{path}: not UTF-8 text (byte {exc.start})")
            continue
        terms += parse(str(path), text, problems)
    check(terms, problems)
    if problems:
        raise LexiconError(problems)
    return terms
