"""Weibo (m.weibo.cn) keyword search.

Search: GET https://m.weibo.cn/api/container/getIndex?containerid=100103type=1&q=KW&page_type=searchall&page=N
Envelope ``{ok, data: {cardlistInfo, cards}}``; posts are cards with ``card_type == 9`` (also nested in
``card_group``) carrying ``mblog``; ``ok: 0`` with no cards ends the result list.
"""

from __future__ import annotations

import re
import urllib.parse
from datetime import datetime
from typing import Any

from scrapy.http import Request, Response
from w3lib.html import remove_tags, replace_entities

from ..items import PostItem
from .base import PlatformSpider, utc_now

SEARCH_URL = "https://m.weibo.cn/api/container/getIndex"


def search_url(keyword: str, page: int) -> str:
    query = {"containerid": f"100103type=1&q={keyword}", "page_type": "searchall", "page": page}
    return SEARCH_URL + "?" + urllib.parse.urlencode(query)


def html_text(html: str) -> str:
    """Weibo text is HTML: line breaks kept, tags dropped, entities decoded."""
    html = re.sub(r"<br\s*/?>", "\n", html or "", flags=re.IGNORECASE)
    return replace_entities(remove_tags(html)).strip()


def parse_created_at(value: str | None) -> str | None:
    """``Wed Oct 19 23:44:36 +0800 2022`` to ISO-8601, keeping the +08:00 offset."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").isoformat()
    except ValueError:
        return None


def iter_mblogs(cards: list[dict[str, Any]]):
    """Every ``mblog`` of the post cards, including those nested in card groups."""
    for card in cards or []:
        if card.get("card_type") == 9 and isinstance(card.get("mblog"), dict):
            yield card["mblog"]
        yield from iter_mblogs(card.get("card_group") or [])


def mblog_item(mblog: dict[str, Any], keyword: str | None = None) -> PostItem:
    user = mblog.get("user") or {}
    post_id = str(mblog.get("id") or mblog.get("mid"))
    user_id = str(user["id"]) if user.get("id") else None
    return PostItem(
        platform="weibo",
        post_id=post_id,
        kind="post",
        url=f"https://m.weibo.cn/detail/{post_id}",
        title=None,
        text=html_text(mblog.get("text", "")),
        author_id=user_id,
        author_name=user.get("screen_name"),
        author_url=f"https://m.weibo.cn/u/{user_id}" if user_id else None,
        published_at=parse_created_at(mblog.get("created_at")),
        crawled_at=utc_now(),
        keyword=keyword,
        raw=mblog,
    )


def parse_search(payload: dict[str, Any], keyword: str | None = None) -> tuple[list[PostItem], bool]:
    """Items of one search page and whether another page may follow."""
    data = payload.get("data") or {}
    cards = data.get("cards") or []
    if payload.get("ok") != 1:
        return [], False
    return [mblog_item(m, keyword) for m in iter_mblogs(cards)], bool(cards)


class WeiboSpider(PlatformSpider):
    name = "weibo"
    platform = "weibo"
    hosts = ("m.weibo.cn", "weibo.com", "www.weibo.com", "s.weibo.com")

    async def start(self):
        for keyword in self.keywords:
            yield Request(search_url(keyword, 1), callback=self.parse_search, cb_kwargs={"keyword": keyword, "page": 1})

    def parse_search(self, response: Response, keyword: str, page: int):
        payload = self.load_json(response)
        if payload is None:
            return
        items, more = parse_search(payload, keyword)
        yield from items
        if more and page < self.max_pages:
            yield Request(
                search_url(keyword, page + 1),
                callback=self.parse_search,
                cb_kwargs={"keyword": keyword, "page": page + 1},
            )
