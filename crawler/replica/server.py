"""A local replica of the platforms' web APIs on 127.0.0.1, serving posts in the real response shapes.

Used by ``grayscan demo`` and by the tests: spiders written against the real endpoints run
unchanged against it through ``--base-url``. Each route answers the way the platform does,
including its envelope, pagination and end marker.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..signing import wbi_sign

CHINA_TZ = timezone(timedelta(hours=8))
#: The replica's WBI keys (the real ones rotate daily; any 32-hex pair works the same way).
WBI_IMG_KEY = "7cd084941338484aae1ad9425b84077c"
WBI_SUB_KEY = "4932caff0ff746eab6f01bf08b70ac45"
PAGE_SIZE = {"weibo": 10, "bilibili": 20}


@dataclass
class Post:
    """An authored post as the replica stores it."""

    platform: str
    id: str
    author_id: str
    author_name: str
    text: str
    published: int
    keywords: list[str] = field(default_factory=list)
    expect: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Post:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def _weibo_time(epoch: int) -> str:
    """Weibo's ``created_at``: ``Wed Oct 19 23:44:36 +0800 2022``."""
    return datetime.fromtimestamp(epoch, CHINA_TZ).strftime("%a %b %d %H:%M:%S %z %Y")


def _mblog(post: Post) -> dict[str, Any]:
    return {
        "id": post.id,
        "mid": post.id,
        "bid": "N" + post.id[-8:],
        "created_at": _weibo_time(post.published),
        "text": post.text.replace("\n", "<br />"),
        "source": "iPhone客户端",
        "region_name": "发布于 广东",
        "isLongText": False,
        "attitudes_count": 12,
        "comments_count": "1.2万",
        "reposts_count": 3,
        "pics": [],
        "user": {
            "id": int(post.author_id),
            "screen_name": post.author_name,
            "profile_url": f"https://m.weibo.cn/u/{post.author_id}?uid={post.author_id}",
            "profile_image_url": "https://tvax1.sinaimg.cn/crop.0.0.180.180.180/default.jpg",
            "gender": "m",
        },
    }


def _bili_result(post: Post, keyword: str) -> dict[str, Any]:
    title, _, description = post.text.partition("|")
    if not description:
        title, description = post.text[:30], post.text
    highlighted = title.replace(keyword, f'<em class="keyword">{keyword}</em>') if keyword else title
    return {
        "type": "video",
        "id": int(post.id),
        "aid": int(post.id),
        "bvid": "BV1" + post.id[-9:],
        "title": highlighted,
        "description": description,
        "author": post.author_name,
        "mid": int(post.author_id),
        "typename": "财经商业",
        "arcurl": f"http://www.bilibili.com/video/av{post.id}",
        "pic": "//i0.hdslb.com/bfs/archive/demo.jpg",
        "play": 1024,
        "video_review": 3,
        "favorites": 20,
        "review": 8,
        "tag": ",".join(post.keywords),
        "pubdate": post.published,
        "senddate": post.published,
        "duration": "3:21",
    }


class Replica:
    """The replica's data and routing, independent of the HTTP server."""

    def __init__(self, posts: Iterable[Post]):
        self.posts = list(posts)
        self.routes: dict[str, Callable[[dict[str, str]], tuple[int, Any]]] = {
            "/api/container/getIndex": self.weibo_search,
            "/api/config": lambda q: (200, {"ok": 1, "data": {"login": False}}),
            "/x/web-interface/nav": self.bilibili_nav,
            "/x/web-interface/wbi/search/type": self.bilibili_search,
        }

    def search(self, platform: str, keyword: str) -> list[Post]:
        """Posts the platform's search would return for ``keyword``, newest first."""
        hits = [p for p in self.posts if p.platform == platform and (keyword in p.keywords or keyword in p.text)]
        return sorted(hits, key=lambda p: -p.published)

    def weibo_search(self, query: dict[str, str]) -> tuple[int, Any]:
        container = urllib.parse.parse_qs(query.get("containerid", "").removeprefix("100103"))
        keyword = (container.get("q") or [""])[0]
        page = int(query.get("page") or 1)
        size = PAGE_SIZE["weibo"]
        posts = self.search("weibo", keyword)[(page - 1) * size : page * size]
        if not posts:
            return 200, {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}
        cards: list[dict[str, Any]] = []
        if page == 1:
            # Real first pages open with non-post cards: a user card group and a hot-topic card.
            cards.append({"card_type": 11, "card_group": [{"card_type": 10, "user": {"id": 1, "screen_name": keyword}}]})
            cards.append({"card_type": 4, "desc": f"#{keyword}# 热门话题"})
        mblogs = [{"card_type": 9, "itemid": f"seqid:{p.id}", "mblog": _mblog(p)} for p in posts]
        # Some posts arrive nested in a card group, as on the real site.
        cards += mblogs[:-2] + [{"card_type": 11, "card_group": mblogs[-2:]}]
        return 200, {"ok": 1, "data": {"cardlistInfo": {"page": page + 1, "page_type": "searchall"}, "cards": cards}}

    def bilibili_nav(self, query: dict[str, str]) -> tuple[int, Any]:
        wbi = {
            "img_url": f"https://i0.hdslb.com/bfs/wbi/{WBI_IMG_KEY}.png",
            "sub_url": f"https://i0.hdslb.com/bfs/wbi/{WBI_SUB_KEY}.png",
        }
        return 200, {"code": -101, "message": "账号未登录", "ttl": 1, "data": {"isLogin": False, "wbi_img": wbi}}

    def bilibili_search(self, query: dict[str, str]) -> tuple[int, Any]:
        unsigned = {k: v for k, v in query.items() if k not in ("w_rid", "wts")}
        expected = wbi_sign(unsigned, WBI_IMG_KEY, WBI_SUB_KEY, wts=int(query.get("wts") or 0))["w_rid"]
        if query.get("w_rid") != expected:
            return 200, {"code": -403, "message": "访问权限不足", "ttl": 1}
        keyword = query.get("keyword", "")
        page = int(query.get("page") or 1)
        size = PAGE_SIZE["bilibili"]
        hits = self.search("bilibili", keyword)
        pages = max(1, -(-len(hits) // size))
        results = [_bili_result(p, keyword) for p in hits[(page - 1) * size : page * size]]
        data = {
            "seid": "1234567890",
            "page": page,
            "pagesize": size,
            "numResults": len(hits),
            "numPages": pages,
            "suggest_keyword": "",
            "rqt_type": "search",
            "result": results,
        }
        return 200, {"code": 0, "message": "0", "ttl": 1, "data": data}


class _Handler(BaseHTTPRequestHandler):
    replica: Replica

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        route = self.replica.routes.get(url.path)
        if route is None:
            status, body = 404, {"error": "not found"}
        else:
            status, body = route(query)
        payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Date", format_datetime(datetime.now(timezone.utc), usegmt=True))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the crawler logs what matters
        pass


class ReplicaServer:
    """Serve a ``Replica`` on 127.0.0.1 in a background thread; use as a context manager."""

    def __init__(self, posts: Iterable[Post], port: int = 0):
        handler = type("Handler", (_Handler,), {"replica": Replica(posts)})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="grayscan-replica", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ReplicaServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
