"""Evasion moves ads use to slip past keyword filters, applied to our own text.

The corpus generator writes obfuscated variants with these moves, and training applies them
again on the fly so the model sees a fresh obfuscation of each post every epoch. Each move takes
the text, the key phrases worth hiding and a seeded ``random.Random``; it returns the new text.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin

#: Homophones and near-homophones seen in evasive ads (葆费 = 保费, 崔收 = 催收) and their kin.
HOMOPHONES: dict[str, str] = {
    "征": "正", "信": "芯", "修": "休", "复": "付", "债": "寨", "务": "雾", "催": "崔", "收": "手",
    "保": "葆", "费": "废", "账": "帐", "息": "悉", "贷": "袋", "逾": "鱼", "期": "其", "还": "环",
    "款": "欵", "优": "忧", "化": "花", "负": "付", "岸": "按", "退": "腿", "维": "唯", "权": "全",
    "律": "绿", "师": "狮", "法": "发", "洗": "喜", "白": "百", "铲": "产", "单": "丹", "停": "亭",
    "挂": "卦", "协": "鞋", "商": "伤", "分": "纷", "微": "薇", "信用卡": "xyk", "网贷": "网袋",
}
#: Separators inserted between characters: dots, spaces, symbols, emoji.
SEPARATORS = ("·", " ", "*", "/", "丨", "-", "❤", "💰", "~", "。", "_", "⭐", "|")
_FANCY_DIGITS = (
    "⓪①②③④⑤⑥⑦⑧⑨",
    "⓿❶❷❸❹❺❻❼❽❾",
    "０１２３４５６７８９",
    "零一二三四五六七八九",
    "〇壹贰叁肆伍陆柒捌玖",
    "⁰¹²³⁴⁵⁶⁷⁸⁹",
    "⓪⓵⓶⓷⓸⓹⓺⓻⓼⓽",
)
_S2T = opencc.OpenCC("s2t")


def traditional(text: str, phrases: Sequence[str], rng: random.Random) -> str:
    """Traditional script, as Hong Kong / Taiwan reposts (OpenCC s2t)."""
    return _S2T.convert(text)


def separators(text: str, phrases: Sequence[str], rng: random.Random) -> str:
    """Split key phrases with one repeated separator: 停·息·挂·账, 征 信 修 复."""
    sep = rng.choice(SEPARATORS)
    return _rewrite_phrases(text, phrases, rng, lambda p: sep.join(p))


def homophones(text: str, phrases: Sequence[str], rng: random.Random) -> str:
    """Swap characters of key phrases for homophones (保费 -> 葆费)."""

    def swap(phrase: str) -> str:
        out = phrase
        for src, dst in HOMOPHONES.items():
            if src in out and rng.random() < 0.6:
                out = out.replace(src, dst, 1)
        return out

    return _rewrite_phrases(text, phrases, rng, swap)


def pinyin(text: str, phrases: Sequence[str], rng: random.Random) -> str:
    """Key phrases as full pinyin, initials (zxxf) or half pinyin (征xin)."""

    def romanize(phrase: str) -> str:
        mode = rng.randrange(3)
        if mode == 0:
            return "".join(_pinyin(phrase))
        if mode == 1:
            return "".join(_initials(phrase)).upper() if rng.random() < 0.3 else "".join(_initials(phrase))
        index = rng.randrange(len(phrase))
        syllables = _pinyin(phrase[index])
        return phrase[:index] + "".join(syllables) + phrase[index + 1:]

    return _rewrite_phrases(text, phrases, rng, romanize)


def fancy_digits(text: str, phrases: Sequence[str], rng: random.Random) -> str:
    """Digits in a fancy style (①②, ❶, 〇壹贰, superscripts), as in contact ids."""
    style = rng.choice(_FANCY_DIGITS)
    return re.sub(r"\d", lambda m: style[int(m.group(0))], text)


def fullwidth(text: str, phrases: Sequence[str], rng: random.Random) -> str:
    """ASCII letters and digits in full width (ｖｘ１３８)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def emoji_noise(text: str, phrases: Sequence[str], rng: random.Random) -> str:
    """Emoji sprinkled between clauses, as captions do."""
    marks = ("🔥", "✅", "💰", "👉", "❗", "🙏", "💯", "📞", "⚠️", "🉑")
    return re.sub(r"[，。！]", lambda m: m.group(0) + (rng.choice(marks) if rng.random() < 0.5 else ""), text)


MOVES: dict[str, Callable[[str, Sequence[str], random.Random], str]] = {
    "traditional": traditional,
    "separators": separators,
    "homophones": homophones,
    "pinyin": pinyin,
    "fancy_digits": fancy_digits,
    "fullwidth": fullwidth,
    "emoji": emoji_noise,
}


def obfuscate(text: str, phrases: Sequence[str], rng: random.Random, moves: int | None = None) -> tuple[str, list[str]]:
    """Apply one to three random moves (``moves`` fixes the count); returns the text and the moves used."""
    count = moves if moves is not None else rng.choice((1, 1, 2, 2, 3))
    chosen = rng.sample(sorted(MOVES), count)
    # Script conversion last, so homophone and pinyin moves still find the simplified phrases.
    chosen.sort(key=lambda name: name == "traditional")
    for name in chosen:
        text = MOVES[name](text, phrases, rng)
    return text, chosen


@lru_cache(maxsize=4096)
def _pinyin(phrase: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(phrase))


@lru_cache(maxsize=4096)
def _initials(phrase: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(phrase, style=Style.FIRST_LETTER))


def _rewrite_phrases(text: str, phrases: Sequence[str], rng: random.Random, rewrite: Callable[[str], str]) -> str:
    """Rewrite the key phrases present in ``text`` (at least one when any is present)."""
    present = [p for p in phrases if p in text]
    if not present:
        # No known phrase: treat a random run of Chinese characters as the key phrase.
        runs = [m.group(0) for m in re.finditer(r"[\u4e00-\u9fff]{2,4}", text)]
        present = [rng.choice(runs)] if runs else []
    chosen = [p for p in present if rng.random() < 0.7] or present[:1]
    for phrase in sorted(chosen, key=len, reverse=True):
        text = text.replace(phrase, rewrite(phrase))
    return text
