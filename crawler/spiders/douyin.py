"""Douyin web APIs (www.douyin.com/aweme/v1/web/...), with the webapp's common query parameters.

- Search: GET /aweme/v1/web/general/search/single/?keyword=&offset=&count=15&search_channel=aweme_general&
  search_id= -> ``{status_code, data[], has_more, cursor, extra.logid}``; posts are ``data[].aweme_info``
  (or ``aweme_mix_info.mix_items[0]``); other cards (related words, aladdin boxes) carry neither and are skipped.
  The next page's ``search_id`` is ``extra.logid``. General search is unsigned.
- Creator: GET /aweme/v1/web/aweme/post/?sec_user_id=&count=18&max_cursor= -> ``aweme_list, has_more, max_cursor``.
- Comments: GET /aweme/v1/web/comment/list/?aweme_id=&cursor=&count=20&item_type=0 -> ``comments[], cursor, has_more``.
- Creator and comment calls carry ``a_bogus`` from the page signer (crawler/signing.py).
- Faults: an empty body is Douyin's rate limit; ``search_nil_info.search_nil_type == "verify_check"`` is a captcha.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from ..items import PostItem
from ..parsing import iso_from_epoch, parse_count, str_id
from .base import Api, Call, Fault, PlatformSpider, post_item

WEB = "https://www.douyin.com"
COMMON = {
    "device_platform": "webapp", "aid": "6383", "channel": "channel_pc_web", "pc_client_type": "1",
    "version_code": "190600", "version_name": "19.6.0", "cookie_enabled": "true", "platform": "PC",
}  # fmt: skip


def api_url(path: str, params: dict[str, Any]) -> str:
    return f"{WEB}{path}?" + urllib.parse.urlencode({**COMMON, **params})


def author_fields(author: dict[str, Any]) -> dict[str, Any]:
    sec_uid = author.get("sec_uid")
    return {
        "author_id": str_id(author.get("uid")) or sec_uid,
        "author_name": author.get("nickname"),
        "author_url": f"{WEB}/user/{sec_uid}" if sec_uid else None,
    }


def aweme_item(aweme: dict[str, Any], keyword: str | None = None) -> PostItem:
    aweme_id = str(aweme["aweme_id"])
    statistics = {k: parse_count(v) for k, v in (aweme.get("statistics") or {}).items()}
    return post_item(
        "douyin",
        aweme_id,
        f"{WEB}/{'note' if aweme.get('aweme_type') == 68 else 'video'}/{aweme_id}",
        aweme.get("desc") or "",
        title=(aweme.get("desc") or "")[:100] or None,
        published_at=iso_from_epoch(aweme.get("create_time")),
        keyword=keyword,
        raw={**aweme, "statistics": statistics},
        **author_fields(aweme.get("author") or {}),
    )


def search_awemes(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The posts of a search page: ``aweme_info`` cards and the first item of mix cards."""
    awemes = []
    for card in payload.get("data") or []:
        aweme = card.get("aweme_info") or ((card.get("aweme_mix_info") or {}).get("mix_items") or [None])[0]
        if isinstance(aweme, dict) and aweme.get("aweme_id"):
            awemes.append(aweme)
    return awemes


class Douyin(Api):
    platform = "douyin"
    hosts = ("www.douyin.com", "douyin.com")
    login_cookies = ("sessionid", "LOGIN_STATUS")
    browser_page = f"{WEB}/"
    browser_steps = {"/aweme/v1/web/general/search/single/": "search"}

    def login_check(self) -> Call:
        return Call("login_check", api_url("/aweme/v1/web/user/profile/self/", {}))

    def logged_in(self, payload: Any) -> bool:
        return payload.get("status_code") == 0 and bool((payload.get("user") or {}).get("uid"))

    def search(self, keyword: str, offset: int = 0, search_id: str = "", page: int = 1) -> Call:
        params = {
            "keyword": keyword, "offset": offset, "count": 15, "search_channel": "aweme_general",
            "search_source": "tab_search", "query_correct_type": 1, "is_filter_search": 0, "list_type": "multi",
            "search_id": search_id,
        }  # fmt: skip
        return Call("search", api_url("/aweme/v1/web/general/search/single/", params),
                    headers={"Referer": f"{WEB}/search/{urllib.parse.quote(keyword)}"},
                    ctx={"keyword": keyword}, page=page)

    def creator(self, creator_id: str, max_cursor: int = 0, page: int = 1) -> Call:
        params = {"sec_user_id": creator_id, "count": 18, "max_cursor": max_cursor}
        return Call("creator", api_url("/aweme/v1/web/aweme/post/", params), ctx={"creator": creator_id},
                    page=page, sign=True)

    def comments(self, post: PostItem, cursor: int = 0, page: int = 1) -> Call:
        params = {"aweme_id": post["post_id"], "cursor": cursor, "count": 20, "item_type": 0}
        return Call("comments", api_url("/aweme/v1/web/comment/list/", params), ctx={"aweme_id": post["post_id"]},
                    page=page, sign=True, post_id=post["post_id"])

    def fault(self, status: int, headers: dict[str, str], text: str, payload: Any) -> Fault | None:
        if not text.strip():
            return Fault("throttle", "empty body (Douyin's rate limit)")
        if isinstance(payload, dict):
            nil = payload.get("search_nil_info") or {}
            if nil.get("search_nil_type") == "verify_check":
                return Fault("captcha", "verify_check")
        return None

    def parse_search(self, payload: dict[str, Any], ctx: dict[str, Any]):
        for aweme in search_awemes(payload):
            yield aweme_item(aweme, ctx["keyword"])
        if payload.get("has_more"):
            search_id = (payload.get("extra") or {}).get("logid") or (payload.get("log_pb") or {}).get("impr_id", "")
            yield self.search(ctx["keyword"], int(payload.get("cursor") or 0), search_id, ctx["page"] + 1)

    def parse_creator(self, payload: dict[str, Any], ctx: dict[str, Any]):
        for aweme in payload.get("aweme_list") or []:
            yield aweme_item(aweme)
        if payload.get("has_more"):
            yield self.creator(ctx["creator"], int(payload.get("max_cursor") or 0), ctx["page"] + 1)

    def parse_comments(self, payload: dict[str, Any], ctx: dict[str, Any]):
        aweme_id = ctx["aweme_id"]
        for comment in payload.get("comments") or []:
            yield post_item(
                "douyin",
                f"comment-{comment['cid']}",
                f"{WEB}/video/{aweme_id}#comment-{comment['cid']}",
                comment.get("text") or "",
                kind="comment",
                parent_id=aweme_id,
                published_at=iso_from_epoch(comment.get("create_time")),
                raw=comment,
                **author_fields(comment.get("user") or {}),
            )
        if payload.get("has_more"):
            yield self.comments({"post_id": aweme_id}, int(payload.get("cursor") or 0), ctx["page"] + 1)  # type: ignore[typeddict-item]


class DouyinSpider(PlatformSpider):
    name = "douyin"
    api_class = Douyin
