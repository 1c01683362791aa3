"""The canonical text every model reads: NFKC, fancy digits, case, simplified script, joined separators.

Kept apart from model.py so the content gate and the n-gram model use it without importing torch.
"""

from __future__ import annotations

import re
import unicodedata

import opencc

#: Characters kept per text: the n-gram model reads them all (soft articles put their hand-off at the
#: end); the transformer reads the first TRANSFORMER_CHARS (CJK is about one token per character).
MAX_CHARS = 1200
TRANSFORMER_CHARS = 200

_T2S = opencc.OpenCC("t2s")
_EXTRA_DIGITS = str.maketrans("⓿❶❷❸❹❺❻❼❽❾➀➁➂➃➄➅➆➇➈➊➋➌➍➎➏➐➑➒⓵⓶⓷⓸⓹⓺⓻⓼⓽〇", "0123456789123456789123456789123456789" + "0")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"))
_CJK = r"[\u3400-\u9fff]"
#: One separator (or a short run) between two Chinese characters: 停·息·挂·账, 征 信 修 复.
_INNER_SEPARATOR = re.compile(rf"(?<={_CJK})[\s·*/丨|\-_~.。❤💰⭐•+]{{1,3}}(?={_CJK})")


def model_text(text: str) -> str:
    """The canonical form the model reads: NFKC, fancy digits, case, simplified script, joined separators.

    Punctuation otherwise stays: quotes around a term are how warnings mention ads.
    """
    text = (text or "")[:MAX_CHARS].translate(_ZERO_WIDTH)
    text = unicodedata.normalize("NFKC", text).translate(_EXTRA_DIGITS).casefold()
    text = _T2S.convert(text).replace("帐", "账")
    # Twice: a run like 停·息·挂 shares characters between neighbouring matches.
    for _ in range(2):
        text = _INNER_SEPARATOR.sub("", text)
    return re.sub(r"\s+", " ", text).strip()
