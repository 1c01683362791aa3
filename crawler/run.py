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
from .pipelines import start_worker
from .spiders import spider_class

#: Settings for a local replica on loopback: no politeness delays.
LOCAL_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "RETRY_TIMES": 1,
    "GRAYSCAN_BACKOFF_BASE": 0.2,
}


@dataclass
class CrawlJob:
    """One platform to crawl: keyword queries and/or creators, and how.

    ``jobdir`` keeps the crawl's scheduler state on disk (Scrapy JOBDIR) so an interrupted crawl
    continues where it stopped; ``limit`` stops after that many items (the rest stays in ``jobdir``).
    ``config`` is the YAML file of the ``generic`` spider.
    """

    platform: str
    keywords: list[str]
    max_pages: int = 5
    base_url: str | None = None
    creators: list[str] = field(default_factory=list)
    comments: bool = False
    comment_pages: int = 1
    refresh: bool = False
    cookies_file: str | None = None
    jobdir: str | None = None
    limit: int | None = None
    config: str | None = None

    def spider_args(self, known_ids: set[str]) -> dict[str, Any]:
        args: dict[str, Any] = {"keywords": self.keywords, "max_pages": self.max_pages}
        if self.platform == "generic":
            return {**args, "config": self.config}
        return {**args, "creators": self.creators, "comments": self.comments, "comment_pages": self.comment_pages,
                "refresh": self.refresh, "known_ids": known_ids}


@dataclass
class CrawlResult:
    platform: str
    run_id: int
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def stored(self) -> int:
        return int(self.stats.get("grayscan/stored", 0))

    @property
    def note(self) -> str:
        """What a user must know about how the run ended (captcha, expired login, skipped bodies)."""
        reason = str(self.stats.get("finish_reason", ""))
        notes = {
            "captcha": f"{self.platform} answered with a captcha; stopped. Solve it in a browser, export cookies, rerun with --resume",
            "login_expired": f"{self.platform} login expired or missing; export fresh cookies",
            "login": f"{self.platform} login expired or not valid; export fresh cookies",
            "signature": f"{self.platform} rejected the request signature; its signer in crawler/signing.py needs fixing",
            "rate_limited": f"{self.platform} kept rate-limiting after every back-off; stopped. Try later with --resume",
            "error": f"{self.platform} blocked this client (see log)",
            "closespider_itemcount": "stopped at --limit; continue with --resume",
            "store_failed": "nothing could be classified or stored (the error is above); fix it, then rerun with --resume",
        }
        parts = [notes[reason]] if reason in notes else []
        if self.stats.get("grayscan/malformed"):
            parts.append(f"{self.stats['grayscan/malformed']} malformed answers skipped (URLs in the log)")
        return "; ".join(parts)


def known_post_ids(db, platform: str) -> set[str]:
    """Ids of the platform's posts already stored: their details and comments are not fetched again."""
    return {r[0] for r in db.execute("SELECT post_id FROM posts WHERE platform = ? AND kind = 'post'", [platform])}


def crawl_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """grayscan's crawl settings (crawler/settings.py) with ``overrides`` on top."""
    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    settings.setdict(overrides or {}, priority="cmdline")
    return settings


def job_settings(base: Settings, job: CrawlJob, overrides: dict[str, Any] | None = None,
                 extra: dict[str, Any] | None = None) -> Settings:
    """One job's settings: ``base``, the platform's politeness delay (none on loopback), the job's own
    values and ``extra``; explicit ``overrides`` win over all of them."""
    settings = base.copy()
    local = job.base_url and any(h in job.base_url for h in ("127.0.0.1", "localhost", "[::1]"))
    delay = base.getdict("PLATFORM_DOWNLOAD_DELAY").get(job.platform, base.getfloat("DOWNLOAD_DELAY"))
    settings.setdict(
        {
            "DOWNLOAD_DELAY": delay,
            "AUTOTHROTTLE_START_DELAY": delay,
            **(LOCAL_SETTINGS if local else {}),
            "GRAYSCAN_BASE_URL": job.base_url,
            "GRAYSCAN_COOKIES_FILE": job.cookies_file,
            **({"JOBDIR": job.jobdir} if job.jobdir else {}),
            **({"CLOSESPIDER_ITEMCOUNT": job.limit} if job.limit else {}),
            **(extra or {}),
        },
        priority="cmdline",
    )
    for key, value in (overrides or {}).items():  # explicit overrides win over local defaults
        settings.set(key, value, priority="cmdline")
    return settings


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
    base = crawl_settings(overrides)
    process = AsyncCrawlerProcess(base)  # installs the asyncio reactor and logging up front
    # The worker loads the classifier and the full-text segmenter (seconds) while the crawls start.
    start_worker(base)
    for job in jobs:
        run_id = store.start_run(db, job.platform, job.keywords + [f"creator:{c}" for c in job.creators])
        settings = job_settings(base, job, overrides, {"GRAYSCAN_DB": db_path, "GRAYSCAN_RUN_ID": run_id})
        crawler = Crawler(spider_class(job.platform), settings)
        if on_item:
            crawler.signals.connect(lambda item, p=job.platform, **_: on_item(p), signal=signals.item_scraped, weak=False)
        if on_response:
            crawler.signals.connect(
                lambda response, p=job.platform, **_: on_response(p), signal=signals.response_received, weak=False
            )
        crawlers.append(crawler)
        results.append(CrawlResult(job.platform, run_id))
        process.crawl(crawler, **job.spider_args(known_post_ids(db, job.platform)))
    process.start()
    for result, crawler in zip(results, crawlers, strict=True):
        result.stats = dict(crawler.stats.get_stats())
        errors = int(result.stats.get("log_count/ERROR", 0))
        store.finish_run(
            db,
            result.run_id,
            status=str(result.stats.get("finish_reason", "unknown")),
            pages=int(result.stats.get("response_received_count", 0)),
            items=result.stored,
            errors=errors,
            note=result.note or None,
        )
    db.close()
    return results
