"""Crawl workers on a shared Redis frontier: the Python API behind ``grayscan worker``, ``grayscan crawl
--frontier`` and ``grayscan frontier push``.

A worker runs one spider per crawl job in the frontier (or the platforms it is given), with the
frontier scheduler, the commit middleware (posts go to the item stream, not to SQLite) and the shared
per-platform rate limiter. It returns when every job it works on is done — by all workers together —
or stopped by its platform.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from scrapy import signals
from scrapy.crawler import AsyncCrawlerProcess, Crawler
from scrapy.settings import Settings

from . import settings as default_settings
from .browser import Problem
from .frontier import Frontier
from .run import CrawlJob, crawl_settings, job_settings, not_started_stats, preflight_jobs
from .spiders import spider_class


@dataclass
class JobArgs:
    """A crawl job's arguments, shared by every worker through the frontier."""

    max_pages: int = 5
    comments: bool = False
    comment_pages: int = 1
    refresh: bool = False
    #: Requests per second to the platform across all workers (None: one per its politeness delay).
    rate: float | None = None


@dataclass
class WorkerResult:
    """What one worker did for one platform."""

    platform: str
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return str(self.stats.get("finish_reason", "unknown"))

    @property
    def pushed(self) -> int:
        return int(self.stats.get("frontier/pushed_items", 0))

    @property
    def lost(self) -> int:
        """Requests given up after every retry: kept in the frontier's lost list (``frontier push --requeue-lost``)."""
        if self.reason == "no_route":  # nothing answered: the request stays queued, it was not given up
            return 0
        return int(self.stats.get("grayscan/lost", 0))


def push(frontier_url: str, platform: str, args: JobArgs, *, keywords: list[str] = (), creators: list[str] = (),
         posts: list[str] = ()) -> int:
    """Create or update ``platform``'s job and queue its seeds; returns how many seeds were queued."""
    frontier = Frontier(frontier_url)
    frontier.start_job(platform, asdict(args))
    return sum(frontier.push_seeds(platform, kind, list(values))
               for kind, values in (("keyword", keywords), ("creator", creators), ("post", posts)))


def frontier_settings(frontier_url: str) -> dict[str, Any]:
    """Settings that turn a crawl into a frontier worker."""
    return {
        "GRAYSCAN_FRONTIER": frontier_url,
        "SCHEDULER": "crawler.frontier.FrontierScheduler",
        "ITEM_PIPELINES": {},
        # Outermost (lowest order): it sees the callback's final output, after Scrapy's own middlewares.
        "SPIDER_MIDDLEWARES": {"crawler.frontier.FrontierCommitMiddleware": 5},
        # After signing (40) and base-URL mapping (50), which reschedule a request: one token per attempt.
        "DOWNLOADER_MIDDLEWARES": {**default_settings.DOWNLOADER_MIDDLEWARES,
                                   "crawler.ratelimit.SharedRateLimitMiddleware": 60},
    }


def worker_settings(base: Settings, frontier_url: str, job: CrawlJob, rate: float | None,
                    overrides: dict[str, Any] | None = None) -> Settings:
    """A frontier worker's settings for ``job``. Rate limit: ``GRAYSCAN_RATE_LIMITS`` in ``overrides``
    (requests/s per platform), else ``rate`` (the job's), else one request per the platform's politeness
    delay (``PLATFORM_DOWNLOAD_DELAY``; none against a loopback replica)."""
    settings = job_settings(base, job, overrides, frontier_settings(frontier_url))
    delay = settings.getfloat("DOWNLOAD_DELAY")
    rate = rate or (1 / delay if delay > 0 else None)
    if "GRAYSCAN_RATE_LIMITS" not in (overrides or {}) and rate:
        # The shared bucket replaces each worker's own delay: a delay applied after the token was
        # taken would bunch requests of several workers together.
        settings.setdict({"GRAYSCAN_RATE_LIMITS": {job.platform: rate}, "DOWNLOAD_DELAY": 0,
                          "AUTOTHROTTLE_ENABLED": False}, "cmdline")
    return settings


def work(
    frontier_url: str,
    platforms: list[str] | None = None,
    *,
    base_url: str | None = None,
    cookies: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
    on_item: Callable[[str], None] | None = None,
    on_response: Callable[[str], None] | None = None,
) -> list[WorkerResult]:
    """Work on the frontier's jobs (all, or those of ``platforms``) in this process until they are done.
    A page-signed platform is checked first like ``grayscan crawl`` does (crawler.run.preflight): a job
    that fails its check gets no request sent and ends ``no_browser``/``no_route``/``no_signer``."""
    jobs = Frontier(frontier_url).jobs()
    chosen = [p for p in jobs if platforms is None or p in platforms]
    base = crawl_settings(overrides)
    crawl_jobs = []
    for platform in chosen:
        args = JobArgs(**jobs[platform])
        crawl_jobs.append((CrawlJob(platform, [], max_pages=args.max_pages, base_url=base_url,
                                    comments=args.comments, comment_pages=args.comment_pages, refresh=args.refresh,
                                    cookies_file=(cookies or {}).get(platform)), args.rate))
    checked = preflight_jobs([job for job, _ in crawl_jobs], base)
    process = AsyncCrawlerProcess(base)
    results: list[WorkerResult] = []
    crawlers: list[Crawler | None] = []
    for (job, problem, notice), (_, rate) in zip(checked, crawl_jobs, strict=True):
        platform = job.platform
        if problem is None and job.via != "api":  # the page's signer is missing; the browser route reads no queue
            problem = Problem("no_signer", f"{notice}; a frontier worker cannot take that route: crawl {platform} "
                                           f"single-process (`grayscan crawl {platform} --via browser`)")
        if problem:
            results.append(WorkerResult(platform, not_started_stats(platform, problem)))
            crawlers.append(None)
            continue
        crawler = Crawler(spider_class(platform), worker_settings(base, frontier_url, job, rate, overrides))
        if on_item:
            crawler.signals.connect(lambda item, p=platform, **_: on_item(p), signal=signals.item_scraped, weak=False)
        if on_response:
            crawler.signals.connect(lambda response, p=platform, **_: on_response(p),
                                    signal=signals.response_received, weak=False)
        crawlers.append(crawler)
        results.append(WorkerResult(platform))
        process.crawl(crawler, **job.spider_args(set()))
    if any(crawlers):
        process.start()
    for result, crawler in zip(results, crawlers, strict=True):
        if crawler is not None:
            result.stats = dict(crawler.stats.get_stats())
    return results
