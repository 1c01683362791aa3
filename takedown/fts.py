"""The text the full-text index sees, and how a user's query is turned into an FTS5 expression.

SQLite's unicode61 tokenizer treats a run of CJK characters as one token, so Chinese text is
indexed pre-segmented: jieba (with the lexicon as user dictionary) in search-engine mode, which
emits a long word and its dictionary sub-words (征信修复 → 征信 修复 征信修复). A two-character
query such as 贷款 is then a token of its own. Both sides go through the lexicon's strict
normalization first, so a traditional-character post (貸款) is found by a simplified query.
"""

from __future__ import annotations

import functools

import jieba

from lexicon.normalize import strict_view
from lexicon.segment import segment, tokenizer


def load_segmenter() -> None:
    """Load jieba's dictionary and the lexicon's words now (about a second, once per process) rather
    than inside the first batch of posts written."""
    tokenizer()


def _words(text: str) -> list[str]:
    return [word for block in _BLOCKS.split(strict_view(text).text) if block for word in _block_words(block)]


#: jieba's own split of a text into runs it segments independently (CJK, letters and digits) and the
#: rest, so segmenting block by block gives exactly the words of the whole text.
_BLOCKS = jieba.re_han_default


@functools.lru_cache(maxsize=1 << 16)
def _block_words(block: str) -> tuple[str, ...]:
    """The search words of one block, memoized: ads are templates, so their blocks recur across posts."""
    return tuple(w for w in tokenizer().cut_for_search(block) if any(c.isalnum() for c in w))


def index_text(*parts: str | None) -> str:
    """The space-separated search tokens of ``parts`` (e.g. a post's title and text)."""
    return " ".join(word for part in parts if part for word in _words(part))


def match_expression(query: str) -> str:
    """An FTS5 MATCH expression requiring every word of ``query`` (each quoted, so no operators).

    Raises ValueError when the query has no searchable word (only punctuation or spaces).
    """
    words = [w for w in segment(strict_view(query).text) if any(c.isalnum() for c in w)]
    if not words:
        raise ValueError(f"nothing to search for in {query!r}")
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)
