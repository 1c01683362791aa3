"""Xiaohongshu (小红书) web APIs on edith.xiaohongshu.com, signed with ``X-s``/``X-t`` by the page signer.

- Login check: GET /api/sns/web/v1/user/selfinfo -> ``data.result.success``.
- Search: POST /api/sns/web/v1/search/notes ``{keyword, page, page_size: 20, search_id, sort, note_type}`` ->
  ``{code, success, msg, data: {has_more, items[]}}``. Items with ``model_type`` other than ``note``
  (``rec_query``, ``hot_query`` slots) are skipped. Search carries no body text, so each note is read
  from POST /api/sns/web/v1/feed ``{source_note_id, xsec_token, ...}`` -> ``data.items[0].note_card``; when
  the feed refuses a note, the HTML page ``/explore/{id}`` is read instead (``window.__INITIAL_STATE__``).
- Creator: GET /api/sns/web/v1/user_posted?num=30&cursor=&user_id= -> ``data.{notes[], cursor, has_more}``.
- Comments: GET /api/sns/web/v2/comment/page?note_id=&cursor=&xsec_token= -> ``data.{comments[], cursor, has_more}``.
- Faults: HTTP 461/471 (``Verifytype`` header) are captchas; ``code 300012`` an IP block; ``code 300013`` (访问频次异常) a rate limit; HTTP 406 with
  ``code -1`` a rejected signature; ``code -100`` an expired login.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from ..items import PostItem
from ..parsing import first, iso_from_epoch, js_object_after, parse_count, parse_fuzzy_time, str_id
from .base import Api, Call, Fault, PlatformSpider, post_item

EDITH = "https://edith.xiaohongshu.com"
WEB = "https://www.xiaohongshu.com"
IMAGE_FORMATS = ["jpg", "webp", "avif"]


def note_url(note_id: str, xsec_token: str | None, source: str = "pc_search") -> str:
    query = urllib.parse.urlencode({"xsec_token": xsec_token, "xsec_source": source}) if xsec_token else ""
    return f"{WEB}/explore/{note_id}" + (f"?{query}" if query else "")


def user_fields(user: dict[str, Any]) -> dict[str, Any]:
    user_id = str_id(user.get("user_id") or user.get("userId"))
    return {"author_id": user_id, "author_name": user.get("nickname") or user.get("nick_name"),
            "author_url": f"{WEB}/user/profile/{user_id}" if user_id else None}


def search_notes(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The note entries of a search page, without ``rec_query``/``hot_query`` slots and ads."""
    items = (payload.get("data") or {}).get("items") or []
    return [i for i in items if i.get("model_type") == "note" and i.get("id") and "#" not in i["id"]]


def summary_time(card: dict[str, Any]) -> str | None:
    """The ``publish_time`` corner tag of a search card ("3天前", "02-10", "2025-02-20")."""
    for tag in card.get("corner_tag_info") or []:
        if tag.get("type") == "publish_time":
            return parse_fuzzy_time(tag.get("text"))
    return None


def note_item(note: dict[str, Any], xsec_token: str | None, keyword: str | None, fallback_time: str | None = None) -> PostItem:
    """A note card from the feed (snake_case) or from the page state (camelCase) as a post."""
    note_id = str(first(note.get("note_id"), note.get("noteId"), note.get("id")))
    title = first(note.get("title"), note.get("display_title")) or ""
    desc = note.get("desc") or ""
    interact = note.get("interact_info") or note.get("interactInfo") or {}
    tags = [t.get("name") for t in note.get("tag_list") or note.get("tagList") or [] if t.get("name")]
    return post_item(
        "xhs",
        note_id,
        note_url(note_id, xsec_token),
        "\n".join(t for t in (title, desc) if t),
        title=title or None,
        published_at=iso_from_epoch(note.get("time")) or fallback_time,
        keyword=keyword,
        raw={"note_id": note_id, "type": note.get("type"), "tags": tags, "ip_location": note.get("ip_location"),
             "counts": {k: parse_count(v) for k, v in interact.items()}},
        **user_fields(note.get("user") or {}),
    )


def parse_note_html(html: str, note_id: str) -> dict[str, Any] | None:
    """The note object of an ``/explore/{id}`` page's ``window.__INITIAL_STATE__`` (``undefined`` tolerated)."""
    state = js_object_after(html, "window.__INITIAL_STATE__")
    if not isinstance(state, dict):
        return None
    detail_map = (state.get("note") or {}).get("noteDetailMap") or {}
    entry = detail_map.get(note_id) or next(iter(detail_map.values()), None)
    return (entry or {}).get("note")


class Xhs(Api):
    platform = "xhs"
    hosts = ("edith.xiaohongshu.com", "www.xiaohongshu.com", "xiaohongshu.com")
    login_cookies = ("web_session", "a1")
    numbered_steps = ("search",)
    browser_page = f"{WEB}/search_result"
    browser_steps = {"/api/sns/web/v1/search/notes": "search"}

    def login_check(self) -> Call:
        return Call("login_check", f"{EDITH}/api/sns/web/v1/user/selfinfo", sign=True)

    def logged_in(self, payload: Any) -> bool:
        return bool(((payload.get("data") or {}).get("result") or {}).get("success"))

    def search(self, keyword: str, page: int = 1, search_id: str = "") -> Call:
        body = {"keyword": keyword, "page": page, "page_size": 20, "search_id": search_id or f"gs{keyword}",
                "sort": "general", "note_type": 0}
        return Call("search", f"{EDITH}/api/sns/web/v1/search/notes", method="POST", json=body,
                    ctx={"keyword": keyword, "search_id": body["search_id"]}, page=page, sign=True)

    def detail(self, note_id: str, xsec_token: str | None, keyword: str | None, summary: dict[str, Any]) -> Call:
        body = {"source_note_id": note_id, "image_formats": IMAGE_FORMATS, "extra": {"need_body_topic": "1"},
                "xsec_source": "pc_search", "xsec_token": xsec_token or ""}
        return Call("detail", f"{EDITH}/api/sns/web/v1/feed", method="POST", json=body, sign=True,
                    ctx={"note_id": note_id, "xsec_token": xsec_token, "keyword": keyword, "summary": summary},
                    post_id=note_id)

    def creator(self, creator_id: str, cursor: str = "", page: int = 1) -> Call:
        query = {"num": 30, "cursor": cursor, "user_id": creator_id, "image_formats": ",".join(IMAGE_FORMATS)}
        return Call("creator", f"{EDITH}/api/sns/web/v1/user_posted?" + urllib.parse.urlencode(query),
                    ctx={"creator": creator_id}, page=page, sign=True)

    def comments(self, post: PostItem, cursor: str = "", page: int = 1) -> Call:
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(post.get("url", "")).query).get("xsec_token", [""])[0]
        query = {"note_id": post["post_id"], "cursor": cursor, "top_comment_id": "",
                 "image_formats": ",".join(IMAGE_FORMATS), "xsec_token": token}
        return Call("comments", f"{EDITH}/api/sns/web/v2/comment/page?" + urllib.parse.urlencode(query),
                    ctx={"note_id": post["post_id"], "url": post.get("url")}, page=page, sign=True,
                    post_id=post["post_id"])

    def unsigned(self, call: Call) -> Call | None:
        """A note's body from its HTML page instead of the signed feed."""
        if call.step != "detail":
            return None
        return Call("detail_html", note_url(call.ctx["note_id"], call.ctx["xsec_token"]),
                    headers={"Accept": "text/html"}, ctx=call.ctx, post_id=call.post_id)

    def decode(self, step: str, text: str) -> Any:
        if step == "detail_html":
            return {"html": text}
        return super().decode(step, text)

    def fault(self, status: int, headers: dict[str, str], text: str, payload: Any) -> Fault | None:
        if status in (461, 471):
            return Fault("captcha", f"HTTP {status} verify type {headers.get('verifytype', '?')}")
        code = payload.get("code") if isinstance(payload, dict) else None
        if code == 300012:
            return Fault("error", "code 300012: this IP is blocked")
        if code in (-100, 300011):
            return Fault("login", f"code {code}: {payload.get('msg')}")
        if status == 406 or (code == -1 and payload.get("success") is False):
            return Fault("signature", f"HTTP {status} code {code}")
        if status == 429 or code == 300013:
            return Fault("throttle", f"HTTP {status} code {code} (访问频次异常)")
        return None

    def parse_search(self, payload: dict[str, Any], ctx: dict[str, Any]):
        for entry in search_notes(payload):
            card = entry.get("note_card") or {}
            summary = {"title": card.get("display_title"), "user": card.get("user") or {},
                       "time_hint": summary_time(card), "interact_info": card.get("interact_info") or {}}
            yield self.detail(entry["id"], entry.get("xsec_token"), ctx["keyword"], summary)
        if (payload.get("data") or {}).get("has_more"):
            yield self.search(ctx["keyword"], ctx["page"] + 1, ctx["search_id"])

    def parse_detail(self, payload: dict[str, Any], ctx: dict[str, Any]):
        items = (payload.get("data") or {}).get("items") or []
        if not payload.get("success", True) or not items:
            # The feed refuses some notes (e.g. code -510001); the HTML page still carries them.
            yield self.unsigned(self.detail(ctx["note_id"], ctx["xsec_token"], ctx["keyword"], ctx["summary"]))
            return
        yield note_item(items[0]["note_card"], ctx["xsec_token"], ctx["keyword"], ctx["summary"].get("time_hint"))

    def parse_detail_html(self, payload: dict[str, Any], ctx: dict[str, Any]):
        note = parse_note_html(payload["html"], ctx["note_id"])
        if note is None:
            raise ValueError("no note in the page's __INITIAL_STATE__")
        yield note_item(note, ctx["xsec_token"], ctx["keyword"], ctx["summary"].get("time_hint"))

    def parse_creator(self, payload: dict[str, Any], ctx: dict[str, Any]):
        data = payload.get("data") or {}
        for note in data.get("notes") or []:
            summary = {"title": note.get("display_title"), "user": note.get("user") or {}}
            yield self.detail(note["note_id"], note.get("xsec_token"), None, summary)
        if data.get("has_more") and data.get("cursor"):
            yield self.creator(ctx["creator"], data["cursor"], ctx["page"] + 1)

    def parse_comments(self, payload: dict[str, Any], ctx: dict[str, Any]):
        data = payload.get("data") or {}
        note_id = ctx["note_id"]
        for comment in data.get("comments") or []:
            yield post_item(
                "xhs",
                f"comment-{comment['id']}",
                f"{WEB}/explore/{note_id}#comment-{comment['id']}",
                comment.get("content") or "",
                kind="comment",
                parent_id=note_id,
                published_at=iso_from_epoch(comment.get("create_time")),
                raw={k: v for k, v in comment.items() if k != "sub_comments"},
                **user_fields(comment.get("user_info") or {}),
            )
        if data.get("has_more") and data.get("cursor"):
            yield self.comments({"post_id": note_id, "url": ctx.get("url") or ""}, data["cursor"], ctx["page"] + 1)  # type: ignore[typeddict-item]


class XhsSpider(PlatformSpider):
    name = "xhs"
    api_class = Xhs
