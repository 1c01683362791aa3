"""Re-fetch submitted takedown items and tell whether each is removed or still up.

A self-contained Scrapy spider, pipeline and runner behind ``grayscan recheck``. The spider turns
each response into a result (pure function ``recheck_outcome``); the pipeline hands results to
``takedown.recheck.record_recheck``. ``--base-url`` maps the platforms' hosts onto a local
replica, as for crawls.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import AsyncCrawlerProcess, Crawler
from scrapy.http import Request, Response
from scrapy.settings import Settings

from takedown import store
from takedown.recheck import due_items, record_recheck

from . import settings as default_settings
from .hosts import is_loopback_url
from .run import LOCAL_SETTINGS
from .spiders.base import utc_now

#: HTTP statuses meaning the content is gone.
GONE_STATUSES = (404, 410)
#: Text a platform serves (often with HTTP 200) in place of deleted content. Collected from the
#: platforms' public error pages and API messages; unverified against every page variant.
DELETED_MARKERS: dict[str, tuple[str, ...]] = {
    "weibo": ("该微博已被删除", "此微博已被作者删除", "微博不存在或暂无查看权限", "\"errno\":\"20101\""),
    "bilibili": ("视频去哪了呢", "视频不见了", "稿件不可见", "啥都木有"),
    "douyin": ("作品已删除", "作品不存在", "该作品已删除"),
    "kuaishou": ("作品已删除", "该作品已被删除"),
    "xiaohongshu": ("笔记不见了", "当前笔记暂时无法浏览"),
    "tieba": ("该贴已被删除", "贴子已被删除", "该帖已被删除"),
    "zhihu": ("内容已被删除", "该内容已被删除", "你似乎来到了没有知识存在的荒原"),
}
#: Only the head of a body is searched for markers (post text is hostile and unbounded).
MARKER_SCAN_CHARS = 200_000
#: Hosts ``--base-url`` maps onto a replica: every platform's web and API hosts we re-fetch.
HOSTS = (
    "m.weibo.cn", "weibo.com", "www.weibo.com", "www.bilibili.com", "bilibili.com", "m.bilibili.com",
    "www.douyin.com", "www.kuaishou.com", "www.xiaohongshu.com", "tieba.baidu.com", "www.zhihu.com",
    "zhuanlan.zhihu.com",
)  # fmt: skip
#: Statuses handed to the spider instead of dropped (redirects are still followed).
HANDLED_STATUSES = [400, 401, 403, 404, 410, 429, 500, 502, 503, 504]


def recheck_outcome(platform: str, status: int, text: str) -> tuple[str, str]:
    """(outcome, marker) for a response: ``removed`` on 404/410 or a deleted marker, ``up`` on
    another 2xx, ``error`` otherwise (blocked, rate-limited, server error: decide nothing)."""
    if status in GONE_STATUSES:
        return "removed", f"HTTP {status}"
    if 200 <= status < 300:
        head = text[:MARKER_SCAN_CHARS]
        for marker in DELETED_MARKERS.get(platform, ()):
            if marker in head:
                return "removed", marker
        return "up", f"HTTP {status}"
    return "error", f"HTTP {status}"


def _body_text(response: Response) -> str:
    try:
        return response.text  # TextResponse: decoded with the page's declared charset (GBK on Tieba)
    except AttributeError:
        return response.body.decode("utf-8", errors="replace")


class RecheckSpider(scrapy.Spider):
    """Fetches each target URL once and yields a recheck result per target."""

    name = "recheck"
    hosts = HOSTS

    def __init__(self, targets: list[dict[str, Any]] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.targets = list(targets or [])

    async def start(self):
        for target in self.targets:
            yield Request(
                target["url"],
                callback=self.parse,
                errback=self.failed,
                dont_filter=True,
                cb_kwargs={"target": target},
                meta={"handle_httpstatus_list": HANDLED_STATUSES},
            )

    def parse(self, response: Response, target: dict[str, Any]):
        outcome, marker = recheck_outcome(target["platform"], response.status, _body_text(response))
        yield {
            "queue_id": target["queue_id"],
            "url": target["url"],
            "http_status": response.status,
            "outcome": outcome,
            "marker": marker,
            "body_sha256": hashlib.sha256(response.body).hexdigest(),
            "checked_at": utc_now(),
        }

    def failed(self, failure):
        target = failure.request.cb_kwargs["target"]
        yield {
            "queue_id": target["queue_id"],
            "url": target["url"],
            "http_status": None,
            "outcome": "error",
            "marker": None,
            "body_sha256": None,
            "checked_at": utc_now(),
            "note": f"{failure.type.__name__}: {failure.getErrorMessage()}"[:300],
        }


class RecheckPipeline:
    """Records every result in the store as it arrives, so an interrupted recheck keeps its work."""

    def __init__(self, db_path: str, no_response_days: int):
        self.db_path = db_path
        self.no_response_days = no_response_days
        self.changed: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        return cls(settings.get("GRAYSCAN_DB", store.DEFAULT_DB), settings.getint("GRAYSCAN_NO_RESPONSE_DAYS", 14))

    def open_spider(self, spider=None):
        self.db = store.open_db(self.db_path)

    def close_spider(self, spider=None):
        self.db.close()

    def process_item(self, item, spider=None):
        new_status = record_recheck(self.db, item, no_response_days=self.no_response_days)
        if new_status:
            item["new_status"] = new_status
        return item


@dataclass
class RecheckSummary:
    targets: int
    outcomes: Counter = field(default_factory=Counter)
    new_statuses: Counter = field(default_factory=Counter)
    results: list[dict[str, Any]] = field(default_factory=list)


def run_recheck(
    db_path: str,
    *,
    platform: str | None = None,
    ids: list[int] | None = None,
    limit: int | None = None,
    base_url: str | None = None,
    no_response_days: int = 14,
    overrides: dict[str, Any] | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> RecheckSummary:
    """Re-fetch the due items through Scrapy in this process and record each result."""
    db = store.open_db(db_path)
    targets = due_items(db, platform=platform, ids=ids, limit=limit)
    db.close()
    summary = RecheckSummary(len(targets))
    if not targets:
        return summary
    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    local = is_loopback_url(base_url)
    settings.setdict(
        {
            **(LOCAL_SETTINGS if local else {}),
            "ITEM_PIPELINES": {"crawler.recheck.RecheckPipeline": 300},
            "GRAYSCAN_DB": db_path,
            "GRAYSCAN_BASE_URL": base_url,
            "GRAYSCAN_NO_RESPONSE_DAYS": no_response_days,
            **(overrides or {}),
        },
        priority="cmdline",
    )
    process = AsyncCrawlerProcess(settings)
    crawler = Crawler(RecheckSpider, settings)

    def scraped(item, **_):
        summary.results.append(dict(item))
        summary.outcomes[item["outcome"]] += 1
        if item.get("new_status"):
            summary.new_statuses[item["new_status"]] += 1
        if on_result:
            on_result(dict(item))

    crawler.signals.connect(scraped, signal=signals.item_scraped, weak=False)
    process.crawl(crawler, targets=targets)
    process.start()
    return summary
