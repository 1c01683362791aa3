"""Views of a text for matching, each with a map from view positions back to the original.

A view is built character by character so that ``offsets[i]`` is the index in the original
text of the character that produced ``text[i]``; a match at ``view[s:e]`` is therefore
``original[offsets[s]:offsets[e - 1] + 1]``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")

#: Characters NFKC leaves alone that ads use for digits.
_EXTRA_DIGITS = {
    **{chr(0x2776 + i): str((i + 1) % 10) for i in range(10)},  # ❶..❿ (❿ -> 0 is fine for IDs)
    **{chr(0x2780 + i): str((i + 1) % 10) for i in range(10)},  # ➀..➉
    **{chr(0x278A + i): str((i + 1) % 10) for i in range(10)},  # ➊..➓
    **{chr(0x24F5 + i): str((i + 1) % 10) for i in range(10)},  # ⓵..⓾
    "⓿": "0",
    "〇": "0",
}
#: Variant characters OpenCC t2s keeps (帐 stays 帐), mapped to the form the lexicon uses.
_VARIANTS = {"帐": "账", "徵": "征"}


@dataclass(frozen=True)
class View:
    """A normalized rendering of a text plus its offset map back to the original."""

    name: str
    text: str
    offsets: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text span of ``view.text[start:end]``."""
        return self.offsets[start], self.offsets[end - 1] + 1


@lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """NFKC, extra digits, case fold, traditional to simplified and variant map for one character."""
    if ch in _EXTRA_DIGITS:
        return _EXTRA_DIGITS[ch]
    out = unicodedata.normalize("NFKC", ch).casefold()
    if out and not out.isascii():
        out = _T2S.convert(out)
    return "".join(_VARIANTS.get(c, c) for c in out)


def is_noise(ch: str) -> bool:
    """Separators ads insert between characters: spaces, zero-width, punctuation, symbols, emoji."""
    if ch.isspace() or ch in "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff":
        return True
    category = unicodedata.category(ch)
    return category[0] in "PSZ" or category in ("Cf", "Mn", "Me")


def strict_view(text: str) -> View:
    """NFKC + extra digits + casefold + t2s + variant map, one original char at a time."""
    chars: list[str] = []
    offsets: list[int] = []
    for index, ch in enumerate(text):
        for out in fold_char(ch):
            chars.append(out)
            offsets.append(index)
    return View("strict", "".join(chars), tuple(offsets))


def skeleton_view(strict: View) -> View:
    """The strict view with separators and noise between characters dropped."""
    keep = [i for i, ch in enumerate(strict.text) if not is_noise(ch)]
    return View("skeleton", "".join(strict.text[i] for i in keep), tuple(strict.offsets[i] for i in keep))


def normalize(text: str) -> list[View]:
    """All matching views of ``text``, most literal first."""
    strict = strict_view(text)
    return [strict, skeleton_view(strict)]
