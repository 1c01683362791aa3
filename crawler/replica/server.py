"""A local replica of the seven platforms' web APIs on 127.0.0.1, serving posts in the real response shapes.

Used by ``grayscan demo``, the tests and the benchmark: spiders written against the real endpoints run
unchanged against it through ``--base-url``. Each route answers the way the platform does: envelope,
pagination and end marker, login check, request signatures (checked), and — for keywords listed in
``faults`` — the platform's rate-limit, captcha or malformed answers.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..signing import tieba_sign, wbi_sign
from . import shapes

#: The replica's WBI keys (the real ones rotate daily; any 32-hex pair works the same way).
WBI_IMG_KEY = "7cd084941338484aae1ad9425b84077c"
WBI_SUB_KEY = "4932caff0ff746eab6f01bf08b70ac45"
PAGE_SIZE = {"weibo": 10, "bilibili": 20, "douyin": 4, "kuaishou": 4, "xhs": 4, "tieba": 4, "zhihu": 4}
COMMENT_PAGE_SIZE = 2
#: The login cookie each platform's replica accepts; any other value is an expired login.
LOGIN_COOKIES = {
    "weibo": ("SUB", "valid-weibo-session"), "bilibili": ("SESSDATA", "valid-bili-session"),
    "douyin": ("sessionid", "valid-douyin-session"), "kuaishou": ("passToken", "valid-ks-session"),
    "xhs": ("web_session", "valid-xhs-session"), "tieba": ("BDUSS", "valid-tieba-session"),
    "zhihu": ("z_c0", "valid-zhihu-session"),
}  # fmt: skip
FAULT_KINDS = ("throttle", "captcha", "malformed")


@dataclass
class Post:
    """An authored post as the replica stores it; ``comments`` are dicts with id, author_id, author_name,
    text, published. ``long`` posts are cut in listings and complete only on their detail page."""

    platform: str
    id: str
    author_id: str
    author_name: str
    text: str
    published: int
    keywords: list[str] = field(default_factory=list)
    expect: str | None = None
    comments: list[dict[str, Any]] = field(default_factory=list)
    long: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Post:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


#: First post id of each platform in ``sample_posts`` (each platform's id form).
SAMPLE_IDS = {"weibo": 5000000000000100, "bilibili": 100000100, "douyin": 7300000000000000100,
              "kuaishou": 3000000100, "xhs": 650000000000000000000100, "tieba": 9000000100, "zhihu": 3000000100}
SAMPLE_TEXTS = ("征信修复找我们，专业团队，加V: zx_fix2024 详聊，包上岸", "停息挂账 协商还款 法务团队一对一，私信我",
                "今天去银行咨询了征信的问题，工作人员说按时还款就好", "信用卡逾期了该怎么办？官方渠道协商最靠谱，别信中介")


def sample_posts(per_platform: int, keyword: str) -> list[Post]:
    """``per_platform`` posts on every platform matching ``keyword`` (every 9th long, the first two with three
    comments each): enough listing pages to see what flaky answers cost a crawl."""
    posts = []
    for platform, first_id in SAMPLE_IDS.items():
        for i in range(per_platform):
            post_id = str(first_id + i)
            comments = [{"id": f"{post_id}{c}", "author_id": str(800 + c), "author_name": f"路人{c}",
                         "text": ("有用吗？", "私信我，征信修复包过", "别信，都是骗子")[c], "published": 1735000100 + c}
                        for c in range(3 if i < 2 else 0)]
            posts.append(Post(platform, post_id, str(700 + i % 3), f"{platform}用户{i % 3}", f"{SAMPLE_TEXTS[i % 4]} 第{i}条",
                              1735000000 - 60 * i, [keyword], comments=comments, long=i % 9 == 4))
    return posts


def page_signature(path: str, body: str) -> str:
    """The replica platforms' stand-in signature: FNV-1a (32 bit) of path+body, as their page JS computes it."""
    value = 0x811C9DC5
    for byte in (path + body).encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


#: The page JS the replica serves for each page-signed platform: its signer (with the same globals as the
#: real pages, unless ``page_signers`` is off: then the page signs its own calls but exposes no function)
#: and a search page whose JS makes the signed API calls itself (Enter in the search box, scroll for more).
FNV_JS = """
function __fnv(s){let h=0x811c9dc5;for(const b of new TextEncoder().encode(s)){h=Math.imul(h^b,0x01000193)>>>0;}
return h.toString(16).padStart(8,'0');}
"""
SIGNER_GLOBALS_JS = """
window._webmsxyw=(path,data)=>({'X-s':'XYW_'+__fnv(path+(data===undefined?'':JSON.stringify(data))),'X-t':String(Date.now())});
window.__ks_realm={call:(name,a)=>__fnv(a.url+(a.body||''))};
window.bdms={sign:(query,body)=>__fnv(query+body)};
window.__zse_sign=(path)=>'2.0_'+__fnv(path);
"""
SEARCH_PAGE_JS = """
const post = (url, body, headers) => ({url, init: {method: 'POST', body,
  headers: {'Content-Type': 'application/json;charset=UTF-8', ...headers}}});
const get = (url, headers) => ({url, init: {method: 'GET', headers}});
const SEARCHES = {
  kuaishou: {
    request: (kw, cursor) => {
      const path = '/rest/v/search/feed?caver=2';
      const body = JSON.stringify({keyword: kw, pcursor: cursor || '', page: 'search', searchSessionId: ''});
      return post(path + '&__NS_hxfalcon=' + __fnv(path + body), body, {});
    },
    ok: d => d.result === 1, next: d => d.pcursor && d.pcursor !== 'no_more' ? d.pcursor : null,
    titles: d => (d.feeds || []).map(f => (f.photo || {}).caption)},
  xhs: {
    request: (kw, cursor) => {
      const path = '/api/sns/web/v1/search/notes';
      const body = JSON.stringify({keyword: kw, page: cursor || 1, page_size: 20, search_id: 'gs' + kw,
                                   sort: 'general', note_type: 0});
      return post(path, body, {'X-s': 'XYW_' + __fnv(path + body), 'X-t': String(Date.now())});
    },
    ok: d => d.success === true, next: (d, cursor) => d.data.has_more ? (cursor || 1) + 1 : null,
    titles: d => (d.data.items || []).map(i => (i.note_card || {}).display_title)},
  douyin: {
    request: (kw, cursor) => get('/aweme/v1/web/general/search/single/?' + new URLSearchParams({
      device_platform: 'webapp', aid: '6383', keyword: kw, offset: cursor || 0, count: 15,
      search_channel: 'aweme_general', search_id: ''})),
    ok: d => d.status_code === 0, next: d => d.has_more ? d.cursor : null,
    titles: d => (d.data || []).map(c => (c.aweme_info || {}).desc)},
  zhihu: {
    request: (kw, cursor) => {
      const path = '/api/v4/search_v3?' + new URLSearchParams({t: 'general', q: kw, correction: 1,
        offset: cursor || 0, limit: 20, lc_idx: cursor || 0, show_all_topics: 0, search_source: 'Normal'});
      return get(path, {'x-zse-93': '101_3_3.0', 'x-zse-96': '2.0_' + __fnv(path)});
    },
    ok: d => Array.isArray(d.data),
    next: d => d.paging && !d.paging.is_end ? Number(new URL(d.paging.next).searchParams.get('offset')) : null,
    titles: d => d.data.map(e => (e.object || {}).excerpt)},
};
const search = SEARCHES[document.body.dataset.platform];
let state = null;
function ask() {
  if (!search || !state || state.loading || state.done) return;
  state.loading = true;
  const request = search.request(state.kw, state.cursor);
  fetch(request.url, {...request.init, credentials: 'include'})
    .then(r => r.json()).then(d => {
      if (!search.ok(d)) return;  // rate-limited or refused: the next scroll asks again
      for (const title of search.titles(d)) {
        const card = document.createElement('div'); card.className = 'card'; card.textContent = title || '';
        document.getElementById('results').appendChild(card);
      }
      state.cursor = search.next(d, state.cursor);
      state.done = state.cursor === null;
    }).catch(() => {}).finally(() => { state.loading = false; });
}
document.getElementById('q').addEventListener('keydown', e => {
  if (e.key !== 'Enter') return;
  document.getElementById('results').textContent = '';
  state = {kw: e.target.value, cursor: null, loading: false, done: false};
  ask();
});
const nearEnd = () => window.innerHeight + window.scrollY >= document.body.scrollHeight - 50;
window.addEventListener('wheel', () => { if (nearEnd()) ask(); });
window.addEventListener('scroll', () => { if (nearEnd()) ask(); });
"""


def platform_page(platform: str, page_signers: bool) -> str:
    """A page-signed platform's page: its signer and its search UI."""
    script = FNV_JS + (SIGNER_GLOBALS_JS if page_signers else "") + SEARCH_PAGE_JS
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>.card{{height:300px}}</style></head>"
            f"<body data-platform='{platform}'><input id='q' type='search' placeholder='搜索'><div id='results'></div>"
            f"<script>(() => {{{script}}})();</script></body></html>")


SIGNER_PAGES = {"/explore": "xhs", "/search_result": "xhs", "/search/video": "kuaishou", "/": "douyin",
                "/search": "zhihu"}


#: Each platform's rate-limit answer (served for ``throttle`` faults and every ``throttle_every``-th request).
THROTTLED: dict[str, Callable[[], Answer]] = {
    "weibo": lambda: html("<html><body>请求过于频繁</body></html>", status=432),
    "bilibili": lambda: Answer(200, {"code": -412, "message": "请求被拦截", "ttl": 1}),
    "douyin": lambda: Answer(200, b""),
    "kuaishou": lambda: Answer(200, {"result": 2, "error_msg": "请求太快了"}),
    "xhs": lambda: Answer(200, {"code": 300013, "success": False, "msg": "访问频次异常，请勿频繁操作或重启试试"}),
    "tieba": lambda: Answer(200, {"no": 110001, "error": "操作过于频繁", "data": {}}),
    "zhihu": lambda: Answer(403, {"error": {"code": 40362, "message": "您当前请求存在异常，暂时限制本次访问"}}),
}


class Replica:
    """The replica's data and routing, independent of the HTTP server."""

    def __init__(self, posts: Iterable[Post], faults: dict[str, str] | None = None, *, truncate_every: int = 0,
                 throttle_every: int = 0, drop_every: int = 0, page_signers: bool = True):
        self.posts = list(posts)
        self.faults = dict(faults or {})  # keyword -> throttle | captcha | malformed | throttle:N | broken:PAGE
        self.fault_hits: Counter[str] = Counter()
        # Faults of a flaky network, counted per platform over its API answers (so every platform meets
        # them, however crawls interleave): every Nth is the platform's rate-limit answer, every Mth is cut
        # in half (a truncated body), every Kth connection drops halfway through the body. 0 switches one off.
        self.truncate_every = truncate_every
        self.throttle_every = throttle_every
        self.drop_every = drop_every
        self.answered = 0
        self.answered_by_platform: Counter[str] = Counter()
        self._counting = threading.Lock()
        self.healed = False  # set True to make "broken" pages answer again
        self.page_signers = page_signers  # False: the pages no longer expose their signing functions
        self.requests: Counter[str] = Counter()  # path -> count, for tests
        self.served: list[tuple[float, str]] = []  # (time.monotonic(), path) of every request, for rate tests
        self.exact: dict[str, Callable[[Request], Answer]] = {
            "/api/config": self.weibo_config,
            "/api/container/getIndex": self.weibo_index,
            "/comments/hotflow": self.weibo_comments,
            "/x/web-interface/nav": self.bili_nav,
            "/x/web-interface/wbi/search/type": self.bili_search,
            "/x/space/wbi/arc/search": self.bili_space,
            "/x/v2/reply/wbi/main": self.bili_replies,
            "/aweme/v1/web/user/profile/self/": self.douyin_self,
            "/aweme/v1/web/general/search/single/": self.douyin_search,
            "/aweme/v1/web/aweme/post/": self.douyin_posts,
            "/aweme/v1/web/comment/list/": self.douyin_comments,
            "/graphql": self.kuaishou_graphql,
            "/rest/v/search/feed": self.kuaishou_search,
            "/rest/v/profile/feed": self.kuaishou_profile,
            "/rest/v/photo/comment/list": self.kuaishou_comments,
            "/api/sns/web/v1/user/selfinfo": self.xhs_selfinfo,
            "/api/sns/web/v1/search/notes": self.xhs_search,
            "/api/sns/web/v1/feed": self.xhs_feed,
            "/api/sns/web/v1/user_posted": self.xhs_user_posted,
            "/api/sns/web/v2/comment/page": self.xhs_comments,
            "/c/s/pc/sync": self.tieba_sync,
            "/mo/q/search/multsearch": self.tieba_search,
            "/c/u/feed/myThread": self.tieba_my_threads,
            "/c/f/pb/page_pc": self.tieba_floors,
            "/api/v4/me": self.zhihu_me,
            "/api/v4/search_v3": self.zhihu_search,
        }
        self.patterns: list[tuple[re.Pattern[str], Callable[..., Answer]]] = [
            (re.compile(r"/detail/(\d+)"), self.weibo_detail),
            (re.compile(r"/explore/(\w+)"), self.xhs_note_page),
            (re.compile(r"/api/v4/members/([\w-]+)/answers"), self.zhihu_member_answers),
            (re.compile(r"/api/v4/comment_v5/answers/(\w+)/root_comment"), self.zhihu_comments),
            (re.compile(r"/question/\w+/answer/(\w+)"), self.zhihu_answer_page),
            (re.compile(r"/evidence/(\w+)/(\w+)"), self.evidence_page),
        ]

    # -- plumbing ---------------------------------------------------------------------------
    def answer(self, request: Request) -> Answer:
        self.requests[request.path] += 1
        self.served.append((time.monotonic(), request.path))
        if request.path in SIGNER_PAGES:
            return html(platform_page(SIGNER_PAGES[request.path], self.page_signers))
        route, args = self.route(request.path)
        if route is None:
            return Answer(404, {"error": "not found"})
        platform = route.__name__.split("_")[0].replace("bili", "bilibili")
        with self._counting:
            self.answered += 1
            self.answered_by_platform[platform] += 1
            count = self.answered_by_platform[platform]
        if platform in THROTTLED and self.throttle_every and count % self.throttle_every == 0:
            return THROTTLED[platform]()
        try:
            answer = route(request, *args)
        except Outage:
            return Answer(503, b"<html><body>503 Service Temporarily Unavailable</body></html>", "text/html")
        if platform in THROTTLED and self.truncate_every and count % self.truncate_every == 0:
            payload = answer.payload()
            return Answer(answer.status, payload[: len(payload) // 2], answer.content_type, answer.headers)
        answer.dropped = bool(platform in THROTTLED and self.drop_every and count % self.drop_every == 0)
        return answer

    def route(self, path: str) -> tuple[Callable[..., Answer] | None, tuple[str, ...]]:
        """The route answering ``path`` and the values it takes from the path."""
        if path in self.exact:
            return self.exact[path], ()
        for pattern, route in self.patterns:
            match = pattern.fullmatch(path)
            if match:
                return route, match.groups()
        return None, ()

    def search(self, platform: str, keyword: str) -> list[Post]:
        """Posts the platform's search would return for ``keyword``, newest first."""
        hits = [p for p in self.posts if p.platform == platform and (keyword in p.keywords or keyword in p.text)]
        return sorted(hits, key=lambda p: -p.published)

    def by_author(self, platform: str, author_id: str) -> list[Post]:
        return sorted((p for p in self.posts if p.platform == platform and p.author_id == author_id),
                      key=lambda p: -p.published)

    def post(self, platform: str, post_id: str) -> Post | None:
        return next((p for p in self.posts if p.platform == platform and p.id == post_id), None)

    def fault(self, keyword: str, page: int, route: str = "") -> str | None:
        """The fault to answer for this keyword and page: throttle the first N (default 2) times per
        route, captcha always, malformed on page 2; ``broken:P`` answers page P with HTTP 503 (raises
        ``Outage``) until the replica is ``healed``."""
        kind, _, count = self.faults.get(keyword, "").partition(":")
        if kind == "broken" and page == int(count) and not self.healed:
            raise Outage(f"{route} page {page}")
        if kind == "throttle":
            self.fault_hits[route + keyword] += 1
            return "throttle" if self.fault_hits[route + keyword] <= int(count or 2) else None
        if kind == "malformed":
            return "malformed" if page == 2 else None
        return kind or None

    def logged_in(self, request: Request, platform: str) -> bool:
        name, value = LOGIN_COOKIES[platform]
        return request.cookies.get(name) == value

    # -- Weibo -----------------------------------------------------------------------------
    def weibo_config(self, request: Request) -> Answer:
        return Answer(200, {"ok": 1, "data": {"login": self.logged_in(request, "weibo"), "st": "abc123"}})

    def weibo_index(self, request: Request) -> Answer:
        container = request.query.get("containerid", "")
        if container.startswith("107603"):
            return self.weibo_profile(request, container.removeprefix("107603"))
        params = urllib.parse.parse_qs(container.removeprefix("100103"))
        keyword = (params.get("q") or [""])[0]
        page = int(request.query.get("page") or 1)
        fault = self.fault(keyword, page, request.path)
        if fault == "throttle":
            return THROTTLED["weibo"]()
        if fault == "captcha":
            return html("<html><body><a href='https://security.weibo.com/captcha'>验证</a></body></html>")
        if fault == "malformed":
            return Answer(200, b'{"ok":1,"data":{"cards":[{"card_type":9,"mblog":{"id":')
        size = PAGE_SIZE["weibo"]
        posts = self.search("weibo", keyword)[(page - 1) * size : page * size]
        if not posts:
            return Answer(200, {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}})
        cards: list[dict[str, Any]] = []
        if page == 1:
            # Real first pages open with non-post cards: a user card group and a hot-topic card.
            cards.append({"card_type": 11, "card_group": [{"card_type": 10, "user": {"id": 1, "screen_name": keyword}}]})
            cards.append({"card_type": 4, "desc": f"#{keyword}# 热门话题"})
        mblogs = [{"card_type": 9, "itemid": f"seqid:{p.id}", "mblog": shapes.weibo_mblog(p)} for p in posts]
        # Some posts arrive nested in a card group, as on the real site.
        cards += mblogs[:-2] + [{"card_type": 11, "card_group": mblogs[-2:]}]
        return Answer(200, {"ok": 1, "data": {"cardlistInfo": {"page": page + 1, "page_type": "searchall"}, "cards": cards}})

    def weibo_profile(self, request: Request, uid: str) -> Answer:
        posts = self.by_author("weibo", uid)
        start = int(request.query.get("since_id") or 0)
        size = PAGE_SIZE["weibo"]
        chunk = posts[start : start + size]
        cards = [{"card_type": 9, "mblog": shapes.weibo_mblog(p)} for p in chunk]
        more = start + size < len(posts)
        info = {"containerid": f"107603{uid}", "total": len(posts), **({"since_id": start + size} if more else {})}
        return Answer(200, {"ok": 1 if chunk else 0, "data": {"cardlistInfo": info, "cards": cards}})

    def weibo_detail(self, request: Request, post_id: str) -> Answer:
        post = self.post("weibo", post_id)
        if post is None:
            return html("<html><body>微博不存在</body></html>", status=404)
        status = {**shapes.weibo_mblog(post), "text": post.text.replace("\n", "<br />"), "isLongText": False}
        data = json.dumps([{"status": status, "call": 1}], ensure_ascii=False).replace("</", "<\\/")
        return html(f"<html><body><script>var $render_data = {data}[0] || {{}};\nvar __wb_config = {{}};</script></body></html>")

    def weibo_comments(self, request: Request) -> Answer:
        post = self.post("weibo", request.query.get("id", ""))
        start = int(request.query.get("max_id") or 0)
        comments = (post.comments if post else [])[start : start + COMMENT_PAGE_SIZE]
        if not comments:
            return Answer(200, {"ok": 0, "msg": "快来发表你的评论吧"})
        end = start + COMMENT_PAGE_SIZE
        max_id = end if post and end < len(post.comments) else 0
        data = {"data": [shapes.weibo_comment(c) for c in comments], "total_number": len(post.comments),
                "max_id": max_id, "max_id_type": 0}
        return Answer(200, {"ok": 1, "data": data})

    # -- Bilibili --------------------------------------------------------------------------
    def bili_nav(self, request: Request) -> Answer:
        wbi = {"img_url": f"https://i0.hdslb.com/bfs/wbi/{WBI_IMG_KEY}.png",
               "sub_url": f"https://i0.hdslb.com/bfs/wbi/{WBI_SUB_KEY}.png"}
        if self.logged_in(request, "bilibili"):
            return Answer(200, {"code": 0, "message": "0", "ttl": 1, "data": {"isLogin": True, "mid": 1, "wbi_img": wbi}})
        return Answer(200, {"code": -101, "message": "账号未登录", "ttl": 1, "data": {"isLogin": False, "wbi_img": wbi}})

    def bili_checked(self, request: Request) -> Answer | None:
        """The -403 answer when ``w_rid`` does not match the query, else None."""
        unsigned = {k: v for k, v in request.query.items() if k not in ("w_rid", "wts")}
        expected = wbi_sign(unsigned, WBI_IMG_KEY, WBI_SUB_KEY, wts=int(request.query.get("wts") or 0))["w_rid"]
        if request.query.get("w_rid") != expected:
            return Answer(200, {"code": -403, "message": "访问权限不足", "ttl": 1})
        return None

    def bili_search(self, request: Request) -> Answer:
        keyword = request.query.get("keyword", "")
        page = int(request.query.get("page") or 1)
        fault = self.fault(keyword, page, request.path)
        if fault == "throttle":
            return THROTTLED["bilibili"]()
        if fault == "captcha":
            return Answer(200, {"code": -352, "message": "风控校验失败", "ttl": 1, "data": {"v_voucher": "voucher_1"}})
        if fault == "malformed":
            return Answer(200, b'{"code":0,"data":{"result":[{"type":"video",')
        refused = self.bili_checked(request)
        if refused:
            return refused
        size = PAGE_SIZE["bilibili"]
        hits = self.search("bilibili", keyword)
        pages = max(1, -(-len(hits) // size))
        results = [shapes.bili_video(p, keyword) for p in hits[(page - 1) * size : page * size]]
        data = {"seid": "1234567890", "page": page, "pagesize": size, "numResults": len(hits), "numPages": pages,
                "suggest_keyword": "", "rqt_type": "search", "result": results}
        return Answer(200, {"code": 0, "message": "0", "ttl": 1, "data": data})

    def bili_space(self, request: Request) -> Answer:
        refused = self.bili_checked(request)
        if refused:
            return refused
        posts = self.by_author("bilibili", request.query.get("mid", ""))
        page, size = int(request.query.get("pn") or 1), int(request.query.get("ps") or 30)
        vlist = [shapes.bili_video(p) for p in posts[(page - 1) * size : page * size]]
        data = {"list": {"tlist": {}, "vlist": vlist}, "page": {"pn": page, "ps": size, "count": len(posts)}}
        return Answer(200, {"code": 0, "message": "0", "ttl": 1, "data": data})

    def bili_replies(self, request: Request) -> Answer:
        refused = self.bili_checked(request)
        if refused:
            return refused
        aid = request.query.get("oid", "")
        post = self.post("bilibili", aid)
        start = int(request.query.get("next") or 0)
        comments = post.comments if post else []
        chunk = comments[start : start + COMMENT_PAGE_SIZE]
        end = start + COMMENT_PAGE_SIZE
        cursor = {"is_begin": start == 0, "is_end": end >= len(comments), "next": end, "all_count": len(comments)}
        data = {"cursor": cursor, "replies": [shapes.bili_reply(c, aid) for c in chunk], "top_replies": []}
        return Answer(200, {"code": 0, "message": "0", "ttl": 1, "data": data})

    # -- Douyin ----------------------------------------------------------------------------
    def douyin_self(self, request: Request) -> Answer:
        if self.logged_in(request, "douyin"):
            return Answer(200, {"status_code": 0, "user": {"uid": "42", "nickname": "me"}})
        return Answer(200, {"status_code": 8, "status_msg": "用户未登录", "user": None})

    def douyin_signed(self, request: Request) -> bool:
        query = re.sub(r"&?a_bogus=[^&]*", "", request.raw_query)
        return request.query.get("a_bogus") == page_signature(query, request.body)

    def douyin_search(self, request: Request) -> Answer:
        keyword = request.query.get("keyword", "")
        offset = int(request.query.get("offset") or 0)
        size = PAGE_SIZE["douyin"]
        fault = self.fault(keyword, offset // size + 1, request.path)
        if fault == "throttle":
            return THROTTLED["douyin"]()
        if fault == "captcha":
            return Answer(200, {"status_code": 0, "data": [], "has_more": 0,
                                "search_nil_info": {"search_nil_type": "verify_check", "search_nil_item": "verify_check"}})
        if fault == "malformed":
            return Answer(200, b'{"status_code":0,"data":[{"type":1,"aweme_info":')
        hits = self.search("douyin", keyword)
        chunk = hits[offset : offset + size]
        data: list[dict[str, Any]] = [{"type": 1, "aweme_info": shapes.douyin_aweme(p)} for p in chunk]
        if offset == 0 and data:
            data.insert(1, {"type": 6, "related_word": {"related_words": [{"related_word": keyword + "方法"}]}})
            data.append({"type": 77, "common_aladdin": {"display": {"title": "相关百科"}}})
        more = offset + size < len(hits)
        return Answer(200, {"status_code": 0, "data": data, "has_more": int(more), "cursor": offset + size,
                            "extra": {"logid": f"2025{offset:06d}LOGID"}, "log_pb": {"impr_id": f"2025{offset:06d}LOGID"}})

    def douyin_posts(self, request: Request) -> Answer:
        if not self.douyin_signed(request):
            return Answer(200, b"")
        sec_uid = request.query.get("sec_user_id", "")
        posts = self.by_author("douyin", sec_uid.removeprefix("MS4wLjABAAAA"))
        start = int(request.query.get("max_cursor") or 0)
        size = PAGE_SIZE["douyin"]
        more = start + size < len(posts)
        return Answer(200, {"status_code": 0, "aweme_list": [shapes.douyin_aweme(p) for p in posts[start : start + size]],
                            "has_more": int(more), "max_cursor": start + size if more else 0})

    def douyin_comments(self, request: Request) -> Answer:
        if not self.douyin_signed(request):
            return Answer(200, b"")
        aweme_id = request.query.get("aweme_id", "")
        post = self.post("douyin", aweme_id)
        start = int(request.query.get("cursor") or 0)
        comments = post.comments if post else []
        end = start + COMMENT_PAGE_SIZE
        return Answer(200, {"status_code": 0, "comments": [shapes.douyin_comment(c, aweme_id) for c in comments[start:end]],
                            "cursor": end, "has_more": int(end < len(comments)), "total": len(comments)})

    # -- Kuaishou --------------------------------------------------------------------------
    def kuaishou_graphql(self, request: Request) -> Answer:
        result = 1 if self.logged_in(request, "kuaishou") else 2  # logged out: no profile list
        return Answer(200, {"data": {"visionProfileUserList": {"result": result, "fols": [], "pcursor": ""}}})

    def kuaishou_refusal(self, request: Request) -> Answer | None:
        path = re.sub(r"[?&]__NS_hxfalcon=[^&]*", "", request.path + ("?" + request.raw_query if request.raw_query else ""))
        if request.query.get("__NS_hxfalcon") != page_signature(path, request.body):
            return Answer(200, {"result": 50, "error_msg": "签名验证失败"})
        return None

    def kuaishou_page(self, feeds: list[Post], start: int, size: int, **extra: Any) -> Answer:
        chunk = feeds[start : start + size]
        more = start + size < len(feeds)
        return Answer(200, {"result": 1, "pcursor": str(start + size) if more else "no_more",
                            "feeds": [shapes.kuaishou_feed(p) for p in chunk], **extra})

    def kuaishou_search(self, request: Request) -> Answer:
        body = request.json
        keyword = body.get("keyword", "")
        start = int(body.get("pcursor") or 0)
        size = PAGE_SIZE["kuaishou"]
        fault = self.fault(keyword, start // size + 1, request.path)
        if fault == "throttle":
            return THROTTLED["kuaishou"]()
        if fault == "captcha":
            return Answer(200, {"result": 400002, "error_msg": "需要验证", "captchaConfig": {"uri": "/captcha"}})
        if fault == "malformed":
            return Answer(200, b'{"result":1,"feeds":[{"photo":')
        refused = self.kuaishou_refusal(request)
        if refused:
            return refused
        return self.kuaishou_page(self.search("kuaishou", keyword), start, size, searchSessionId="MTRfMjcwOTMy")

    def kuaishou_profile(self, request: Request) -> Answer:
        refused = self.kuaishou_refusal(request)
        if refused:
            return refused
        body = request.json
        return self.kuaishou_page(self.by_author("kuaishou", body.get("user_id", "")), int(body.get("pcursor") or 0),
                                  PAGE_SIZE["kuaishou"])

    def kuaishou_comments(self, request: Request) -> Answer:
        refused = self.kuaishou_refusal(request)
        if refused:
            return refused
        body = request.json
        post = self.post("kuaishou", body.get("photoId", ""))
        comments = post.comments if post else []
        start = int(body.get("pcursor") or 0)
        end = start + COMMENT_PAGE_SIZE
        return Answer(200, {"result": 1, "rootCommentsV2": [shapes.kuaishou_comment(c) for c in comments[start:end]],
                            "pcursorV2": str(end) if end < len(comments) else "no_more", "commentCountV2": len(comments)})

    # -- Xiaohongshu -----------------------------------------------------------------------
    def xhs_refusal(self, request: Request) -> Answer | None:
        path = request.path + ("?" + request.raw_query if request.raw_query else "")
        if request.headers.get("x-s") != "XYW_" + page_signature(path, request.body):
            return Answer(406, {"code": -1, "success": False, "msg": None, "data": None})
        return None

    def xhs_selfinfo(self, request: Request) -> Answer:
        success = self.logged_in(request, "xhs")
        return Answer(200, {"code": 0, "success": True, "data": {"result": {"success": success, "code": 0}}})

    def xhs_search(self, request: Request) -> Answer:
        body = request.json
        keyword, page = body.get("keyword", ""), int(body.get("page") or 1)
        fault = self.fault(keyword, page, request.path)
        if fault == "throttle":
            return THROTTLED["xhs"]()
        if fault == "captcha":
            return Answer(461, {"code": 461, "success": False}, headers={"Verifytype": "102", "Verifyuuid": "abc-uuid"})
        if fault == "malformed":
            return Answer(200, b'{"code":0,"success":true,"data":{"items":[{"id":')
        refused = self.xhs_refusal(request)
        if refused:
            return refused
        size = PAGE_SIZE["xhs"]
        hits = self.search("xhs", keyword)
        items = [shapes.xhs_search_item(p) for p in hits[(page - 1) * size : page * size]]
        if page == 1 and items:
            items.insert(1, {"id": "2c7f6a1e-0d1b-4f2a-9f6e-1c2d3e4f5a6b#1700000000000", "model_type": "rec_query",
                             "rec_query": {"title": "大家都在搜", "queries": [{"name": keyword + "怎么做"}]}})
            items.append({"id": "ad-1", "model_type": "hot_query", "hot_query": {"queries": []}})
        return Answer(200, {"code": 0, "success": True, "msg": "成功",
                            "data": {"has_more": page * size < len(hits), "items": items}})

    def xhs_feed(self, request: Request) -> Answer:
        refused = self.xhs_refusal(request)
        if refused:
            return refused
        post = self.post("xhs", request.json.get("source_note_id", ""))
        if post is None or post.long:  # the feed refuses some notes; their page still shows them
            return Answer(200, {"code": -510001, "success": False, "msg": "笔记状态异常，请稍后查看", "data": {}})
        card = shapes.xhs_note_card(post)
        return Answer(200, {"code": 0, "success": True, "data": {"items": [{"id": post.id, "model_type": "note",
                                                                              "note_card": card}]}})

    def xhs_note_page(self, request: Request, note_id: str) -> Answer:
        post = self.post("xhs", note_id)
        return html(shapes.xhs_note_page(post)) if post else html("<html>404</html>", status=404)

    def xhs_user_posted(self, request: Request) -> Answer:
        refused = self.xhs_refusal(request)
        if refused:
            return refused
        posts = self.by_author("xhs", request.query.get("user_id", ""))
        start = int(request.query.get("cursor") or 0)
        size = PAGE_SIZE["xhs"]
        notes = [{"note_id": p.id, "display_title": shapes.title_and_body(p)[0], "type": "normal",
                  "xsec_token": f"AB{p.id[-6:]}token=", "user": shapes.xhs_user(p.author_id, p.author_name)}
                 for p in posts[start : start + size]]
        more = start + size < len(posts)
        return Answer(200, {"code": 0, "success": True,
                            "data": {"notes": notes, "cursor": str(start + size) if more else "", "has_more": more}})

    def xhs_comments(self, request: Request) -> Answer:
        refused = self.xhs_refusal(request)
        if refused:
            return refused
        note_id = request.query.get("note_id", "")
        post = self.post("xhs", note_id)
        comments = post.comments if post else []
        start = int(request.query.get("cursor") or 0)
        end = start + COMMENT_PAGE_SIZE
        more = end < len(comments)
        return Answer(200, {"code": 0, "success": True, "data": {
            "comments": [shapes.xhs_comment(c, note_id) for c in comments[start:end]],
            "cursor": str(end) if more else "", "has_more": more}})

    # -- Tieba -----------------------------------------------------------------------------
    def tieba_refusal(self, request: Request) -> Answer | None:
        params = dict(request.form if request.method == "POST" else request.query)
        if params.get("sign") != tieba_sign(params):
            return Answer(200, {"no": 2210002, "error": "sign error", "data": {}})
        return None

    def tieba_sync(self, request: Request) -> Answer:
        user = {"id": 42, "name": "me"} if self.logged_in(request, "tieba") else {"id": 0}
        return Answer(200, {"error_code": 0, "data": {"user": user, "anti": {"tbs": "0123456789abcdef"}}})

    def tieba_search(self, request: Request) -> Answer:
        keyword, page = request.query.get("word", ""), int(request.query.get("pn") or 1)
        fault = self.fault(keyword, page, request.path)
        if fault == "throttle":
            return THROTTLED["tieba"]()
        if fault == "captcha":
            return html("<html><head><title>百度安全验证</title></head><body>网络不给力，请稍后重试</body></html>", status=403)
        if fault == "malformed":
            return Answer(200, b'{"no":0,"data":{"card_list":[{"cardStyle":"thread","data":')
        refused = self.tieba_refusal(request)
        if refused:
            return refused
        size = PAGE_SIZE["tieba"]
        hits = self.search("tieba", keyword)
        cards: list[dict[str, Any]] = [{"cardStyle": "thread", "data": shapes.tieba_thread(p)}
                                       for p in hits[(page - 1) * size : page * size]]
        if page == 1 and cards:
            cards.insert(0, {"cardStyle": "forum", "data": {"forum_name": keyword, "member_num": 1200}})
            cards.append({"cardInfo": "brand", "data": {"title": "广告"}})
        return Answer(200, {"no": 0, "error": "success",
                            "data": {"card_list": cards, "has_more": int(page * size < len(hits))}})

    def tieba_my_threads(self, request: Request) -> Answer:
        refused = self.tieba_refusal(request)
        if refused:
            return refused
        portrait = request.query.get("portrait", "")
        posts = self.by_author("tieba", portrait.removeprefix("tb.1."))
        page, size = int(request.query.get("pn") or 1), int(request.query.get("rn") or 20)
        threads = [{**shapes.tieba_thread(p), "thread_id": int(p.id)} for p in posts[(page - 1) * size : page * size]]
        for thread in threads:
            del thread["tid"]
        return Answer(200, {"error_code": 0, "data": {"list": threads, "has_more": int(page * size < len(posts))}})

    def tieba_floors(self, request: Request) -> Answer:
        refused = self.tieba_refusal(request)
        if refused:
            return refused
        tid, page = request.form.get("kz", ""), int(request.form.get("pn") or 1)
        post = self.post("tieba", tid)
        comments = post.comments if post else []
        pages = max(1, -(-len(comments) // COMMENT_PAGE_SIZE))
        floors = [shapes.tieba_floor(c, 2 + (page - 1) * COMMENT_PAGE_SIZE + i)
                  for i, c in enumerate(comments[(page - 1) * COMMENT_PAGE_SIZE : page * COMMENT_PAGE_SIZE])]
        if page == 1 and post:
            floors.insert(0, {"id": int(post.id) + 1, "floor": 1, "author_id": int(post.author_id), "time": post.published,
                              "content": [{"type": 0, "text": post.text}]})
        users = [{"id": int(c["author_id"]), "name_show": c["author_name"], "portrait": f"tb.1.{c['author_id']}"}
                 for c in comments]
        return Answer(200, {"error_code": 0, "post_list": floors, "user_list": users,
                            "page": {"current_page": page, "total_page": pages}})

    # -- Zhihu -----------------------------------------------------------------------------
    def zhihu_refusal(self, request: Request) -> Answer | None:
        path = request.path + ("?" + request.raw_query if request.raw_query else "")
        if request.headers.get("x-zse-96") != "2.0_" + page_signature(path, ""):
            return Answer(403, {"error": {"code": 10003, "message": "请求参数异常，请升级客户端后重试"}})
        return None

    def zhihu_me(self, request: Request) -> Answer:
        if self.logged_in(request, "zhihu"):
            return Answer(200, {"id": "u42", "url_token": "me", "name": "me"})
        return Answer(401, {"error": {"code": 100, "message": "请求需要登录"}})

    def zhihu_search(self, request: Request) -> Answer:
        keyword, offset = request.query.get("q", ""), int(request.query.get("offset") or 0)
        size = PAGE_SIZE["zhihu"]
        fault = self.fault(keyword, offset // size + 1, request.path)
        if fault == "throttle":
            return THROTTLED["zhihu"]()
        if fault == "captcha":
            return Answer(403, {"error": {"code": 40352, "redirect": "https://www.zhihu.com/account/unhuman?type=unhuman"}})
        if fault == "malformed":
            return Answer(200, b'{"data":[{"type":"search_result","object":')
        refused = self.zhihu_refusal(request)
        if refused:
            return refused
        hits = self.search("zhihu", keyword)
        data: list[dict[str, Any]] = [{"type": "search_result", "highlight": {}, "object": shapes.zhihu_answer(p, keyword)}
                                      for p in hits[offset : offset + size]]
        if offset == 0 and data:
            data.insert(0, {"type": "relevant_query", "query_list": [{"query": keyword + "靠谱吗"}]})
            data.append({"type": "knowledge_ad", "object": {"type": "ad", "id": "ad1"}})
        end = offset + size >= len(hits)
        paging = {"is_end": end, "next": "" if end else request.url_with(offset=offset + size)}
        return Answer(200, {"data": data, "paging": paging})

    def zhihu_member_answers(self, request: Request, token: str) -> Answer:
        refused = self.zhihu_refusal(request)
        if refused:
            return refused
        posts = self.by_author("zhihu", token.removeprefix("token-"))
        offset, size = int(request.query.get("offset") or 0), int(request.query.get("limit") or 20)
        answers = [{k: v for k, v in shapes.zhihu_answer(p).items() if k != "type"} for p in posts[offset : offset + size]]
        paging = {"is_end": offset + size >= len(posts), "next": request.url_with(offset=offset + size), "totals": len(posts)}
        return Answer(200, {"data": answers, "paging": paging})

    def zhihu_comments(self, request: Request, answer_id: str) -> Answer:
        refused = self.zhihu_refusal(request)
        if refused:
            return refused
        post = self.post("zhihu", answer_id)
        comments = post.comments if post else []
        start = int(request.query.get("offset") or 0)
        end = start + COMMENT_PAGE_SIZE
        is_end = end >= len(comments)
        paging = {"is_end": is_end, "next": "" if is_end else request.url_with(offset=end), "totals": len(comments)}
        return Answer(200, {"data": [shapes.zhihu_comment(c) for c in comments[start:end]], "paging": paging})

    def zhihu_answer_page(self, request: Request, answer_id: str) -> Answer:
        post = self.post("zhihu", answer_id)
        return html(shapes.zhihu_answer_page(post)) if post else html("<html>404</html>", status=404)

    # -- Evidence: a post page rendered by JavaScript ------------------------------------------
    def evidence_page(self, request: Request, platform: str, post_id: str) -> Answer:
        post = self.post(platform, post_id)
        text = json.dumps(post.text if post else "(deleted)", ensure_ascii=False).replace("</", "<\\/")
        return html(f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(platform)} {escape(post_id)}</title></head>"
                    f"<body><main id='post'>loading…</main><script>setTimeout(() => {{"
                    f"const p = document.getElementById('post'); p.textContent = {text}; p.dataset.rendered = 'yes';"
                    f"}}, 50);</script></body></html>")


class Outage(Exception):
    """Raised by a route to answer HTTP 503: the platform's server is failing on this page."""


@dataclass
class Answer:
    status: int
    body: Any  # JSON-able, or bytes sent as they are
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    dropped: bool = False  # the connection closes after half the body, under the full Content-Length

    def payload(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body, ensure_ascii=False).encode()


def html(text: str, status: int = 200, charset: str = "utf-8") -> Answer:
    return Answer(status, text.encode(charset), f"text/html; charset={charset}")


@dataclass
class Request:
    """What a route sees of an HTTP request."""

    method: str
    path: str
    raw_query: str
    query: dict[str, str]
    headers: dict[str, str]
    cookies: dict[str, str]
    body: str

    @property
    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body, keep_blank_values=True))

    def url_with(self, **params: Any) -> str:
        """This request's platform-style URL with ``params`` replaced (for ``paging.next`` links)."""
        query = {**self.query, **{k: str(v) for k, v in params.items()}}
        return f"https://www.zhihu.com{self.path}?" + urllib.parse.urlencode(query)


class _Handler(BaseHTTPRequestHandler):
    replica: Replica

    def _serve(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        cookies = dict(
            part.strip().split("=", 1) for part in (self.headers.get("Cookie") or "").split(";") if "=" in part
        )
        request = Request(
            self.command, url.path, url.query, dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
            {k.lower(): v for k, v in self.headers.items()}, cookies, body,
        )
        answer = self.replica.answer(request)
        payload = answer.payload()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Date", format_datetime(datetime.now(timezone.utc), usegmt=True))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload[: len(payload) // 2] if answer.dropped else payload)
        self.close_connection = self.close_connection or answer.dropped

    do_GET = do_POST = _serve  # noqa: N815 (http.server API)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the crawler logs what matters
        pass


class ReplicaServer:
    """Serve a ``Replica`` on 127.0.0.1 in a background thread; use as a context manager."""

    def __init__(self, posts: Iterable[Post], port: int = 0, faults: dict[str, str] | None = None,
                 extra_routes: dict[str, Callable[[Request], Answer]] | None = None, **behaviour: Any):
        self.replica = Replica(posts, faults, **behaviour)
        self.replica.exact.update(extra_routes or {})
        handler = type("Handler", (_Handler,), {"replica": self.replica})
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
