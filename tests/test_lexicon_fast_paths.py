"""The scan's fast paths give exactly what the plain definitions give (views, offsets, phone validity, WeChat)."""

from __future__ import annotations

import random

import pytest

from lexicon import Lexicon
from lexicon.contacts import _EMAIL, _QQ, _TELEGRAM, _URL, _WECHAT, _cues, _e164, _matches_from, _mobile_e164
from lexicon.match import Match
from lexicon.normalize import CONTACT, HOMOPHONE, STRICT, FoldedText, _changed_chars, fold_char, homophone_fold

LEX = Lexicon.default()

#: Texts exercising every kind of fold: drops (noise), one-to-one (t2s, homophones, width, case), expansions
#: (⑴ -> (1), ﬁ -> fi), digit-like characters, non-BMP characters, edges and runs of changed characters.
TEXTS = [
    "",
    "，",
    "a，",
    "，a",
    "，，。",
    "plain ascii text",
    "最近手头比较紧，信用卡和网贷加起来欠了不少。",
    "專業 徵❤信⑴修復 zx",
    "停·息·卦·賬，代理退葆，亻责务优化",
    "ＶＸ：Debt_Help1 ﬁ ß ㈠ ㊄",
    "电话一三九一二三四五六七八，联系①③⑧⓪⓪①③⑧⓪⓪⓪",
    "征\u200b信\u3000修\ufe0f复😀𪚥🇻🇽",
    "9⓿二肆⁹₈③⑸⒋➃㈤㊄",
]


def _random_texts(count: int) -> list[str]:
    rng = random.Random(5)
    alphabet = list("征信修复停息挂账，。 ·！?VvXx019一三①❶⑴㈠Ａｂ專徵葆崔卦案亻责@:./ﬁß") + ["\u200b", "\u3000", "😀", "𪚥"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40))) for _ in range(count)]


def test_changed_characters_are_exactly_those_a_fold_changes():
    slow = {ch for ch in map(chr, range(0x10000)) if not "\ud800" <= ch <= "\udfff"
            and (fold_char(ch) != ch or homophone_fold(ch) != ch)}
    assert set(_changed_chars()) == slow


@pytest.mark.parametrize("text", TEXTS + _random_texts(200))
def test_split_views_equal_the_translate_views_with_the_same_offsets(text):
    folded = FoldedText(text)
    for fast, table in ((folded.strict, STRICT), (folded.homophone, HOMOPHONE), (folded.contact, CONTACT)):
        slow = table.view(text)
        assert fast.text == slow.text, table.name
        assert list(fast.ends) == list(slow.ends), table.name
        assert [fast.origin(p) for p in range(len(slow.text) + 1)] == \
               [slow.origin(p) for p in range(len(slow.text) + 1)], table.name


def test_mobile_validity_without_the_parser_agrees_with_phonenumbers():
    rng = random.Random(3)
    numbers = [f"{prefix}{rng.randrange(10 ** 8):08d}" for prefix in range(130, 200) for _ in range(15)]
    assert [_mobile_e164(n) for n in numbers] == [_e164(n) for n in numbers]
    assert _mobile_e164("13800138000") == "+8613800138000"
    assert _mobile_e164("13800138٠٠٠") == _e164("13800138٠٠٠") == "+8613800138000"  # Arabic-Indic digits


@pytest.mark.parametrize("text", [
    "加v：zxxf2026，vx：abc123456 v abcdefg",
    "wxPython vx1234567 微信号是 kefu2026 薇 hkdebt2026",
    "weixin: abc12345 wechat abcdef1 ww wwv:zzzzzz1",
    "tg: @debt_help telegram debthelp 电报 abcdef 纸飞机 debthelp2026 qq 12345678 扣扣 2845671903 a@b.cn",
    "www.example.xx wwv:abcdefg https://x.y/z t.me/debthelp zxxf.com a.sitelegram abcdef",
    *(t.casefold() for t in TEXTS),
])
def test_one_cue_pass_gates_and_starts_the_patterns_exactly(text):
    cued, wechat_starts = _cues(text)
    assert [m.span(1) for m in _matches_from(_WECHAT, wechat_starts, text)] == \
           [m.span(1) for m in _WECHAT.finditer(text)]
    for kind, pattern in (("url", _URL), ("email", _EMAIL), ("telegram", _TELEGRAM), ("qq", _QQ)):
        assert kind in cued or pattern.search(text) is None, kind


def test_weixin_and_wechat_tokens_lead_to_the_id():
    # The old pre-check looked for v/微… only, so these two spellings were never parsed.
    assert [(c.type, c.value) for c in LEX.scan("weixin: abc12345").contacts] == [("wechat", "abc12345")]
    assert [(c.type, c.value) for c in LEX.scan("wechat abcdef1").contacts] == [("wechat", "abcdef1")]


def test_match_stays_a_frozen_comparable_record():
    match = Match("征信修复", "level1_term", "credit_erasure", "strict", 2, 6, "征信修复")
    assert match == Match("征信修复", "level1_term", "credit_erasure", "strict", 2, 6, "征信修复")
    assert hash(match) == hash(Match("征信修复", "level1_term", "credit_erasure", "strict", 2, 6, "征信修复"))
    assert repr(match).startswith("Match(term='征信修复', category='level1_term'")
    with pytest.raises(AttributeError):
        match.start = 0  # type: ignore[misc]


def test_scanning_the_same_text_twice_gives_the_same_result():
    # Hit credits are memoized per (key, written form): the second scan must read the memo, not change.
    text = "專業徵信修復，停·息·卦·賬，zx修复，加V：zxxf2026"
    assert LEX.scan(text) == LEX.scan(text)
