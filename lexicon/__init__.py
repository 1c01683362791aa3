"""grayscan.lexicon: evasion-resistant matching of guideline terms, plus contact extraction.

Public API::

    from lexicon import Lexicon
    lex = Lexicon.load(["team_terms.toml"])
    result = lex.scan("加V咨询征信修复")
    result.matches, result.contacts
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .contacts import Contact, find_contacts
from .match import Match, Matcher
from .normalize import View, normalize
from .terms import CATEGORIES, LexiconError, Term, load_terms

__all__ = [
    "CATEGORIES",
    "Contact",
    "Lexicon",
    "LexiconError",
    "Match",
    "ScanResult",
    "Term",
    "View",
    "find_contacts",
    "load_terms",
    "normalize",
]


@dataclass(frozen=True)
class ScanResult:
    """Lexicon hits and contacts of one text."""

    matches: list[Match]
    contacts: list[Contact]


class Lexicon:
    """The loaded terms and their matcher; build once, scan many texts."""

    def __init__(self, terms: list[Term]):
        self.terms = terms
        self.matcher = Matcher(terms)

    @classmethod
    def load(cls, extra: list[str | Path] | tuple = ()) -> Lexicon:
        """The bundled lexicon merged with extra TOML files (validated; raises LexiconError)."""
        return cls(load_terms(extra))

    def scan(self, text: str) -> ScanResult:
        """Matches and contacts of ``text``."""
        return ScanResult(self.matcher.match(text), find_contacts(text))

    def terms_in(self, *categories: str) -> list[Term]:
        """Terms of the given categories, in file order."""
        return [t for t in self.terms if t.category in categories]
