"""grayscan.lexicon: evasion-resistant matching of guideline terms, plus contact extraction.

Public API::

    from lexicon import Lexicon
    lex = Lexicon.load(["team_terms.toml"])   # or Lexicon.default() for the bundled terms
    result = lex.scan("加V咨询征信修复")
    result.matches, result.contacts
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from .contacts import CONTACT_TYPES, Contact, find_contacts
from .match import Match, Matcher
from .normalize import FoldedText, View, normalize
from .terms import CATEGORIES, LexiconError, Term, load_terms

__all__ = [
    "CATEGORIES",
    "CONTACT_TYPES",
    "Contact",
    "Lexicon",
    "LexiconError",
    "MAX_SCAN_CHARS",
    "Match",
    "ScanResult",
    "Term",
    "View",
    "find_contacts",
    "load_terms",
    "normalize",
]

#: Post text is hostile input: only this many characters of a text are scanned.
MAX_SCAN_CHARS = 100_000
#: Views that read letters as pinyin; a hit of theirs inside a contact is the contact's name, not text.
_PINYIN_VIEWS = ("pinyin", "initials")


@dataclass(frozen=True)
class ScanResult:
    """Lexicon hits and contacts of one text (``truncated``: the text was cut to MAX_SCAN_CHARS)."""

    matches: list[Match]
    contacts: list[Contact]
    truncated: bool = False

    def in_categories(self, *categories: str) -> list[Match]:
        """The matches of the given categories, in text order."""
        return [m for m in self.matches if m.category in categories]

    def to_dict(self) -> dict:
        """``{"matches": [...], "contacts": [...]}`` as written by ``grayscan lexicon scan``."""
        out = {"matches": [m.to_dict() for m in self.matches], "contacts": [c.to_dict() for c in self.contacts]}
        if self.truncated:
            out["truncated"] = True
        return out


class Lexicon:
    """The loaded terms and their matcher; build once, scan many texts (thread-safe to share)."""

    _default: Lexicon | None = None
    _default_lock = threading.Lock()

    def __init__(self, terms: list[Term]):
        self.terms = terms
        self.matcher = Matcher(terms)

    @classmethod
    def load(cls, extra: list[str | Path] | tuple = ()) -> Lexicon:
        """The bundled lexicon merged with extra TOML files (validated; raises LexiconError)."""
        if not extra:
            return cls.default()
        return cls(load_terms(extra))

    @classmethod
    def default(cls) -> Lexicon:
        """The bundled lexicon, built once per process."""
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls(load_terms())
            return cls._default

    def scan(self, text: str) -> ScanResult:
        """Matches and contacts of ``text`` (its first MAX_SCAN_CHARS characters)."""
        truncated = len(text) > MAX_SCAN_CHARS
        if truncated:
            text = text[:MAX_SCAN_CHARS]
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: one "?" each, so offsets still hold
            text = text.encode("utf-8", "replace").decode("utf-8")
        folded = FoldedText(text)
        contacts = find_contacts(text, folded)
        names = [(c.start, c.end) for c in contacts]
        matches = self.matcher.match(text, names, folded)
        if names:
            matches = [m for m in matches if m.view not in _PINYIN_VIEWS
                       or not any(start <= m.start and m.end <= end for start, end in names)]
        return ScanResult(matches, contacts, truncated)

    def terms_in(self, *categories: str) -> list[Term]:
        """Terms of the given categories, in file order."""
        return [t for t in self.terms if t.category in categories]
