"""Pure helpers every platform parser shares: HTML text, counts like "1.2万", fuzzy times, embedded state.

No Scrapy here: these take plain values and are unit-tested on recorded responses.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from w3lib.html import remove_tags, replace_entities

CHINA_TZ = timezone(timedelta(hours=8))


_now_cache: tuple[int, str] = (0, "")


def utc_now() -> str:
    """The current UTC time, ISO-8601 with seconds (formatted once per second: every item asks)."""
    global _now_cache
    second = int(time.time())
    if _now_cache[0] != second:
        _now_cache = (second, datetime.fromtimestamp(second, UTC).isoformat())
    return _now_cache[1]


def html_text(html: str | None) -> str:
    """Visible text of an HTML fragment: ``<br>``/``</p>`` become line breaks, tags dropped, entities decoded."""
    html = re.sub(r"<br\s*/?>|</p>|</div>", "\n", html or "", flags=re.IGNORECASE)
    text = replace_entities(remove_tags(html))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def parse_count(value: Any) -> int | None:
    """A count as the platforms send it: ``12``, ``"12"``, ``"1.2万"``, ``"3亿"``, ``"1,024"``, ``"10w+"``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip().replace(",", "").rstrip("+")
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([万wW亿kK千]?)", text)
    if not match:
        return None
    scale = {"万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "k": 1000, "K": 1000, "千": 1000}
    return int(round(float(match.group(1)) * scale.get(match.group(2), 1)))


def iso_from_epoch(seconds: float | int | str | None) -> str | None:
    """Epoch seconds (or milliseconds) as ISO-8601 in China time; None when absent or invalid."""
    try:
        value = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if value <= 0:
        return None
    if value > 1e11:  # milliseconds
        value /= 1000
    return datetime.fromtimestamp(value, tz=CHINA_TZ).isoformat()


_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def parse_weibo_time(value: str | None) -> str | None:
    """``Wed Oct 19 23:44:36 +0800 2022`` as ISO-8601, keeping the +08:00 offset."""
    if not value:
        return None
    # Split by hand: strptime costs more than the rest of a post's parsing (every post has a time).
    parts = value.split(" ")
    try:
        weekday, month, day, clock, offset, year = parts
        offset = offset.replace(":", "")
        hour, minute, second = clock.split(":")
        sign = {"+": 1, "-": -1}[offset[0]]
        if weekday not in _WEEKDAYS or len(offset) != 5 or not offset[1:].isdigit():
            raise ValueError(value)
        zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:])))
        return datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second),
                        tzinfo=zone).isoformat()
    except (ValueError, KeyError, IndexError):
        return parse_fuzzy_time(value)


_RELATIVE = {"秒": "seconds", "分钟": "minutes", "小时": "hours", "天": "days", "周": "weeks"}


def parse_fuzzy_time(value: str | None, now: datetime | None = None) -> str | None:
    """The display times platforms show instead of timestamps, as ISO-8601 (China time).

    Handles ``刚刚``, ``3分钟前``, ``2小时前``, ``3天前``, ``昨天 12:30``, ``前天``, ``02-10``, ``02-10 08:00``,
    ``2025-02-20`` and ``2025-02-20 08:00``; a trailing location (``3天前 广东``) is ignored. A date
    without a year is taken in the current year, or the previous one if that would be in the future.
    """
    if not value:
        return None
    now = (now or datetime.now(CHINA_TZ)).astimezone(CHINA_TZ)
    text = str(value).strip().split(" ")
    head, rest = text[0], " ".join(text[1:])
    if head == "刚刚":
        return now.replace(microsecond=0).isoformat()
    match = re.fullmatch(r"(\d+)\s*(秒|分钟|小时|天|周)前", head)
    if match:
        delta = timedelta(**{_RELATIVE[match.group(2)]: int(match.group(1))})
        return (now - delta).replace(microsecond=0).isoformat()
    clock = re.fullmatch(r"(\d{1,2}):(\d{2})", rest.split(" ")[0]) if rest else None
    hour, minute = (int(clock.group(1)), int(clock.group(2))) if clock else (0, 0)
    days_back = {"今天": 0, "昨天": 1, "前天": 2}.get(head)
    if days_back is not None:
        day = now - timedelta(days=days_back)
        return day.replace(hour=hour, minute=minute, second=0, microsecond=0).isoformat()
    match = re.fullmatch(r"(?:(\d{4})-)?(\d{1,2})-(\d{1,2})", head)
    if not match:
        return None
    year = int(match.group(1) or now.year)
    try:
        moment = datetime(year, int(match.group(2)), int(match.group(3)), hour, minute, tzinfo=CHINA_TZ)
    except ValueError:
        return None
    if not match.group(1) and moment > now:
        moment = moment.replace(year=year - 1)
    return moment.isoformat()


def js_object_after(html: str, marker: str) -> Any | None:
    """The JSON value that follows ``marker`` in a page's inline script, or None.

    Pages embed state as JavaScript, not JSON: XHS writes ``undefined`` for missing values, so
    bare ``undefined`` tokens are replaced with ``null`` before decoding. The value is cut by
    bracket matching, so what follows it in the script does not matter.
    """
    start = html.find(marker)
    if start < 0:
        return None
    start = html.find(marker) + len(marker)
    while start < len(html) and html[start] in " =\t\r\n":
        start += 1
    end = _matching_bracket(html, start)
    if end is None:
        return None
    source = re.sub(r"(?<=[:\[,])\s*undefined\s*(?=[,}\]])", "null", html[start : end + 1])
    try:
        return json.loads(source)
    except ValueError:
        return None


def _matching_bracket(text: str, start: int) -> int | None:
    """Index of the bracket closing the one at ``start``, skipping brackets inside strings."""
    if start >= len(text) or text[start] not in "[{":
        return None
    depth, in_string, escaped = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return index
    return None


def first(*values: Any) -> Any:
    """The first value that is neither None nor empty."""
    for value in values:
        if value not in (None, "", [], {}):
            return value
    return None


def str_id(value: Any) -> str | None:
    """An id as a string (platforms mix ints and strings), None when absent."""
    return None if value in (None, "", 0) else str(value)
