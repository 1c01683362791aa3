"""Word segmentation with jieba, the lexicon's terms loaded as its user dictionary.

Used for the classifier's segmentation features and the store's full-text search column:
unicode61 FTS5 indexes space-separated tokens, so a segmented copy of each text makes
two-character queries such as 贷款 hit.
"""

from __future__ import annotations

import logging
import threading

import jieba

from .terms import Term, load_terms

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def tokenizer(terms: list[Term] | None = None) -> jieba.Tokenizer:
    """A jieba tokenizer with every lexicon form as a user word (built once per process)."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            for term in terms if terms is not None else load_terms():
                for form in term.forms:
                    tok.add_word(form, freq=None)
            _tokenizer = tok
        return _tokenizer


def segment(text: str) -> list[str]:
    """Words of ``text`` (whitespace dropped), lexicon terms kept whole."""
    return [w for w in tokenizer().lcut(text or "") if w.strip()]


def segmented(text: str) -> str:
    """``text`` as space-separated words, ready for a unicode61 FTS5 column."""
    return " ".join(segment(text))
