"""Bilibili web APIs, WBI-signed (``wts`` + ``w_rid``, see crawler/signing.py).

- Keys and login: GET https://api.bilibili.com/x/web-interface/nav -> ``data.wbi_img.{img_url,sub_url}``,
  ``data.isLogin`` (code -101 when logged out, keys still present).
- Search: GET /x/web-interface/wbi/search/type?search_type=video&keyword=KW&page=N ->
  ``{code, message, data: {numPages, result[]}}``; titles carry ``<em class="keyword">``.
- Creator: GET /x/space/wbi/arc/search?mid=&pn=&ps=30&order=pubdate -> ``data.list.vlist[]``, ``data.page.{pn,ps,count}``.
- Comments: GET /x/v2/reply/wbi/main?oid={aid}&type=1&mode=3&ps=20&next=N -> ``data.{cursor.{is_end,next}, replies[]}``.
- Faults: ``code -412`` / HTTP 412 (request blocked) is a rate limit; ``-352`` is risk control (captcha);
  ``-403`` with a signature means the WBI signature was rejected.
"""

from __future__ import annotations

from typing import Any

from ..items import PostItem
from ..parsing import html_text, iso_from_epoch, parse_count, str_id
from ..signing import wbi_keys_from_nav, wbi_query
from .base import Api, Call, Fault, PlatformSpider, post_item

API = "https://api.bilibili.com"
NAV_URL = f"{API}/x/web-interface/nav"
SEARCH_URL = f"{API}/x/web-interface/wbi/search/type"


def owner_fields(mid: Any, name: str | None) -> dict[str, Any]:
    mid = str_id(mid)
    return {"author_id": mid, "author_name": name, "author_url": f"https://space.bilibili.com/{mid}" if mid else None}


def video_item(result: dict[str, Any], keyword: str | None = None) -> PostItem:
    """A search result or space-listing video as a post (title and description as text)."""
    aid = str(result.get("aid") or result.get("id"))
    title = html_text(result.get("title"))
    description = html_text(result.get("description"))
    bvid = result.get("bvid")
    return post_item(
        "bilibili",
        aid,
        f"https://www.bilibili.com/video/{bvid}" if bvid else f"https://www.bilibili.com/video/av{aid}",
        "\n".join(t for t in (title, description) if t),
        title=title,
        published_at=iso_from_epoch(result.get("pubdate") or result.get("created")),
        keyword=keyword,
        raw={**result, "play": parse_count(result.get("play"))},
        **owner_fields(result.get("mid"), result.get("author")),
    )


def reply_item(reply: dict[str, Any], aid: str) -> PostItem:
    member = reply.get("member") or {}
    rpid = str(reply["rpid"])
    return post_item(
        "bilibili",
        f"reply-{rpid}",
        f"https://www.bilibili.com/video/av{aid}#reply{rpid}",
        html_text((reply.get("content") or {}).get("message")),
        kind="comment",
        parent_id=aid,
        published_at=iso_from_epoch(reply.get("ctime")),
        raw=reply,
        **owner_fields(member.get("mid"), member.get("uname")),
    )


class Bilibili(Api):
    platform = "bilibili"
    hosts = ("api.bilibili.com", "www.bilibili.com", "space.bilibili.com", "search.bilibili.com")
    login_cookies = ("SESSDATA", "DedeUserID")
    numbered_steps = ("search", "creator")
    always_check = True  # nav carries the WBI keys every signed call needs

    def __init__(self) -> None:
        self.wbi_keys: tuple[str, str] | None = None

    def login_check(self) -> Call:
        return Call("login_check", NAV_URL)

    def setup(self, payload: Any) -> None:
        self.wbi_keys = wbi_keys_from_nav(payload)

    def logged_in(self, payload: Any) -> bool:
        return bool((payload.get("data") or {}).get("isLogin"))

    def signed(self, step: str, url: str, params: dict[str, Any], ctx: dict[str, Any], page: int, **kw: Any) -> Call:
        assert self.wbi_keys, "WBI keys come from the nav call, which runs first"
        return Call(step, url + "?" + wbi_query(params, *self.wbi_keys), ctx=ctx, page=page,
                    headers={"Referer": "https://www.bilibili.com/"}, **kw)

    def search(self, keyword: str, page: int = 1) -> Call:
        params = {"search_type": "video", "keyword": keyword, "page": page}
        return self.signed("search", SEARCH_URL, params, {"keyword": keyword}, page)

    def creator(self, creator_id: str, page: int = 1) -> Call:
        params = {"mid": creator_id, "pn": page, "ps": 30, "order": "pubdate"}
        return self.signed("creator", f"{API}/x/space/wbi/arc/search", params, {"creator": creator_id}, page)

    def comments(self, post: PostItem, next_offset: int = 0, page: int = 1) -> Call:
        aid = post["post_id"]
        params = {"oid": aid, "type": 1, "mode": 3, "ps": 20, "next": next_offset}
        return self.signed("comments", f"{API}/x/v2/reply/wbi/main", params, {"aid": aid}, page, post_id=aid)

    def fault(self, status: int, headers: dict[str, str], text: str, payload: Any) -> Fault | None:
        code = payload.get("code") if isinstance(payload, dict) else None
        if status == 412 or code == -412:
            return Fault("throttle", f"request blocked (HTTP {status}, code {code})")
        if code == -352:
            return Fault("captcha", "risk control verification (code -352)")
        if code == -403:
            return Fault("signature", f"code -403: {payload.get('message')}")
        if code == -101 and payload and not (payload.get("data") or {}).get("wbi_img"):
            return Fault("login", "code -101: not logged in")
        return None

    def parse_search(self, payload: dict[str, Any], ctx: dict[str, Any]):
        data = payload.get("data") or {}
        for result in data.get("result") or []:
            if result.get("type", "video") == "video":
                yield video_item(result, ctx["keyword"])
        if ctx["page"] < int(data.get("numPages") or 0):
            yield self.search(ctx["keyword"], ctx["page"] + 1)

    def parse_creator(self, payload: dict[str, Any], ctx: dict[str, Any]):
        data = payload.get("data") or {}
        videos = (data.get("list") or {}).get("vlist") or []
        yield from (video_item(v) for v in videos)
        paging = data.get("page") or {}
        if videos and ctx["page"] * int(paging.get("ps") or 30) < int(paging.get("count") or 0):
            yield self.creator(ctx["creator"], ctx["page"] + 1)

    def parse_comments(self, payload: dict[str, Any], ctx: dict[str, Any]):
        data = payload.get("data") or {}
        pinned = data.get("top_replies") or [] if ctx["page"] == 1 else []
        for reply in [*pinned, *(data.get("replies") or [])]:
            yield reply_item(reply, ctx["aid"])
        cursor = data.get("cursor") or {}
        if not cursor.get("is_end", True):
            yield self.comments({"post_id": ctx["aid"]}, int(cursor.get("next") or 0), ctx["page"] + 1)  # type: ignore[typeddict-item]


class BilibiliSpider(PlatformSpider):
    name = "bilibili"
    api_class = Bilibili
