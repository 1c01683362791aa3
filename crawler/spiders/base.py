"""What every platform spider shares: keywords, page limits, JSON decoding with clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import scrapy
from scrapy.http import Response

CHINA_TZ = timezone(timedelta(hours=8))


def iso_from_epoch(seconds: float | int | str | None) -> str | None:
    """Epoch seconds (or milliseconds) as ISO-8601 in China time; None when absent or invalid."""
    try:
        value = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if value > 1e11:  # milliseconds
        value /= 1000
    return datetime.fromtimestamp(value, tz=CHINA_TZ).isoformat()


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class PlatformSpider(scrapy.Spider):
    """Base of the platform spiders: ``keywords`` and ``max_pages`` come from ``grayscan crawl``."""

    platform: str = ""
    #: Hosts that ``--base-url`` maps onto one local replica.
    hosts: tuple[str, ...] = ()

    def __init__(self, keywords: list[str] | str | None = None, max_pages: int | str = 5, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(keywords, str):
            keywords = [k for k in keywords.split(",") if k]
        self.keywords = list(keywords or [])
        self.max_pages = int(max_pages)

    def load_json(self, response: Response) -> Any | None:
        """The decoded JSON body, or None after logging the URL and what was wrong with it."""
        try:
            return json.loads(response.text)
        except (ValueError, AttributeError) as exc:
            self.crawler.stats.inc_value("grayscan/malformed")
            snippet = response.body[:80]
            self.logger.error("malformed JSON from %s (%s): %r", response.url, exc, snippet)
            return None
