"""Baidu Tieba PC JSON APIs, each signed with ``sign`` (md5 with the client salt, crawler/signing.py).

- Login check: GET /c/s/pc/sync -> ``data.user.id`` non-zero when logged in (``data.anti.tbs`` is the form token).
- Search: GET /mo/q/search/multsearch?word=&pn=&rn=20&st=1&needbrand=1&sug_type=2&come_from=search&subapp_type=pc&
  _client_type=20 -> ``{no, error, data: {card_list[], has_more}}``; threads are cards whose ``cardStyle``
  (or ``cardInfo``) is ``thread``; their ``data`` holds ``tid, title, content, forum_name, user, time``.
- Creator: GET /c/u/feed/myThread?pn=&rn=20&portrait=&type=1 -> ``data.{list[], has_more}`` (shape not verified
  against a recorded answer).
- Comments (floors): POST /c/f/pb/page_pc (form ``kz, pn, lz, r, subapp_type, _client_type``) ->
  ``{error_code, post_list[], user_list[], page.{current_page,total_page}}``; floor text is ``content[].text``.
- Faults: HTTP 403 with the "百度安全验证" page is a captcha; ``no``/``error_code`` 110001 a rate limit.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from ..items import PostItem
from ..parsing import first, html_text, iso_from_epoch, str_id
from .base import Api, Call, Fault, PlatformSpider, post_item

WEB = "https://tieba.baidu.com"
PC = {"subapp_type": "pc", "_client_type": "20"}


def user_fields(user: dict[str, Any]) -> dict[str, Any]:
    portrait = (user.get("portrait") or "").split("?")[0] or None
    return {"author_id": str_id(user.get("id")) or portrait,
            "author_name": first(user.get("show_nickname"), user.get("name_show"), user.get("user_name")),
            "author_url": f"{WEB}/home/main?id={portrait}" if portrait else None}


def thread_item(thread: dict[str, Any], keyword: str | None) -> PostItem:
    tid = str(thread["tid"])
    title = html_text(thread.get("title"))
    content = html_text(thread.get("content"))
    return post_item(
        "tieba",
        tid,
        f"{WEB}/p/{tid}",
        "\n".join(t for t in (title, content) if t),
        title=title or None,
        published_at=iso_from_epoch(first(thread.get("time"), thread.get("create_time"))),
        keyword=keyword,
        raw=thread,
        **user_fields(thread.get("user") or {}),
    )


def search_threads(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Thread cards of a search page; forum, user and brand cards are skipped."""
    cards = (payload.get("data") or {}).get("card_list") or []
    return [c["data"] for c in cards
            if "thread" in (c.get("cardStyle"), c.get("cardInfo")) and isinstance(c.get("data"), dict)]


def floor_text(content: list[dict[str, Any]] | str | None) -> str:
    """A floor's ``content`` list (text, links, emoticons) as plain text."""
    if isinstance(content, str):
        return html_text(content)
    return "".join(part.get("text") or part.get("c") or "" for part in content or []).strip()


class Tieba(Api):
    platform = "tieba"
    hosts = ("tieba.baidu.com",)
    login_cookies = ("BDUSS", "STOKEN")
    numbered_steps = ("search", "creator")

    def login_check(self) -> Call:
        return Call("login_check", f"{WEB}/c/s/pc/sync", sign=True)

    def logged_in(self, payload: Any) -> bool:
        return bool(((payload.get("data") or {}).get("user") or {}).get("id"))

    def search(self, keyword: str, page: int = 1) -> Call:
        query = {"word": keyword, "pn": page, "rn": 20, "st": 1, "needbrand": 1, "sug_type": 2,
                 "come_from": "search", **PC}
        return Call("search", f"{WEB}/mo/q/search/multsearch?" + urllib.parse.urlencode(query),
                    ctx={"keyword": keyword}, page=page, sign=True)

    def creator(self, creator_id: str, page: int = 1) -> Call:
        query = {"pn": page, "rn": 20, "portrait": creator_id, "type": 1}
        return Call("creator", f"{WEB}/c/u/feed/myThread?" + urllib.parse.urlencode(query),
                    ctx={"creator": creator_id}, page=page, sign=True)

    def comments(self, post: PostItem, page: int = 1) -> Call:
        form = {"kz": post["post_id"], "pn": str(page), "lz": "0", "r": "2", **PC}
        return Call("comments", f"{WEB}/c/f/pb/page_pc", method="POST", form=form, ctx={"tid": post["post_id"]},
                    page=page, sign=True, post_id=post["post_id"])

    def fault(self, status: int, headers: dict[str, str], text: str, payload: Any) -> Fault | None:
        if status == 403 or "百度安全验证" in text[:3000]:
            return Fault("captcha", "百度安全验证")
        code = first(payload.get("no"), payload.get("error_code")) if isinstance(payload, dict) else None
        if str(code) == "110001":
            return Fault("throttle", "error 110001 (too frequent)")
        return None

    def parse_search(self, payload: dict[str, Any], ctx: dict[str, Any]):
        threads = search_threads(payload)
        yield from (thread_item(t, ctx["keyword"]) for t in threads)
        if threads and (payload.get("data") or {}).get("has_more", 1):
            yield self.search(ctx["keyword"], ctx["page"] + 1)

    def parse_creator(self, payload: dict[str, Any], ctx: dict[str, Any]):
        data = payload.get("data") or {}
        threads = data.get("list") or []
        for thread in threads:
            yield thread_item({**thread, "tid": first(thread.get("tid"), thread.get("thread_id"))}, None)
        if threads and data.get("has_more"):
            yield self.creator(ctx["creator"], ctx["page"] + 1)

    def parse_comments(self, payload: dict[str, Any], ctx: dict[str, Any]):
        tid = ctx["tid"]
        users = {str(u.get("id")): u for u in payload.get("user_list") or []}
        for floor in payload.get("post_list") or []:
            if int(floor.get("floor") or 0) == 1:  # the thread itself
                continue
            yield post_item(
                "tieba",
                f"floor-{floor['id']}",
                f"{WEB}/p/{tid}?pid={floor['id']}#{floor['id']}",
                floor_text(floor.get("content")),
                kind="comment",
                parent_id=tid,
                published_at=iso_from_epoch(floor.get("time")),
                raw=floor,
                **user_fields(users.get(str(floor.get("author_id"))) or {"id": floor.get("author_id")}),
            )
        paging = payload.get("page") or {}
        if int(paging.get("current_page") or 0) < int(paging.get("total_page") or 0):
            yield self.comments({"post_id": tid}, ctx["page"] + 1)  # type: ignore[typeddict-item]


class TiebaSpider(PlatformSpider):
    name = "tieba"
    api_class = Tieba
