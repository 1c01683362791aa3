"""Aho-Corasick matching of lexicon terms over every normalized view of a text."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import ahocorasick_rs

from .normalize import fold_char, is_noise, normalize
from .terms import Term


@dataclass(frozen=True)
class Match:
    """A lexicon hit: the canonical term, its category and where it sits in the original text."""

    term: str
    category: str
    family: str
    view: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


def key(form: str) -> str:
    """The matchable key of a lexicon form: folded the same way as the text, noise removed."""
    return "".join(c for c in "".join(fold_char(ch) for ch in form) if not is_noise(c))


class Matcher:
    """One automaton over the keys of all terms, run on each view; overlaps resolved per span."""

    def __init__(self, terms: list[Term]):
        self.terms: list[Term] = []
        patterns: list[str] = []
        seen: set[str] = set()
        for term in terms:
            for form in term.forms:
                pattern = key(form)
                if len(pattern) < 2 or pattern in seen:
                    continue
                seen.add(pattern)
                patterns.append(pattern)
                self.terms.append(term)
        self.patterns = patterns
        self._ac = ahocorasick_rs.AhoCorasick(patterns, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)

    def match(self, text: str) -> list[Match]:
        """Every term found in ``text``; one hit per original span, the longest and most literal view wins."""
        found: dict[tuple[int, int, str], Match] = {}
        for view in normalize(text):
            for index, start, end in self._ac.find_matches_as_indexes(view.text):
                term = self.terms[index]
                o_start, o_end = view.span(start, end)
                found.setdefault(
                    (o_start, o_end, term.canonical),
                    Match(term.canonical, term.category, term.family, view.name, o_start, o_end, text[o_start:o_end]),
                )
        return _drop_contained(sorted(found.values(), key=lambda m: (m.start, -(m.end - m.start))))


def _drop_contained(matches: list[Match]) -> list[Match]:
    """Drop a hit lying wholly inside a longer hit of the same category (修复征信 inside 修复征信记录)."""
    kept: list[Match] = []
    for m in matches:
        if any(k.start <= m.start and m.end <= k.end and k.category == m.category and k != m for k in kept):
            continue
        kept.append(m)
    return kept
