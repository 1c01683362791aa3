"""Run crawls in this process: the Python API behind ``grayscan crawl`` and ``grayscan demo``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scrapy import signals
from scrapy.crawler import AsyncCrawlerProcess, Crawler
from scrapy.settings import Settings

from takedown import store

from . import settings as default_settings
from .spiders import spider_class

#: Settings for a local replica on loopback: no politeness delays.
LOCAL_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "RETRY_TIMES": 1,
}


@dataclass
class CrawlJob:
    """One platform to crawl and the queries to run on it."""

    platform: str
    keywords: list[str]
    max_pages: int = 5
    base_url: str | None = None


@dataclass
class CrawlResult:
    platform: str
    run_id: int
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def stored(self) -> int:
        return int(self.stats.get("grayscan/stored", 0))


def crawl(
    jobs: list[CrawlJob],
    db_path: str,
    *,
    overrides: dict[str, Any] | None = None,
    on_item: Callable[[str], None] | None = None,
    on_response: Callable[[str], None] | None = None,
) -> list[CrawlResult]:
    """Crawl every job in one Scrapy process (the reactor starts once) and record crawl runs."""
    db = store.open_db(db_path)
    results: list[CrawlResult] = []
    crawlers: list[Crawler] = []
    base = Settings()
    base.setmodule(default_settings, priority="project")
    base.setdict(overrides or {}, priority="cmdline")
    process = AsyncCrawlerProcess(base)  # installs the asyncio reactor and logging up front
    for job in jobs:
        settings = base.copy()
        local = job.base_url and any(h in job.base_url for h in ("127.0.0.1", "localhost", "[::1]"))
        run_id = store.start_run(db, job.platform, job.keywords)
        settings.setdict(
            {
                **(LOCAL_SETTINGS if local else {}),
                "GRAYSCAN_DB": db_path,
                "GRAYSCAN_BASE_URL": job.base_url,
                "GRAYSCAN_RUN_ID": run_id,
            },
            priority="cmdline",
        )
        crawler = Crawler(spider_class(job.platform), settings)
        if on_item:
            crawler.signals.connect(lambda item, p=job.platform, **_: on_item(p), signal=signals.item_scraped, weak=False)
        if on_response:
            crawler.signals.connect(
                lambda response, p=job.platform, **_: on_response(p), signal=signals.response_received, weak=False
            )
        crawlers.append(crawler)
        results.append(CrawlResult(job.platform, run_id))
        process.crawl(crawler, keywords=job.keywords, max_pages=job.max_pages)
    process.start()
    for result, crawler in zip(results, crawlers, strict=True):
        result.stats = dict(crawler.stats.get_stats())
        errors = sum(v for k, v in result.stats.items() if k in ("log_count/ERROR", "grayscan/malformed"))
        store.finish_run(
            db,
            result.run_id,
            status=str(result.stats.get("finish_reason", "unknown")),
            pages=int(result.stats.get("response_received_count", 0)),
            items=result.stored,
            errors=int(errors),
        )
    db.close()
    return results
