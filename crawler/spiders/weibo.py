"""Weibo through m.weibo.cn.

- Login check: GET /api/config -> ``data.login``.
- Search: GET /api/container/getIndex?containerid=100103type=1&q=KW&page_type=searchall&page=N ->
  ``{ok, data: {cardlistInfo, cards}}``; posts are cards with ``card_type == 9`` carrying ``mblog``, also nested
  in ``card_group``; ``ok: 0`` or no cards ends the list.
- Creator: GET /api/container/getIndex?containerid=107603{uid}&since_id=S -> same cards, next ``cardlistInfo.since_id``.
- Long text (``isLongText``): GET /detail/{id} embeds ``var $render_data = [{status: ...}][0]``.
- Comments: GET /comments/hotflow?id=&mid=&max_id_type=0[&max_id=] -> ``data.{data[], max_id}``; ``max_id 0`` ends.
- Faults: HTTP 432 (a non-JSON block page) and HTTP 403/418 are rate limits; a ``passport`` verify redirect is a captcha.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from ..items import PostItem
from ..parsing import html_text, js_object_after, parse_count, parse_weibo_time, str_id
from .base import Api, Call, Fault, PlatformSpider, post_item

API = "https://m.weibo.cn"


def search_url(keyword: str, page: int) -> str:
    query = {"containerid": f"100103type=1&q={keyword}", "page_type": "searchall", "page": page}
    return f"{API}/api/container/getIndex?" + urllib.parse.urlencode(query)


def iter_mblogs(cards: list[dict[str, Any]]):
    """Every ``mblog`` of the post cards, including those nested in card groups."""
    for card in cards or []:
        if card.get("card_type") == 9 and isinstance(card.get("mblog"), dict):
            yield card["mblog"]
        yield from iter_mblogs(card.get("card_group") or [])


def user_fields(user: dict[str, Any]) -> dict[str, Any]:
    user_id = str_id(user.get("id"))
    return {
        "author_id": user_id,
        "author_name": user.get("screen_name"),
        "author_url": f"https://m.weibo.cn/u/{user_id}" if user_id else None,
    }


def mblog_item(mblog: dict[str, Any], keyword: str | None = None) -> PostItem:
    post_id = str(mblog.get("id") or mblog.get("mid"))
    return post_item(
        "weibo",
        post_id,
        f"https://m.weibo.cn/detail/{post_id}",
        html_text(mblog.get("longText", {}).get("longTextContent") or mblog.get("text", "")),
        published_at=parse_weibo_time(mblog.get("created_at")),
        keyword=keyword,
        raw={**mblog, "comments_count": parse_count(mblog.get("comments_count")),
             "attitudes_count": parse_count(mblog.get("attitudes_count"))},
        **user_fields(mblog.get("user") or {}),
    )


def parse_cards(payload: dict[str, Any], keyword: str | None) -> tuple[list[PostItem | Call], bool]:
    """Items of a card list (long posts become detail calls) and whether the list has cards."""
    cards = (payload.get("data") or {}).get("cards") or []
    if payload.get("ok") != 1:
        return [], False
    outputs: list[PostItem | Call] = []
    for mblog in iter_mblogs(cards):
        item = mblog_item(mblog, keyword)
        if mblog.get("isLongText"):
            outputs.append(Call("detail", item["url"], headers={"Accept": "text/html"},
                                ctx={"item": item}, post_id=item["post_id"]))
        else:
            outputs.append(item)
    return outputs, bool(cards)


def parse_detail_html(html: str) -> dict[str, Any] | None:
    """The ``status`` object of a detail page's ``$render_data``, or None."""
    data = js_object_after(html, "var $render_data")
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return data[0].get("status")
    return None


def comment_item(comment: dict[str, Any], post_id: str) -> PostItem:
    comment_id = str(comment["id"])
    return post_item(
        "weibo",
        comment_id,
        f"https://m.weibo.cn/detail/{post_id}#comment-{comment_id}",
        html_text(comment.get("text")),
        kind="comment",
        parent_id=post_id,
        published_at=parse_weibo_time(comment.get("created_at")),
        raw=comment,
        **user_fields(comment.get("user") or {}),
    )


class Weibo(Api):
    platform = "weibo"
    hosts = ("m.weibo.cn", "weibo.com", "www.weibo.com", "s.weibo.com")
    login_cookies = ("SUB", "SSOLoginState")
    numbered_steps = ("search",)

    def login_check(self) -> Call:
        return Call("login_check", f"{API}/api/config")

    def logged_in(self, payload: Any) -> bool:
        return bool((payload.get("data") or {}).get("login"))

    def search(self, keyword: str, page: int = 1) -> Call:
        return Call("search", search_url(keyword, page), ctx={"keyword": keyword}, page=page)

    def creator(self, creator_id: str, since_id: str | None = None, page: int = 1) -> Call:
        query = {"containerid": f"107603{creator_id}", **({"since_id": since_id} if since_id else {})}
        url = f"{API}/api/container/getIndex?" + urllib.parse.urlencode(query)
        return Call("creator", url, ctx={"creator": creator_id}, page=page)

    def comments(self, post: PostItem, max_id: int | None = None, page: int = 1) -> Call:
        query = {"id": post["post_id"], "mid": post["post_id"], "max_id_type": 0, **({"max_id": max_id} if max_id else {})}
        return Call("comments", f"{API}/comments/hotflow?" + urllib.parse.urlencode(query),
                    headers={"Referer": f"{API}/detail/{post['post_id']}"},
                    ctx={"post_id": post["post_id"]}, page=page, post_id=post["post_id"])

    def decode(self, step: str, text: str) -> Any:
        if step == "detail":
            status = parse_detail_html(text)
            if status is None:
                raise ValueError("no $render_data status in the detail page")
            return status
        return super().decode(step, text)

    def fault(self, status: int, headers: dict[str, str], text: str, payload: Any) -> Fault | None:
        if status in (403, 418, 432):
            return Fault("throttle", f"HTTP {status}")
        if "passport.weibo.cn/signin" in headers.get("location", "") or "security.weibo.com" in text[:2000]:
            return Fault("captcha", "verification page")
        return None

    def parse_search(self, payload: dict[str, Any], ctx: dict[str, Any]):
        outputs, more = parse_cards(payload, ctx["keyword"])
        yield from outputs
        if more:
            yield self.search(ctx["keyword"], ctx["page"] + 1)

    def parse_creator(self, payload: dict[str, Any], ctx: dict[str, Any]):
        outputs, _ = parse_cards(payload, None)
        yield from outputs
        since_id = ((payload.get("data") or {}).get("cardlistInfo") or {}).get("since_id")
        if since_id and outputs:
            yield self.creator(ctx["creator"], str(since_id), ctx["page"] + 1)

    def parse_detail(self, status: dict[str, Any], ctx: dict[str, Any]):
        item = dict(ctx["item"])
        item["text"] = html_text(status.get("text"))
        item["raw"] = {**item["raw"], "text": status.get("text"), "isLongText": False}
        yield item

    def parse_comments(self, payload: dict[str, Any], ctx: dict[str, Any]):
        if payload.get("ok") != 1:  # ok 0: no comments yet
            return
        data = payload.get("data") or {}
        for comment in data.get("data") or []:
            yield comment_item(comment, ctx["post_id"])
        if data.get("max_id"):
            yield self.comments({"post_id": ctx["post_id"]}, data["max_id"], ctx["page"] + 1)  # type: ignore[typeddict-item]


class WeiboSpider(PlatformSpider):
    name = "weibo"
    api_class = Weibo
