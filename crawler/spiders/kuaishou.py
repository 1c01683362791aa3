"""Kuaishou web REST APIs (www.kuaishou.com/rest/v/...), signed with ``__NS_hxfalcon`` by the page signer.

- Login check: POST /graphql ``visionProfileUserList`` -> ``data.visionProfileUserList.result == 1``.
- Search: POST /rest/v/search/feed?caver=2 ``{keyword, pcursor, page: "search", searchSessionId}`` ->
  ``{result, pcursor, feeds[], searchSessionId}``; ``pcursor == "no_more"`` ends. ``feeds[].photo`` holds
  ``id, caption, timestamp (ms), likeCount, viewCount``; ``feeds[].author`` holds ``id, name``.
- Creator: POST /rest/v/profile/feed ``{user_id, pcursor, page: "profile"}`` -> ``feeds, pcursor``.
- Comments: POST /rest/v/photo/comment/list ``{photoId, pcursor}`` -> ``rootCommentsV2[], pcursorV2``.
- Faults: ``result 2`` is the rate limit (back off), ``result 50`` a rejected signature, ``result 400002``
  a captcha (``captchaConfig``).
"""

from __future__ import annotations

from typing import Any

from ..items import PostItem
from ..parsing import iso_from_epoch, parse_count, str_id
from .base import Api, Call, Fault, PlatformSpider, post_item

WEB = "https://www.kuaishou.com"
END = "no_more"


def author_fields(author_id: Any, name: str | None) -> dict[str, Any]:
    author_id = str_id(author_id)
    return {"author_id": author_id, "author_name": name,
            "author_url": f"{WEB}/profile/{author_id}" if author_id else None}


def feed_item(feed: dict[str, Any], keyword: str | None = None) -> PostItem | None:
    """A feed entry as a post; None for entries without a photo (live rooms, ads)."""
    photo = feed.get("photo") or {}
    if not photo.get("id"):
        return None
    author = feed.get("author") or {}
    counts = {k: parse_count(photo.get(k)) for k in ("likeCount", "realLikeCount", "viewCount", "commentCount")}
    return post_item(
        "kuaishou",
        photo["id"],
        f"{WEB}/short-video/{photo['id']}",
        photo.get("caption") or photo.get("originCaption") or "",
        published_at=iso_from_epoch(photo.get("timestamp")),
        keyword=keyword,
        raw={**feed, "counts": counts},
        **author_fields(author.get("id"), author.get("name")),
    )


class Kuaishou(Api):
    platform = "kuaishou"
    hosts = ("www.kuaishou.com", "kuaishou.com")
    login_cookies = ("passToken", "userId")
    browser_page = f"{WEB}/search/video"
    browser_steps = {"/rest/v/search/feed": "search"}

    def login_check(self) -> Call:
        query = {"operationName": "visionProfileUserList", "variables": {"ftype": 1},
                 "query": "query visionProfileUserList($pcursor: String, $ftype: Int) "
                          "{ visionProfileUserList(pcursor: $pcursor, ftype: $ftype) { result } }"}
        return Call("login_check", f"{WEB}/graphql", method="POST", json=query)

    def logged_in(self, payload: Any) -> bool:
        return ((payload.get("data") or {}).get("visionProfileUserList") or {}).get("result") == 1

    def feed_call(self, step: str, path: str, body: dict[str, Any], ctx: dict[str, Any], page: int, **kw: Any) -> Call:
        return Call(step, f"{WEB}{path}", method="POST", json=body, ctx=ctx, page=page, sign=True,
                    headers={"Referer": f"{WEB}/search/video"}, **kw)

    def search(self, keyword: str, pcursor: str = "", session: str = "", page: int = 1) -> Call:
        body = {"keyword": keyword, "pcursor": pcursor, "page": "search", "searchSessionId": session}
        return self.feed_call("search", "/rest/v/search/feed?caver=2", body, {"keyword": keyword}, page)

    def creator(self, creator_id: str, pcursor: str = "", page: int = 1) -> Call:
        body = {"user_id": creator_id, "pcursor": pcursor, "page": "profile"}
        return self.feed_call("creator", "/rest/v/profile/feed", body, {"creator": creator_id}, page)

    def comments(self, post: PostItem, pcursor: str = "", page: int = 1) -> Call:
        body = {"photoId": post["post_id"], "pcursor": pcursor}
        return self.feed_call("comments", "/rest/v/photo/comment/list", body, {"photo_id": post["post_id"]},
                              page, post_id=post["post_id"])

    def fault(self, status: int, headers: dict[str, str], text: str, payload: Any) -> Fault | None:
        result = payload.get("result") if isinstance(payload, dict) else None
        if result == 2:
            return Fault("throttle", "result 2 (too frequent)")
        if result == 400002:
            return Fault("captcha", "result 400002 (verification required)")
        if result == 50:
            return Fault("signature", "result 50 (签名验证失败)")
        return None

    def feeds(self, payload: dict[str, Any], keyword: str | None):
        for feed in payload.get("feeds") or []:
            item = feed_item(feed, keyword)
            if item:
                yield item

    def parse_search(self, payload: dict[str, Any], ctx: dict[str, Any]):
        yield from self.feeds(payload, ctx["keyword"])
        pcursor = payload.get("pcursor")
        if pcursor and pcursor != END and payload.get("feeds"):
            yield self.search(ctx["keyword"], pcursor, payload.get("searchSessionId") or "", ctx["page"] + 1)

    def parse_creator(self, payload: dict[str, Any], ctx: dict[str, Any]):
        yield from self.feeds(payload, None)
        pcursor = payload.get("pcursor")
        if pcursor and pcursor != END and payload.get("feeds"):
            yield self.creator(ctx["creator"], pcursor, ctx["page"] + 1)

    def parse_comments(self, payload: dict[str, Any], ctx: dict[str, Any]):
        photo_id = ctx["photo_id"]
        for comment in payload.get("rootCommentsV2") or payload.get("rootComments") or []:
            comment_id = str(comment.get("comment_id") or comment.get("commentId"))
            yield post_item(
                "kuaishou",
                f"comment-{comment_id}",
                f"{WEB}/short-video/{photo_id}#comment-{comment_id}",
                comment.get("content") or "",
                kind="comment",
                parent_id=photo_id,
                published_at=iso_from_epoch(comment.get("timestamp")),
                raw=comment,
                **author_fields(comment.get("author_id") or comment.get("authorId"),
                                comment.get("author_name") or comment.get("authorName")),
            )
        pcursor = payload.get("pcursorV2") or payload.get("pcursor")
        if pcursor and pcursor != END:
            yield self.comments({"post_id": photo_id}, pcursor, ctx["page"] + 1)  # type: ignore[typeddict-item]


class KuaishouSpider(PlatformSpider):
    name = "kuaishou"
    api_class = Kuaishou
