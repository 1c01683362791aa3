"""Run crawls in this process: the Python API behind ``grayscan crawl`` and ``grayscan demo``."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from scrapy import signals
from scrapy.crawler import AsyncCrawlerProcess, Crawler
from scrapy.settings import Settings

from takedown import store

from . import settings as default_settings
from .browser import Problem, check_page, run_isolated
from .hosts import is_loopback_url
from .middlewares import map_url
from .pipelines import start_worker
from .signing import PageJsSigner, default_signers
from .spiders import spider_class

logger = logging.getLogger(__name__)

#: Settings for a local replica on loopback: no politeness delays.
LOCAL_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "GRAYSCAN_BACKOFF_BASE": 0.2,
    "GRAYSCAN_RETRY_BACKOFF": 0.05,
    "GRAYSCAN_RETRY_BACKOFF_MAX": 0.2,
}
#: How a run ended, from Scrapy's finish reason: the platform stopped it, or it could not start at all.
STOP_REASONS = ("captcha", "login_expired", "login", "signature", "rate_limited", "error", "store_failed")
NOT_STARTED_REASONS = ("no_route", "no_browser", "no_signer")
#: Stopped by the user, the job state kept for --resume: Scrapy's finish reason after Ctrl-C (SIGINT) or
#: SIGTERM, and ours for a crawl that never closed (Ctrl-C twice: Scrapy stops without closing the spider).
USER_STOP_REASON = "shutdown"
FORCED_STOP_REASON = "forced_shutdown"
#: Scrapy finish reason for each preflight problem (crawler.browser.Problem.kind).
PREFLIGHT_REASONS = {"no_browser": "no_browser", "no_page": "no_route", "no_signer": "no_signer"}
#: Platforms that answer anonymous web clients with little or nothing.
LOGIN_PLATFORMS = ("douyin", "xhs", "kuaishou")


class BaseUrlError(ValueError):
    """A --base-url that is not an http(s) URL with a host."""


def check_base_url(base_url: str) -> str:
    """``base_url`` when it is an http(s) URL with a host; raises BaseUrlError saying what is wrong."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BaseUrlError(f"--base-url {base_url!r} is not an http(s) URL with a host, e.g. http://127.0.0.1:8765")
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as exc:
        raise BaseUrlError(f"--base-url {base_url!r}: {exc}") from None
    return base_url


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
    via: str = "api"  # page-signed platforms: "browser" lets the platform's own page make the signed calls

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
    with_cookies: bool = False
    notices: list[str] = field(default_factory=list)  # said before the crawl, repeated in the note

    @property
    def stored(self) -> int:
        return int(self.stats.get("grayscan/stored", 0))

    @property
    def pages(self) -> int:
        """Answers that parsed into data."""
        return int(self.stats.get("grayscan/pages", 0))

    @property
    def retried(self) -> int:
        """Requests sent again: after a connection drop, 5xx or undecodable body, or a rate-limit back-off."""
        return int(self.stats.get("retry/count", 0)) + int(self.stats.get("grayscan/backoff", 0))

    @property
    def lost(self) -> int:
        """Pages given up after every retry (kept in the job state for --resume)."""
        return int(self.stats.get("grayscan/lost", 0))

    @property
    def outcome(self) -> str:
        """``complete``, ``losses`` (finished, but pages were given up), ``failed_records`` (batches of posts
        that could not be stored), ``stopped`` (by the platform, the store or the user) or ``not_started`` (no
        route to the platform, no browser)."""
        reason = str(self.stats.get("finish_reason", ""))
        if reason in NOT_STARTED_REASONS:
            return "not_started"
        if reason in (*STOP_REASONS, USER_STOP_REASON, FORCED_STOP_REASON):
            return "stopped"
        if self.lost:
            return "losses"
        return "failed_records" if self.stats.get("grayscan/store_errors") else "complete"

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
            "no_route": f"could not reach {self.platform} (the cause is above); check the network or --base-url",
            USER_STOP_REASON: f"stopped by user; {self.pages} pages fetched; resume with --resume",
            FORCED_STOP_REASON: f"stopped by user without closing the crawl (Ctrl-C twice); {self.pages} pages "
                                "fetched; posts of the last pages may not be stored (their pages count as fetched "
                                "for --resume): run the same command without --resume to fetch everything again",
        }
        preflight = self.stats.get("grayscan/preflight")
        parts = [*self.notices, preflight or notes[reason]] if preflight or reason in notes else [*self.notices]
        if self.lost and reason not in NOT_STARTED_REASONS:
            parts.append(f"{self.lost} {'page' if self.lost == 1 else 'pages'} given up after every retry (URLs above); "
                         "fetch them again by running the same command with --resume")
        if self.stats.get("grayscan/store_errors") and reason != "store_failed":
            parts.append(f"{self.stats['grayscan/store_errors']} batches of posts could not be classified or stored "
                         "(the error is above); run the same crawl again to store them")
        ran_short = self.outcome in ("losses", "stopped") or (self.outcome == "complete" and not self.stored)
        user_stop = reason in (USER_STOP_REASON, FORCED_STOP_REASON)
        if self.platform in LOGIN_PLATFORMS and not self.with_cookies and ran_short and not user_stop:
            names = ", ".join(spider_class(self.platform).api_class.login_cookies)
            parts.append(f"{self.platform} answers anonymous clients with little or nothing: login cookies are likely "
                         f"needed (log in in a browser, export its cookies ({names}), pass --cookies FILE)")
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
    local = is_loopback_url(job.base_url)
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


def preflight(job: CrawlJob, settings: Settings) -> tuple[CrawlJob, Problem | None, str | None]:
    """Check a page-signed platform before its first request: Chromium starts, the platform's page opens and
    (API route) defines its signing function. A missing signing function switches the job to the browser
    route where the platform has one. Returns the job to run, the problem that stops it, and a notice."""
    if job.platform == "generic":
        return job, None, None
    api = spider_class(job.platform).api_class
    signer = default_signers().get(job.platform)
    switched_off = (settings.getdict("GRAYSCAN_SIGNERS") or {}).get(job.platform) == "none"
    if job.via == "api" and (switched_off or not isinstance(signer, PageJsSigner)):
        return job, None, None
    if job.via == "api":
        url, probe, what = signer.page_url, signer.probe, f"{job.platform} signing page"
    else:
        url, probe, what = api.browser_page, None, f"{job.platform} search page"
    problem = run_isolated(lambda: check_page(map_url(url, job.base_url, api.hosts), probe, what=what))
    if problem and problem.kind == "no_signer" and api.browser_page:
        notice = f"{problem.message}: falling back to the browser route (--via browser)"
        browser_job, browser_problem, _ = preflight(replace(job, via="browser"), settings)
        return browser_job, browser_problem, notice
    if problem and problem.kind == "no_signer":
        problem.message += f"; its expression in crawler/signing.py needs fixing ({job.platform} has no browser route)"
    return job, problem, None


def preflight_jobs(jobs: list[CrawlJob], settings: Settings) -> list[tuple[CrawlJob, Problem | None, str | None]]:
    """``preflight`` for every job, once per platform page (jobs of a platform share it): each job as it
    will run, the problem that stops it (None: go ahead), and a notice to repeat to the user."""
    checked: list[tuple[CrawlJob, Problem | None, str | None]] = []
    outcomes: dict[tuple[str, str | None, str], tuple[str, Problem | None, str | None]] = {}
    for job in jobs:
        page = (job.platform, job.base_url, job.via)
        if page not in outcomes:
            checked_job, problem, notice = preflight(job, settings)
            outcomes[page] = (checked_job.via, problem, notice)
        via, problem, notice = outcomes[page]
        checked.append((replace(job, via=via), problem, notice))
    return checked


def not_started_stats(platform: str, problem: Problem) -> dict[str, Any]:
    """The stats of a job its preflight stopped before a request was sent (logged here)."""
    logger.error("%s: %s", platform, problem.message)
    return {"finish_reason": PREFLIGHT_REASONS[problem.kind], "grayscan/preflight": problem.message}


def crawl(
    jobs: list[CrawlJob],
    db_path: str,
    *,
    overrides: dict[str, Any] | None = None,
    on_item: Callable[[str], None] | None = None,
    on_response: Callable[[str], None] | None = None,
) -> list[CrawlResult]:
    """Crawl every job in one Scrapy process (the reactor starts once) and record crawl runs. Jobs that
    fail their preflight are recorded as not started, without a request sent."""
    db = store.open_db(db_path)
    results: list[CrawlResult] = []
    crawlers: list[Crawler | None] = []
    base = crawl_settings(overrides)
    checked = preflight_jobs(jobs, base)
    process = AsyncCrawlerProcess(base)  # installs the asyncio reactor and logging up front
    if any(problem is None for _, problem, _ in checked):
        # The worker loads the classifier and the full-text segmenter (seconds) while the crawls start.
        start_worker(base)
    for job, problem, notice in checked:
        run_id = store.start_run(db, job.platform, job.keywords + [f"creator:{c}" for c in job.creators])
        result = CrawlResult(job.platform, run_id, with_cookies=bool(job.cookies_file), notices=[notice] if notice else [])
        results.append(result)
        if notice:
            logger.warning("%s: %s", job.platform, notice)
        if problem:
            result.stats = not_started_stats(job.platform, problem)
            crawlers.append(None)
            continue
        settings = job_settings(base, job, overrides,
                                {"GRAYSCAN_DB": db_path, "GRAYSCAN_RUN_ID": run_id, "GRAYSCAN_VIA": job.via})
        crawler = Crawler(spider_class(job.platform), settings)
        if on_item:
            crawler.signals.connect(lambda item, p=job.platform, **_: on_item(p), signal=signals.item_scraped, weak=False)
        if on_response:
            crawler.signals.connect(
                lambda response, p=job.platform, **_: on_response(p), signal=signals.response_received, weak=False
            )
        crawlers.append(crawler)
        process.crawl(crawler, **job.spider_args(known_post_ids(db, job.platform)))
    if any(crawlers):
        process.start()
    for result, crawler in zip(results, crawlers, strict=True):
        if crawler is not None:
            # (a crawl that never closed has no finish reason of its own)
            result.stats = {"finish_reason": FORCED_STOP_REASON, **crawler.stats.get_stats()}
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
