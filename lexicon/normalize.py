"""Views of a text for matching, each with a map from view positions back to the original.

Every view is a per-character rewrite of the original text: character ``i`` of the original
becomes a (possibly empty or longer) string. The rewrite tables are dicts keyed by code point
that fill themselves on first use, so building a view is one C-level ``str.translate`` call;
the offset map is only computed when a view actually has a hit. ``str.translate`` still costs a
dict lookup per character, so the two views every scan needs (``strict`` for contacts and
``homophone`` for terms) are built by ``FoldedText`` instead: one C-level split of the text at the
few characters either fold changes, and a lookup for those characters only.

Views, most literal first:

``strict``     NFKC, the digits/letters NFKC misses (❶ ➀ ⓵ ⓿ 🅥 🇻 …), case fold, OpenCC t2s,
               and a variant map for what t2s keeps (帐→账, 徵→征 …).
``skeleton``   ``strict`` with separators and noise dropped: spaces (incl. U+3000), zero-width
               characters, variation selectors, punctuation, symbols, emoji.
``homophone``  ``skeleton`` with homophones and look-alikes of key characters (葆→保, 崔→催, 芯→信 …).
``pinyin``     ``skeleton`` with every Han character replaced by its toneless pinyin (征xin修复).
``initials``   ``skeleton`` with every Han character replaced by its pinyin initial (zx修复, txgz).
``contact``    ``strict`` with every digit-like character (１ ① ❶ ⑴ ⁹ 一 壹 ㊄ …) as an ASCII digit;
               only for contact parsing, since mapping 一→1 everywhere would corrupt words.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Sequence
from functools import cached_property
from itertools import accumulate

import opencc

_T2S = opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """``text`` in simplified script (OpenCC t2s), one converter for the lexicon and the models."""
    return _T2S.convert(text)


#: Hostile input may use every code point once; past this, table misses are computed, not stored.
_MAX_CACHED = 200_000

#: Characters NFKC leaves alone that ads use for digits and letters.
_EXTRA_FOLD = {
    **{chr(0x2776 + i): str((i + 1) % 10) for i in range(10)},  # ❶..❿ (❿ -> 0 is fine for IDs)
    **{chr(0x2780 + i): str((i + 1) % 10) for i in range(10)},  # ➀..➉
    **{chr(0x278A + i): str((i + 1) % 10) for i in range(10)},  # ➊..➓
    **{chr(0x24F5 + i): str((i + 1) % 10) for i in range(10)},  # ⓵..⓾
    "⓿": "0",
    "〇": "0",
    **{chr(0x1F150 + i): chr(0x61 + i) for i in range(26)},  # 🅐..🅩 negative circled letters
    **{chr(0x1F170 + i): chr(0x61 + i) for i in range(26)},  # 🅰..🆉 negative squared letters
    **{chr(0x1F1E6 + i): chr(0x61 + i) for i in range(26)},  # 🇦..🇿 regional indicators
    "ㄨ": "v",  # Bopomofo ㄨ as a V look-alike (ㄨx = vx)
}

#: Variant characters OpenCC t2s keeps, mapped to the form the lexicon uses (掛帳 -> 挂帐 -> 挂账).
VARIANTS = {"帐": "账", "徵": "征", "欵": "款", "説": "说", "綫": "线", "銀": "银", "彔": "录", "僞": "伪"}

#: Homophones and look-alikes of the lexicon's key characters, as ads write them to dodge filters.
#: 葆/崔 are attested (BBT-2, CJB); the rest are generated for the same key characters.
HOMOPHONES = {
    "葆": "保", "宝": "保", "堡": "保",
    "崔": "催", "摧": "催", "璀": "催",
    "芯": "信", "薪": "信", "鑫": "信",
    "证": "征", "症": "征", "筝": "征",
    "熄": "息", "媳": "息",
    "卦": "挂", "褂": "挂",
    "仗": "账", "胀": "账",
    "寨": "债", "斋": "债",
    "愉": "逾", "瑜": "逾", "榆": "逾",
    "案": "岸", "按": "岸",
    "产": "铲", "谗": "铲",
    "腿": "退", "蜕": "退", "褪": "退",
    "袋": "贷", "黛": "贷",
    "唯": "维", "惟": "维",
    "泉": "权", "拳": "权", "劝": "权",
    "徽": "微", "薇": "微", "威": "微",
}


def fold_char(ch: str) -> str:
    """NFKC, extra digits/letters, case fold, traditional to simplified and variant map for one character."""
    extra = _EXTRA_FOLD.get(ch)
    if extra is not None:
        return extra
    out = unicodedata.normalize("NFKC", ch).casefold()
    if out and not out.isascii():
        out = _T2S.convert(out)
    return "".join(VARIANTS.get(c, c) for c in out)


_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u180e")


def is_noise(ch: str) -> bool:
    """Separators ads insert between characters: spaces, zero-width, punctuation, symbols, emoji."""
    if ch.isspace() or ch in _ZERO_WIDTH:
        return True
    category = unicodedata.category(ch)
    return category[0] in "PSZ" or category in ("Cc", "Cf", "Mn", "Me")


def is_han(ch: str) -> bool:
    """A CJK unified ideograph (basic block or extension A)."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def skeleton_fold(ch: str) -> str:
    """``fold_char`` with noise removed."""
    return "".join(c for c in fold_char(ch) if not is_noise(c))


def term_key(form: str) -> str:
    """The matchable key of a lexicon form: folded exactly like the text's skeleton view."""
    return "".join(map(skeleton_fold, form))


def homophone_fold(ch: str) -> str:
    """``skeleton_fold`` with the homophone map applied."""
    return "".join(HOMOPHONES.get(c, c) for c in skeleton_fold(ch))


def digit_of(ch: str) -> str | None:
    """The ASCII digit a digit-like character stands for (１ ① ❶ ⑴ ⒈ ⁹ ₈ 一 〇 壹 ㊄ ㈤ 幺 …), else None."""
    value = unicodedata.numeric(ch, None)
    if value is None:
        extra = _EXTRA_FOLD.get(ch, "")
        return extra if extra.isdigit() else None
    return str(int(value)) if value in range(10) else None


def contact_fold(ch: str) -> str:
    """``fold_char`` with every digit-like character as an ASCII digit, for contact parsing."""
    return digit_of(ch) or fold_char(ch)


class _CharFold(dict):
    """character -> its fold, filled lazily (a bounded cache, like CharTable but keyed by character)."""

    def __init__(self, fold: Callable[[str], str]):
        super().__init__()
        self.fold = fold

    def __missing__(self, ch: str) -> str:
        out = self.fold(ch)
        if len(self) < _MAX_CACHED:
            self[ch] = out
        return out


class CharTable(dict):
    """code point -> replacement string, filled lazily from ``fold``; a ``str.translate`` table.

    ``lengths`` maps each code point to ``chr(len(replacement))``; tables whose replacements always
    have the same lengths (skeleton, homophone, initials) share one, so a text's offset map is
    computed once for all of them. ``never_empty``: no character is dropped, so a view as long as
    its original is the identity map.
    """

    def __init__(self, name: str, fold: Callable[[str], str], lengths: LengthTable | None = None,
                 never_empty: bool = False):
        super().__init__()
        self.name = name
        self.fold = fold
        self.lengths = lengths or LengthTable(fold)
        self.never_empty = never_empty
        self._by_char = _CharFold(fold)

    def __missing__(self, code: int) -> str:
        out = self.fold(chr(code))
        if len(self) < _MAX_CACHED:
            self[code] = out
        return out

    def view(self, text: str) -> View:
        """This table's view of ``text``."""
        return View(self.name, text.translate(self), text, self)

    def mapped_view(self, text: str) -> View:
        """``view`` with its offset map built in the same pass: cheaper for short texts that will have hits."""
        outputs = list(map(self._by_char.__getitem__, text))
        view = View(self.name, "".join(outputs), text, self)
        view._ends = list(accumulate(map(len, outputs)))
        return view


class LengthTable(dict):
    """code point -> chr(length of its replacement), so ``str.translate`` yields the lengths at C speed."""

    def __init__(self, fold: Callable[[str], str]):
        super().__init__()
        self.fold = fold
        self._last: tuple[str, list[int]] = ("", [])

    def __missing__(self, code: int) -> str:
        out = chr(min(len(self.fold(chr(code))), 255))
        if len(self) < _MAX_CACHED:
            self[code] = out
        return out

    def ends(self, text: str) -> list[int]:
        """Cumulative replacement lengths of ``text`` (the last text's are kept: views share them)."""
        last_text, last_ends = self._last
        if last_text is text:
            return last_ends
        ends = list(accumulate(text.translate(self).encode("latin-1")))
        self._last = (text, ends)
        return ends


class View:
    """A normalized rendering of a text plus its offset map back to the original."""

    __slots__ = ("name", "text", "original", "_table", "_ends", "__dict__")

    def __init__(self, name: str, text: str, original: str, table: CharTable | None):
        self.name = name
        self.text = text
        self.original = original
        self._table = table
        self._ends: Sequence[int] | None = None

    def __repr__(self) -> str:
        return f"View({self.name!r}, {self.text!r})"

    @property
    def ends(self) -> Sequence[int]:
        """``ends[i]``: view position just after the output of original character ``i``."""
        if self._ends is None:  # not cached_property: in Python 3.11 that takes a lock on every access
            self._ends = self._compute_ends()
        return self._ends

    def _compute_ends(self) -> Sequence[int]:
        if self._table.never_empty and len(self.text) == len(self.original):
            return range(1, len(self.text) + 1)
        return self._table.lengths.ends(self.original)

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        """``offsets[j]``: index in the original of the character that produced ``text[j]``."""
        out: list[int] = []
        previous = 0
        for index, end in enumerate(self.ends):
            out.extend([index] * (end - previous))
            previous = end
        return tuple(out)

    def origin(self, position: int) -> int:
        """Index in the original of the character that produced view position ``position``."""
        return bisect_right(self.ends, position)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text span of ``view.text[start:end]``."""
        return self.origin(start), self.origin(end - 1) + 1



class Pinyin:
    """Toneless pinyin of Han characters, from pypinyin's single-character dictionary.

    Lexicon keys and text views use this same table, so a misreading (还 read hái) cannot
    make a key and the text disagree; keys additionally get every reading of their characters.
    """

    def __init__(self) -> None:
        from pypinyin.pinyin_dict import pinyin_dict

        self._readings = pinyin_dict

    def readings(self, ch: str) -> list[str]:
        """All toneless readings of ``ch``, most common first; ``[ch]`` for a non-Han character."""
        raw = self._readings.get(ord(ch))
        if raw is None:
            return [ch]
        return list(dict.fromkeys(_toneless(r) for r in raw.split(",")))

    def syllable(self, ch: str) -> str:
        return self.readings(ch)[0]

    def syllables_fold(self, ch: str) -> str:
        """Skeleton fold, then every Han character as its first reading."""
        return "".join(self.syllable(c) if is_han(c) else c for c in skeleton_fold(ch))

    def initials_fold(self, ch: str) -> str:
        """Skeleton fold, then every Han character as the initial of its first reading."""
        return "".join(self.syllable(c)[0] if is_han(c) else c for c in skeleton_fold(ch))


def _toneless(reading: str) -> str:
    decomposed = unicodedata.normalize("NFD", reading.replace("ü", "v"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


STRICT = CharTable("strict", fold_char, never_empty=True)
SKELETON = CharTable("skeleton", skeleton_fold)
HOMOPHONE = CharTable("homophone", homophone_fold, SKELETON.lengths)  # the map is one character to one
CONTACT = CharTable("contact", contact_fold, never_empty=True)
_pinyin: Pinyin | None = None
_pinyin_tables: tuple[CharTable, CharTable] | None = None


def pinyin() -> Pinyin:
    """The shared pinyin table (pypinyin's dictionary is loaded on first use)."""
    global _pinyin
    if _pinyin is None:
        _pinyin = Pinyin()
    return _pinyin


def pinyin_tables() -> tuple[CharTable, CharTable]:
    """The ``pinyin`` and ``initials`` view tables."""
    global _pinyin_tables
    if _pinyin_tables is None:
        table = pinyin()
        _pinyin_tables = (CharTable("pinyin", table.syllables_fold),
                          CharTable("initials", table.initials_fold, SKELETON.lengths))
    return _pinyin_tables


def _changed_chars() -> str:
    """Every BMP character the strict or homophone fold does not keep as itself.

    Same answer as ``fold_char(ch) != ch or homophone_fold(ch) != ch``, computed faster: t2s is
    asked once for all candidates (one character per line, so no phrase spans two of them).
    """
    changed, kept = [], []
    for code in range(0x10000):
        ch = chr(code)
        if (ch in _EXTRA_FOLD or ch in VARIANTS or ch in HOMOPHONES or is_noise(ch)
                or unicodedata.normalize("NFKC", ch).casefold() != ch):
            changed.append(ch)
        elif not ch.isascii() and not 0xD800 <= code < 0xE000:
            kept.append(ch)
    simplified = _T2S.convert("\n".join(kept)).split("\n")
    if len(simplified) != len(kept):  # never seen; stay exact if OpenCC ever merges lines
        simplified = [_T2S.convert(ch) for ch in kept]
    changed += [ch for ch, out in zip(kept, simplified) if out != ch]
    return "".join(changed)


_STRICT_FOLD = _CharFold(fold_char)
_HOMOPHONE_FOLD = _CharFold(homophone_fold)
_CONTACT_FOLD = _CharFold(contact_fold)
_splitters: dict[str, re.Pattern] = {}


def _split_changed(text: str, digits: bool = False) -> list[str]:
    """``text`` as [kept run, changed character, kept run, …, kept run] (every non-BMP character is "changed").

    ``digits``: digit-like characters (一 壹 ⑴ …) count as changed too, for the contact view.
    """
    key = "digits" if digits else "folds"
    splitter = _splitters.get(key)
    if splitter is None:
        changed = _changed_chars()
        if digits:
            changed += "".join(ch for ch in map(chr, range(0x10000)) if digit_of(ch) not in (None, ch))
        splitter = _splitters[key] = re.compile("([" + re.escape(changed) + "\U00010000-\U0010FFFF])")
    return splitter.split(text)


class PieceView(View):
    """A view built from a split text: original pieces and their outputs, so no per-character map is needed.

    ``pieces`` alternate kept runs (output as is) and single changed characters (output ``outputs``);
    positions map back through the pieces' cumulative lengths, computed on the first lookup. A view
    whose fold never drops a character (``never_empty``) and that is as long as its original maps
    every position to itself.
    """

    __slots__ = ("_pieces", "_outputs", "_joined", "_view_ends", "_output_ends", "_identity")

    def __init__(self, name: str, pieces: list[str], outputs: list[str], original: str, never_empty: bool):
        joined = pieces.copy()
        joined[1::2] = outputs
        super().__init__(name, "".join(joined), original, None)
        self._pieces = pieces
        self._outputs = outputs
        self._joined = joined
        self._view_ends: list[int] | None = None
        self._output_ends: list[int] | None = None
        self._identity = never_empty and len(self.text) == len(original)

    def _compute_ends(self) -> Sequence[int]:
        if self._identity:
            return range(1, len(self.text) + 1)
        lengths = ["\x01" * len(run) for run in self._pieces[::2]]
        lengths[:-1] = [run + chr(min(len(out), 255)) for run, out in zip(lengths, self._outputs)]
        return list(accumulate("".join(lengths).encode("latin-1")))

    def origin(self, position: int) -> int:
        if self._identity:
            return min(position, len(self.original))
        view_ends = self._view_ends
        if view_ends is None:
            view_ends = self._view_ends = list(accumulate(map(len, self._joined)))
            self._output_ends = [0, *accumulate(map(len, self._outputs))]
        piece = bisect_right(view_ends, position)
        if piece == 0:
            return position
        if piece == len(view_ends):
            return len(self.original)
        # Before this piece: its view start, plus one original character per changed one, less their outputs.
        view_start = view_ends[piece - 1]
        start = view_start + piece // 2 - self._output_ends[piece // 2]
        return start + (position - view_start) if piece % 2 == 0 else start

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self._identity:  # the common case for strict and contact views: no lookup at all
            return start, end
        return self.origin(start), self.origin(end - 1) + 1


class FoldedText:
    """The ``strict``, ``homophone`` and ``contact`` views of one text, built from splits at the characters they change."""

    __slots__ = ("text", "_pieces", "_strict", "_homophone", "_contact")

    def __init__(self, text: str):
        self.text = text
        self._pieces = _split_changed(text)
        self._strict: View | None = None
        self._homophone: View | None = None
        self._contact: View | None = None

    # Plain properties, not cached_property: in Python 3.11 that takes a lock on every access.
    @property
    def strict(self) -> View:
        if self._strict is None:
            self._strict = self._view("strict", self._pieces, _STRICT_FOLD, True)
        return self._strict

    @property
    def homophone(self) -> View:
        if self._homophone is None:
            self._homophone = self._view("homophone", self._pieces, _HOMOPHONE_FOLD, False)
        return self._homophone

    @property
    def contact(self) -> View:
        if self._contact is None:
            self._contact = self._view("contact", _split_changed(self.text, digits=True), _CONTACT_FOLD, True)
        return self._contact

    def _view(self, name: str, pieces: list[str], fold: _CharFold, never_empty: bool) -> View:
        return PieceView(name, pieces, list(map(fold.__getitem__, pieces[1::2])), self.text, never_empty)


def strict_view(text: str) -> View:
    return FoldedText(text).strict


def normalize(text: str) -> list[View]:
    """All matching views of ``text``, most literal first."""
    return [STRICT.view(text), SKELETON.view(text), HOMOPHONE.view(text), *(t.view(text) for t in pinyin_tables())]
