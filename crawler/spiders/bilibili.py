"""Bilibili video search with WBI signing.

Keys: GET https://api.bilibili.com/x/web-interface/nav -> data.wbi_img.{img_url, sub_url}.
Search: GET https://api.bilibili.com/x/web-interface/wbi/search/type?search_type=video&keyword=KW&page=N
plus ``wts`` and ``w_rid``. Envelope ``{code, message, data: {numPages, result: [...]}}``; ``code -412``
means the request was blocked.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from scrapy.http import Request, Response
from w3lib.html import remove_tags, replace_entities

from ..items import PostItem
from ..signing import wbi_keys_from_nav, wbi_sign
from .base import PlatformSpider, iso_from_epoch, utc_now

NAV_URL = "https://api.bilibili.com/x/web-interface/nav"
SEARCH_URL = "https://api.bilibili.com/x/web-interface/wbi/search/type"


def clean(html: str | None) -> str:
    """Titles wrap the keyword in ``<em class="keyword">``; drop tags, decode entities."""
    return replace_entities(remove_tags(html or "")).strip()


def video_item(result: dict[str, Any], keyword: str | None = None) -> PostItem:
    aid = str(result.get("aid") or result.get("id"))
    mid = str(result["mid"]) if result.get("mid") else None
    title = clean(result.get("title"))
    description = clean(result.get("description"))
    return PostItem(
        platform="bilibili",
        post_id=aid,
        kind="post",
        url=f"https://www.bilibili.com/video/{result['bvid']}" if result.get("bvid") else f"https://www.bilibili.com/video/av{aid}",
        title=title,
        text="\n".join(t for t in (title, description) if t),
        author_id=mid,
        author_name=result.get("author"),
        author_url=f"https://space.bilibili.com/{mid}" if mid else None,
        published_at=iso_from_epoch(result.get("pubdate")),
        crawled_at=utc_now(),
        keyword=keyword,
        raw=result,
    )


def parse_search(payload: dict[str, Any], keyword: str | None = None) -> tuple[list[PostItem], int]:
    """Video items of one search page and the number of pages; raises on an error envelope."""
    if payload.get("code") != 0:
        raise ValueError(f"bilibili search answered code {payload.get('code')}: {payload.get('message')}")
    data = payload.get("data") or {}
    results = [r for r in data.get("result") or [] if r.get("type", "video") == "video"]
    return [video_item(r, keyword) for r in results], int(data.get("numPages") or 0)


class BilibiliSpider(PlatformSpider):
    name = "bilibili"
    platform = "bilibili"
    hosts = ("api.bilibili.com", "www.bilibili.com", "space.bilibili.com", "search.bilibili.com")

    async def start(self):
        yield Request(NAV_URL, callback=self.parse_nav, dont_filter=True)

    def parse_nav(self, response: Response):
        nav = self.load_json(response)
        if nav is None:
            return
        self.wbi_keys = wbi_keys_from_nav(nav)
        for keyword in self.keywords:
            yield self.search_request(keyword, 1)

    def search_request(self, keyword: str, page: int) -> Request:
        params = wbi_sign({"search_type": "video", "keyword": keyword, "page": page}, *self.wbi_keys)
        return Request(
            SEARCH_URL + "?" + urllib.parse.urlencode(params),
            callback=self.parse_search,
            cb_kwargs={"keyword": keyword, "page": page},
        )

    def parse_search(self, response: Response, keyword: str, page: int):
        payload = self.load_json(response)
        if payload is None:
            return
        try:
            items, pages = parse_search(payload, keyword)
        except ValueError as exc:
            self.logger.error("%s (%s)", exc, response.url)
            self.crawler.stats.inc_value("grayscan/refused")
            return
        yield from items
        if page < min(pages, self.max_pages):
            yield self.search_request(keyword, page + 1)
