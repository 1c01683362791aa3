"""Contact hand-offs in post text: phones, WeChat and QQ ids, URLs, with normalized values."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .normalize import strict_view

_CN_DIGITS = str.maketrans("零〇一二三四五六七八九壹贰叁肆伍陆柒捌玖两", "001234567891234567892")


@dataclass(frozen=True)
class Contact:
    """A contact found in a text: its type, normalized value, and span in the original text."""

    type: str  # phone | wechat | qq | telegram | url
    value: str
    start: int
    end: int
    raw: str

    def to_dict(self) -> dict:
        return asdict(self)


# Digits may be separated by spaces, dashes or dots; 11 digits starting 1[3-9] is a mainland mobile.
_PHONE = re.compile(r"(?<![\d])(?:\+?86[\s\-]?)?(1[3-9](?:[\s\-.]?\d){9})(?![\d])")
_WECHAT = re.compile(
    r"(?:微信号?|薇信|威信|v信|vx|wx|weixin|加v|\+v|v)[\s:：]*([a-z][a-z0-9_\-]{5,19})", re.IGNORECASE
)
_QQ = re.compile(r"(?:qq|扣扣|企鹅)[\s:：号]*([1-9]\d{4,10})", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"'，。；！？、]+", re.IGNORECASE)


def find_contacts(text: str) -> list[Contact]:
    """Phones (E.164), WeChat ids, QQ numbers and URLs in ``text``, spans in the original."""
    view = strict_view(text)
    # Chinese numerals count as digits only for contact parsing; mapping them globally breaks words.
    digits = view.text.translate(_CN_DIGITS)
    found: list[Contact] = []

    def add(kind: str, value: str, start: int, end: int) -> None:
        o_start, o_end = view.span(start, end)
        found.append(Contact(kind, value, o_start, o_end, text[o_start:o_end]))

    for m in _URL.finditer(view.text):
        add("url", m.group(0), m.start(), m.end())
    for m in _PHONE.finditer(digits):
        number = re.sub(r"\D", "", m.group(1))
        add("phone", "+86" + number, m.start(1), m.end(1))
    for m in _WECHAT.finditer(view.text):
        add("wechat", m.group(1).lower(), m.start(1), m.end(1))
    for m in _QQ.finditer(digits):
        add("qq", m.group(1), m.start(1), m.end(1))
    found.sort(key=lambda c: c.start)
    return found
