"""Contact hand-offs in post text: phones, WeChat, QQ and Telegram ids, URLs and e-mails, normalized.

Parsing runs on the ``contact`` view (NFKC, case fold, t2s, and every digit-like character as an
ASCII digit: １ ① ❶ ⑴ ⁹ 一 壹 ㊄ …), so 电话一三九一二三四五六七八 is +8613912345678. Spans are
mapped back to the original text. Numbers that are prices, dates, amounts or order/card numbers
are not contacts: digit runs must stand alone, and a unit or an order/card label next to one
vetoes it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

import phonenumbers
from phonenumbers.phonenumberutil import _is_number_matching_desc  # the library's own type check

from .normalize import FoldedText, digit_of, fold_char

CONTACT_TYPES = ("phone", "wechat", "qq", "telegram", "url", "email")


@dataclass(frozen=True)
class Contact:
    """A contact found in a text: its type, normalized value, and span in the original text."""

    type: str  # one of CONTACT_TYPES
    value: str
    start: int
    end: int
    raw: str

    def to_dict(self) -> dict:
        return asdict(self)


#: Up to two separators between digits: spaces, dashes, dots, zero-width characters, emoji.
#: List punctuation (、，;) is no separator: "13、15、18 …" is a list of numbers.
_SEP = r"[\s\-.·•_~*/|\u200b-\u200d\u2060\ufe0f\u2600-\u27bf\U0001F000-\U0001FFFF]{0,2}"
_SEP_RUN = re.compile(_SEP.replace("{0,2}", "+"))
_D = rf"{_SEP}\d"
_MOBILE = re.compile(rf"(?<!\d)(?:(?:\+|00)?86{_SEP})?(1[3-9](?:{_D}){{9}})(?!\d)")
_LANDLINE = re.compile(rf"(?<!\d)(0[1-9]\d{{1,2}}{_SEP}[2-9](?:{_D}){{6,7}}|[48]00(?:{_D}){{7}})(?!\d)")
_INTERNATIONAL = re.compile(r"(?<![\w+])\+(?!86)[1-9]\d{0,2}[\s\-]?\d(?:[\s\-]?\d){5,13}(?!\d)")

#: The V family of WeChat tokens (加/伽/夾 and ➕ before them are just noise). Latin tokens (V, vx, wx)
#: must stand apart from the id after them: wxPython is no WeChat id.
_ID_LEAD = r"(?:号码?|id|是|为)?[^\w]{0,4}"
_WECHAT = re.compile(
    r"(?:(?<![a-z0-9])(?:vx|wx|weixin|wechat|v)(?:号码?|id)?[^\w]{1,4}"
    rf"|(?:微信号?|[微薇威徽卫]信|v信|卫星|[微薇威徽]){_ID_LEAD})"
    r"([a-z][a-z0-9_\-]{5,19}|\d{6,12})(?![a-z0-9_\-])"
)
_QQ = re.compile(rf"(?:qq|扣扣|蔻蔻|抠抠|企鹅|q(?<![a-z0-9]q))(?:群)?{_ID_LEAD}([1-9]\d{{4,11}})(?!\d)")
_TELEGRAM = re.compile(
    r"(?:telegram|tg(?<![a-z0-9]tg)|电报|纸?飞机)(?:号|id)?[^\w@]{0,4}@?([a-z][a-z0-9_]{4,31})(?![a-z0-9_])"
)
_TELEGRAM_URL = re.compile(r"(?:https?://)?(?:www\.)?t(?:elegram)?\.me/([a-z][a-z0-9_]{4,31})(?![a-z0-9_])", re.IGNORECASE)
_URL_CHAR = r"[^\s<>\"'，。；！？、）】「」“”]"
#: http(s)://…, www.…, or a bare domain. Every reading starts with an ASCII letter, digit or dash, so
#: the pattern opens with that class (the regex engine then scans for it instead of trying every
#: position) and each reading checks the character just read: h(ttps://), w(ww.), or a domain start.
_URL = re.compile(
    rf"[a-z0-9\-](?:(?<=h)ttps?://{_URL_CHAR}+|(?<=w)ww\.{_URL_CHAR}+"
    r"|(?<![a-z0-9@.\-].)[a-z0-9\-]*\.(?:[a-z0-9\-]+\.)*"
    r"(?:com|cn|net|org|top|xyz|cc|vip|me|io|info|app|site|club|shop|link|ink)"
    rf"(?:/{_URL_CHAR}*)?(?![a-z0-9\-]))"
)
_EMAIL = re.compile(r"(?<![a-z0-9.+\-])[a-z0-9._%+\-]+@(?:[a-z0-9\-]+\.)+[a-z]{2,}(?![a-z0-9\-])")

#: A digit run labelled like these is an order, card, ID or amount, not a phone (look-behind window).
_NOT_PHONE_BEFORE = re.compile(
    r"(?:订单|单号|编号|流水|运单|快递|尾号|卡号|银行卡|身份证|工号|学号|合同|金额|价格|价|售价|"
    r"no\.?|order|#|¥|\$|¥|rmb)[^\w]{0,3}(?:号|码)?[^\w]{0,3}$"
)
#: ... or followed by a unit.
_NOT_PHONE_AFTER = re.compile(r"^[^\w]{0,2}(?:元|块|万|亿|千|百|円|%|rmb|cny|usd|人|次|天|年|月|日|号|期|笔|单|件|个|张)")
_CONTEXT = 12
#: A run of digits (and separators) long enough to be a phone number; phone patterns run inside runs only.
_NUMBER_RUN = re.compile(rf"[+\d](?:{_SEP}\d){{6,}}")
#: Cheap pre-checks: most posts have none of these, and then the costlier pattern is skipped. One pass
#: finds the cues of URLs, e-mails, Telegram, QQ and the first characters of WeChat matches. No cue
#: hides another: the URL cues consume only their first character (":", "w" before "ww.", "."), and
#: no other cue contains another's first character. (The "w" of "www." starts no WeChat match.)
_CUES = re.compile(
    r":(?=//)|w(?=ww\.)|\.(?=(?:com|cn|net|org|top|xyz|cc|vip|me|io|info|app|site|club|shop|link|ink))"
    "|@|tg|telegram|电报|飞机|q|扣扣|蔻蔻|抠抠|企鹅|v|w|微|薇|威|徽|卫"
)
_CUE_KIND = {":": "url", ".": "url", "@": "email", "t": "telegram", "电": "telegram", "飞": "telegram",
             **dict.fromkeys("q扣蔻抠企", "qq"), **dict.fromkeys("vw微薇威徽卫", "wechat")}

#: Overlapping candidates: the more specific reading wins (a QQ number is not also a phone).
_PRIORITY = {"url": 0, "email": 1, "telegram": 2, "wechat": 3, "qq": 4, "phone": 5}


def _labelled_as_other(text: str, start: int, end: int) -> bool:
    return bool(_NOT_PHONE_BEFORE.search(text[max(0, start - _CONTEXT):start])
                or _NOT_PHONE_AFTER.match(text[end:end + _CONTEXT]))


def _phone_grouping(digits_with_separators: str) -> bool:
    """Phone-like grouping: at most three groups (3-4-4, 3-8), or every digit apart (1 3 8 …)."""
    groups = _SEP_RUN.split(digits_with_separators)
    return len(groups) <= 3 or all(len(g) == 1 for g in groups)


_NON_DIGIT = re.compile(r"\D")


def _digits(text: str) -> str:
    return _NON_DIGIT.sub("", text)


def _e164(number: str, region: str | None = "CN") -> str | None:
    """``number`` in E.164 if phonenumbers considers it a valid number, else None."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")


def _mobile_e164(digits: str) -> str | None:
    """``_e164`` of an 11-digit mainland mobile number (1[3-9]…), validated without phonenumbers' parser.

    The parser only works out the country and national number, which a bare 1[3-9] run already is.
    A number that fits China's general and mobile descriptions is valid (phonenumbers' type check
    answers MOBILE or an earlier type, never UNKNOWN): two pattern checks instead of a dozen. Any
    other number gets the full check. Same answers as ``_e164`` (see the tests), several times cheaper.
    """
    if not digits.isascii():  # digits of other scripts (١٣٨…): the parser normalizes them
        return _e164(digits)
    if (not _CN.same_mobile_and_fixed_line_pattern
            and _is_number_matching_desc(digits, _CN.general_desc) and _is_number_matching_desc(digits, _CN.mobile)):
        return "+86" + digits
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(digits))
    return "+86" + digits if phonenumbers.is_valid_number(number) else None


def _phones(folded: str, start: int, end: int) -> list[tuple[str, str, int, int]]:
    """Phone candidates inside the number run ``folded[start:end]``."""
    found = []
    run = folded[start:end]
    for pattern, region, needs in ((_MOBILE, "CN", "1"), (_LANDLINE, "CN", "0"), (_INTERNATIONAL, None, "+")):
        if needs not in run:  # each pattern needs this character: skip its scan
            continue
        for m in pattern.finditer(folded, start, end):
            digits = m.group(1 if pattern.groups else 0)
            if _labelled_as_other(folded, m.start(), m.end()) or not _phone_grouping(digits):
                continue
            if pattern is _MOBILE:
                value = _mobile_e164(_digits(digits))
            else:
                value = _e164(("+" if region is None else "") + _digits(digits), region)
            if value:
                found.append(("phone", value, m.start(), m.end()))
    return found


def _cues(folded: str) -> tuple[set[str], list[int]]:
    """The contact types cued in ``folded``, and where a WeChat match may start."""
    kinds: set[str] = set()
    wechat_starts: list[int] = []
    for cue in _CUES.finditer(folded):
        first = cue.group()
        kind = "url" if first == "w" and folded.startswith("ww.", cue.end()) else _CUE_KIND[first[0]]
        if kind == "wechat":
            wechat_starts.append(cue.start())
        else:
            kinds.add(kind)
    return kinds, wechat_starts


def _matches_from(pattern: re.Pattern, starts: list[int], folded: str) -> list[re.Match]:
    """``pattern.finditer(folded)`` when every match begins at one of ``starts`` (ascending positions).

    Same matches, far cheaper: the pattern opens with alternatives and a look-behind, which the
    regex engine would otherwise try at every position of the text.
    """
    found: list[re.Match] = []
    after = 0
    for start in starts:
        if start < after:
            continue
        m = pattern.match(folded, start)
        if m:
            found.append(m)
            after = m.end()
    return found


def _digit_like() -> tuple[str, str]:
    """BMP characters standing for a digit: all of them, and those not folding to an ASCII digit (一 ⑴ ㈠ …)."""
    every, fancy = [], []
    for code in range(0x10000):
        ch = chr(code)
        if digit_of(ch) is not None:
            every.append(ch)
            if not fold_char(ch).isdigit():
                fancy.append(ch)
    return "".join(every), "".join(fancy)


_DIGIT_LIKE, _FANCY = _digit_like()
#: Five or more digit-like characters in a row, some of them fancy: only then is the contact view needed.
_FANCY_RUN = re.compile(rf"[{_DIGIT_LIKE}](?:{_SEP}[{_DIGIT_LIKE}]){{4,}}")
_HAS_FANCY = re.compile(rf"[{_FANCY}]")


def _needs_digit_view(text: str) -> bool:
    return _HAS_FANCY.search(text) is not None and any(_HAS_FANCY.search(m.group()) for m in _FANCY_RUN.finditer(text))


def _candidate_order(candidate: tuple[str, str, int, int]) -> tuple[int, int, int]:
    kind, _, start, end = candidate
    return start, _PRIORITY[kind], -end


def find_contacts(text: str, views: FoldedText | None = None) -> list[Contact]:
    """Phones (E.164), WeChat ids, QQ numbers, Telegram handles, URLs and e-mails in ``text``.

    The contact view (fancy digits as ASCII) is built only when the text has a run of fancy digits
    (一三八…, ①③⑧…); otherwise the strict view, which already folds ０-９, ①-⑳ and ❶ …, suffices.
    ``views``: the text's views if the caller already has them.
    """
    views = views or FoldedText(text)
    view = views.contact if _needs_digit_view(text) else views.strict
    folded = view.text
    candidates: list[tuple[str, str, int, int]] = []  # type, value, view start, view end

    cued, wechat_starts = _cues(folded)
    if "url" in cued:
        for m in _URL.finditer(folded):
            candidates.append(("url", "", m.start(), m.end()))
    if "email" in cued:
        for m in _EMAIL.finditer(folded):
            candidates.append(("email", m.group(0), m.start(), m.end()))
    if "telegram" in cued:
        for m in _TELEGRAM.finditer(folded):
            candidates.append(("telegram", "@" + m.group(1), m.start(1), m.end(1)))
    for m in _matches_from(_WECHAT, wechat_starts, folded):
        wechat_id = m.group(1)
        if wechat_id.isdigit():
            if _labelled_as_other(folded, m.start(1), m.end(1)):
                continue
            if _e164(wechat_id):
                continue  # a mobile number after V: reported as the phone it is
        candidates.append(("wechat", wechat_id, m.start(1), m.end(1)))
    for m in _QQ.finditer(folded) if "qq" in cued else ():
        if not _NOT_PHONE_AFTER.match(folded[m.end(1):m.end(1) + _CONTEXT]):
            candidates.append(("qq", m.group(1), m.start(1), m.end(1)))
    for run in _NUMBER_RUN.finditer(folded):
        candidates += _phones(folded, run.start(), run.end())

    found: list[Contact] = []
    taken: list[tuple[int, int]] = []
    if len(candidates) > 1:
        candidates.sort(key=_candidate_order)
    for kind, value, start, end in candidates:
        if taken and any(s < end and start < e for s, e in taken):
            continue
        taken.append((start, end))
        o_start, o_end = view.span(start, end)
        raw = text[o_start:o_end]
        if kind == "url":
            value = unicodedata.normalize("NFKC", raw).rstrip(".,;:!?")
            handle = _TELEGRAM_URL.fullmatch(value)
            if handle:
                kind, value = "telegram", "@" + handle.group(1).lower()
        found.append(Contact(kind, value, o_start, o_end, raw))
    return found
