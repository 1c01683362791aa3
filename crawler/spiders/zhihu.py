"""Zhihu web APIs (www.zhihu.com/api/v4), signed with ``x-zse-96`` by the page signer.

- Login check: GET /api/v4/me -> 200 with ``id`` when logged in, 401 otherwise.
- Search: GET /api/v4/search_v3?t=general&q=&correction=1&offset=&limit=20 -> ``{data[], paging.{is_end,next}}``;
  results are ``data[]`` entries of ``type == "search_result"`` whose ``object`` is an answer, article or zvideo;
  other entries (``relevant_query``, ads, "one box" cards) are skipped. Text is HTML with ``<em>`` highlights.
  When an object carries only an ``excerpt``, its page is read for the full text (``<script id="js-initialData">``
  -> ``initialState.entities.{answers,articles}``).
- Creator: GET /api/v4/members/{url_token}/answers?offset=&limit=20&order_by=created -> ``data[], paging``.
- Comments: GET /api/v4/comment_v5/{answers|articles}/{id}/root_comment?order_by=score&limit=20&offset= ->
  ``data[], paging.{is_end,next}``.
- Faults: HTTP 403 is the rate limit (a 403 pointing at the ``unhuman`` page is a captcha); 401 a missing login.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from ..items import PostItem
from ..parsing import first, html_text, iso_from_epoch, str_id
from .base import Api, Call, Fault, PlatformSpider, post_item

WEB = "https://www.zhihu.com"
KINDS = {"answer": "answers", "article": "articles", "zvideo": "zvideos"}


def object_url(obj: dict[str, Any]) -> str:
    if obj.get("type") == "article":
        return f"https://zhuanlan.zhihu.com/p/{obj['id']}"
    if obj.get("type") == "zvideo":
        return f"{WEB}/zvideo/{obj['id']}"
    question = obj.get("question") or {}
    return f"{WEB}/question/{question.get('id')}/answer/{obj['id']}"


def author_fields(author: dict[str, Any]) -> dict[str, Any]:
    author = author.get("member") or author
    token = author.get("url_token")
    return {"author_id": str_id(author.get("id")) or token, "author_name": author.get("name"),
            "author_url": f"{WEB}/people/{token}" if token else None}


def object_item(obj: dict[str, Any], keyword: str | None) -> PostItem:
    title = html_text(first(obj.get("title"), (obj.get("question") or {}).get("name")))
    body = html_text(first(obj.get("content"), obj.get("excerpt"), obj.get("description")))
    return post_item(
        "zhihu",
        f"{obj.get('type', 'answer')}-{obj['id']}",
        object_url(obj),
        "\n".join(t for t in (title, body) if t),
        title=title or None,
        published_at=iso_from_epoch(first(obj.get("created_time"), obj.get("created"))),
        keyword=keyword,
        raw={k: v for k, v in obj.items() if k != "content"},
        **author_fields(obj.get("author") or {}),
    )


def search_objects(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Answer/article/zvideo objects of a search page; other entry types are skipped."""
    return [
        entry["object"] for entry in payload.get("data") or []
        if entry.get("type") in ("search_result", "zvideo") and (entry.get("object") or {}).get("type") in KINDS
    ]


def next_offset(paging: dict[str, Any], default: int) -> int:
    """The ``offset`` of ``paging.next`` (Zhihu's own page size), else ``default``."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(paging.get("next") or "").query)
    return int((query.get("offset") or [default])[0])


def parse_initial_data(html: str) -> dict[str, Any] | None:
    """``initialState.entities`` of a page's ``<script id="js-initialData">``, or None."""
    marker = '<script id="js-initialData" type="text/json">'
    start = html.find(marker)
    if start < 0:
        return None
    end = html.find("</script>", start)
    try:
        data = json.loads(html[start + len(marker) : end])
    except ValueError:
        return None
    return (data.get("initialState") or {}).get("entities")


class Zhihu(Api):
    platform = "zhihu"
    hosts = ("www.zhihu.com", "zhuanlan.zhihu.com", "zhihu.com")
    login_cookies = ("z_c0", "d_c0")
    browser_page = f"{WEB}/search"
    browser_steps = {"/api/v4/search_v3": "search"}

    def login_check(self) -> Call:
        return Call("login_check", f"{WEB}/api/v4/me")

    def logged_in(self, payload: Any) -> bool:
        return bool(payload.get("id"))

    def search(self, keyword: str, offset: int = 0, page: int = 1) -> Call:
        query = {"gk_version": "gz-gaokao", "t": "general", "q": keyword, "correction": 1, "offset": offset,
                 "limit": 20, "lc_idx": offset, "show_all_topics": 0, "search_source": "Normal"}
        return Call("search", f"{WEB}/api/v4/search_v3?" + urllib.parse.urlencode(query), ctx={"keyword": keyword},
                    page=page, sign=True, headers={"Referer": f"{WEB}/search?type=content&q={urllib.parse.quote(keyword)}"})

    def creator(self, creator_id: str, offset: int = 0, page: int = 1) -> Call:
        query = {"offset": offset, "limit": 20, "order_by": "created"}
        return Call("creator", f"{WEB}/api/v4/members/{creator_id}/answers?" + urllib.parse.urlencode(query),
                    ctx={"creator": creator_id}, page=page, sign=True)

    def comments(self, post: PostItem, offset: str = "", page: int = 1) -> Call | None:
        kind, _, object_id = post["post_id"].partition("-")
        if kind not in ("answer", "article"):
            return None
        query = {"order_by": "score", "limit": 20, "offset": offset}
        url = f"{WEB}/api/v4/comment_v5/{KINDS[kind]}/{object_id}/root_comment?" + urllib.parse.urlencode(query)
        return Call("comments", url, ctx={"post_id": post["post_id"], "url": post.get("url")}, page=page,
                    sign=True, post_id=post["post_id"])

    def decode(self, step: str, text: str) -> Any:
        if step == "detail":
            entities = parse_initial_data(text)
            if entities is None:
                raise ValueError('no <script id="js-initialData"> in the page')
            return entities
        return super().decode(step, text)

    def fault(self, status: int, headers: dict[str, str], text: str, payload: Any) -> Fault | None:
        if status == 403:
            redirect = str(((payload or {}).get("error") or {}).get("redirect", "")) if isinstance(payload, dict) else ""
            if "unhuman" in redirect:
                return Fault("captcha", "403 unhuman verification")
            return Fault("throttle", "HTTP 403")
        if status == 401:
            return Fault("login", "HTTP 401 (not logged in)")
        return None

    def objects(self, objects: list[dict[str, Any]], keyword: str | None):
        for obj in objects:
            item = object_item(obj, keyword)
            if obj.get("content") or obj.get("type") == "zvideo":
                yield item
            else:  # only an excerpt: the page has the full text
                yield Call("detail", item["url"], headers={"Accept": "text/html"}, ctx={"item": item},
                           post_id=item["post_id"])

    def parse_search(self, payload: dict[str, Any], ctx: dict[str, Any]):
        yield from self.objects(search_objects(payload), ctx["keyword"])
        paging = payload.get("paging") or {}
        if not paging.get("is_end", True):
            yield self.search(ctx["keyword"], next_offset(paging, ctx["page"] * 20), ctx["page"] + 1)

    def parse_creator(self, payload: dict[str, Any], ctx: dict[str, Any]):
        yield from self.objects([{"type": "answer", **o} for o in payload.get("data") or []], None)
        paging = payload.get("paging") or {}
        if not paging.get("is_end", True):
            yield self.creator(ctx["creator"], next_offset(paging, ctx["page"] * 20), ctx["page"] + 1)

    def parse_detail(self, entities: dict[str, Any], ctx: dict[str, Any]):
        item = dict(ctx["item"])
        kind, _, object_id = item["post_id"].partition("-")
        obj = (entities.get(KINDS.get(kind, "answers")) or {}).get(object_id) or {}
        if not obj.get("content"):
            raise ValueError(f"{kind} {object_id} missing from the page's entities")
        item["text"] = "\n".join(t for t in (item.get("title"), html_text(obj["content"])) if t)
        yield item

    def parse_comments(self, payload: dict[str, Any], ctx: dict[str, Any]):
        post_id = ctx["post_id"]
        for comment in payload.get("data") or []:
            yield post_item(
                "zhihu",
                f"comment-{comment['id']}",
                f"{ctx.get('url')}#comment-{comment['id']}",
                html_text(comment.get("content")),
                kind="comment",
                parent_id=post_id,
                published_at=iso_from_epoch(comment.get("created_time")),
                raw=comment,
                **author_fields(comment.get("author") or {}),
            )
        paging = payload.get("paging") or {}
        if not paging.get("is_end", True) and paging.get("next"):
            offset = str(next_offset(paging, 0))
            yield self.comments({"post_id": post_id, "url": ctx.get("url")}, offset, ctx["page"] + 1)  # type: ignore[typeddict-item]


class ZhihuSpider(PlatformSpider):
    name = "zhihu"
    api_class = Zhihu
