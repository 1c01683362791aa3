"""The canonical text every model reads: NFKC, fancy digits, case, simplified script, joined separators,
homophone spellings of finance words.

Kept apart from model.py so the content gate and the n-gram model use it without importing torch.
"""

from __future__ import annotations

import re
import unicodedata

from lexicon.normalize import HOMOPHONES as LEXICON_HOMOPHONES
from lexicon.normalize import simplified

from .evasion import HOMOPHONES as EVASION_HOMOPHONES

#: Characters kept per text: the n-gram model reads them all (soft articles put their hand-off at the
#: end); the transformer reads the first TRANSFORMER_CHARS (CJK is about one token per character).
MAX_CHARS = 1200
TRANSFORMER_CHARS = 200

_EXTRA_DIGITS = str.maketrans("⓿❶❷❸❹❺❻❼❽❾➀➁➂➃➄➅➆➇➈➊➋➌➍➎➏➐➑➒⓵⓶⓷⓸⓹⓺⓻⓼⓽〇", "0123456789123456789123456789123456789" + "0")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"))
_CJK = r"[\u3400-\u9fff]"
#: One separator (or a short run) between two Chinese characters: 停·息·挂·账, 征 信 修 复.
_INNER_SEPARATOR = re.compile(rf"(?<={_CJK})[\s·*/丨|\-_~.。❤💰⭐•+]{{1,3}}(?={_CJK})")
#: Finance words ads spell with homophones (芯用卡, 腿费, 葆单, 休复徵芯). Only whole words are restored,
#: so a homophone is read back only next to the rest of its word (宝 alone stays 宝).
HOMOPHONE_WORDS = (
    "征信", "信用卡", "信用", "修复", "退费", "退款", "退保", "保单", "保险", "保费", "催收", "逾期", "上岸", "停息",
    "挂账", "债务", "负债", "贷款", "维权", "洗白", "铲单", "收费", "付费", "还款", "律师", "法务", "服务费", "协商", "分期",
)
#: Spellings that are ordinary words themselves (鞋商 shoe seller, 收废 scrap buying, 网袋 net bag, 马上按 …).
_REAL_WORDS = frozenset({"正信", "鞋商", "收废", "分其", "上按", "产单", "发务", "宝单", "宝险", "手费"})


def _homophone_spellings() -> dict[str, str]:
    """Each homophone spelling of HOMOPHONE_WORDS (at least one character swapped) -> the word."""
    sounds: dict[str, set[str]] = {}
    for homophone, key in LEXICON_HOMOPHONES.items():
        sounds.setdefault(key, set()).add(homophone)
    for key, homophone in EVASION_HOMOPHONES.items():
        if len(key) == len(homophone) == 1:
            sounds.setdefault(key, set()).add(homophone)
    spellings: dict[str, str] = {}
    for word in HOMOPHONE_WORDS:
        forms = [""]
        for ch in word:
            forms = [f + c for f in forms for c in {ch} | sounds.get(ch, set())]
        spellings.update((form, word) for form in forms if form != word and form not in _REAL_WORDS)
    return spellings


_SPELLINGS = _homophone_spellings()
_HOMOPHONE_SPELLING = re.compile("|".join(sorted(map(re.escape, _SPELLINGS), key=len, reverse=True)))


def model_text(text: str) -> str:
    """The canonical form the model reads: NFKC, fancy digits, case, simplified script, joined separators,
    finance words spelled with homophones read back (HOMOPHONE_WORDS).

    Punctuation otherwise stays: quotes around a term are how warnings mention ads.
    """
    text = (text or "")[:MAX_CHARS].translate(_ZERO_WIDTH)
    text = unicodedata.normalize("NFKC", text).translate(_EXTRA_DIGITS).casefold()
    text = simplified(text).replace("帐", "账")
    # Twice: a run like 停·息·挂 shares characters between neighbouring matches.
    for _ in range(2):
        text = _INNER_SEPARATOR.sub("", text)
    text = _HOMOPHONE_SPELLING.sub(lambda m: _SPELLINGS[m.group(0)], text)
    return re.sub(r"\s+", " ", text).strip()
