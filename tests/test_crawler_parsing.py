"""The platform parsers as pure functions, on recorded answers in the real shapes (tests/data/crawler/recorded)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from crawler.cookies import CookieFileError, load_cookies
from crawler.parsing import CHINA_TZ, html_text, js_object_after, parse_count, parse_fuzzy_time, parse_weibo_time
from crawler.signing import tieba_sign, wbi_mixin_key, wbi_query, wbi_sign
from crawler.spiders.base import Call
from crawler.spiders.bilibili import Bilibili
from crawler.spiders.douyin import Douyin
from crawler.spiders.kuaishou import Kuaishou
from crawler.spiders.tieba import Tieba
from crawler.spiders.weibo import Weibo
from crawler.spiders.xhs import Xhs
from crawler.spiders.zhihu import Zhihu

RECORDED = Path(__file__).parent / "data" / "crawler" / "recorded"


def recorded(name: str):
    text = (RECORDED / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


def split(outputs):
    outputs = list(outputs)
    return [o for o in outputs if not isinstance(o, Call)], [o for o in outputs if isinstance(o, Call)]


# -- shared helpers -------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    (12, 12), ("12", 12), ("1.2万", 12000), ("3亿", 300_000_000), ("1,024", 1024), ("10w+", 100000),
    ("2.5k", 2500), ("", None), ("赞", None), (None, None),
])
def test_parse_count(value, expected):
    assert parse_count(value) == expected


NOW = datetime(2025, 3, 1, 12, 0, tzinfo=CHINA_TZ)


@pytest.mark.parametrize("value, expected", [
    ("刚刚", "2025-03-01T12:00:00+08:00"),
    ("5分钟前", "2025-03-01T11:55:00+08:00"),
    ("2小时前", "2025-03-01T10:00:00+08:00"),
    ("3天前", "2025-02-26T12:00:00+08:00"),
    ("3天前 广东", "2025-02-26T12:00:00+08:00"),
    ("昨天 12:30", "2025-02-28T12:30:00+08:00"),
    ("02-10", "2025-02-10T00:00:00+08:00"),
    ("12-31", "2024-12-31T00:00:00+08:00"),  # a month-day in the future means last year
    ("2025-02-20", "2025-02-20T00:00:00+08:00"),
    ("2023-13-45", None),
    ("很久以前", None),
])
def test_parse_fuzzy_time(value, expected):
    assert parse_fuzzy_time(value, now=NOW) == expected


def test_weibo_time_keeps_china_offset():
    assert parse_weibo_time("Wed Oct 19 23:44:36 +0800 2022") == "2022-10-19T23:44:36+08:00"
    assert parse_weibo_time("Wed Oct 19 23:44:36 +08:00 2022") == "2022-10-19T23:44:36+08:00"
    assert parse_weibo_time("Wed Oct 19 23:44:36 -0530 2022") == "2022-10-19T23:44:36-05:30"
    assert parse_weibo_time("Wed Oct 32 23:44:36 +0800 2022") is None


def test_fingerprints_ignore_signatures_only():
    from scrapy.http import Request

    from crawler.middlewares import SignatureBlindFingerprinter, strip_signature

    fingerprint = SignatureBlindFingerprinter().fingerprint
    url = "https://api.bilibili.com/x/web-interface/wbi/search/type?keyword=%E5%80%BA&page=2"
    assert strip_signature(url) == url
    assert strip_signature(url + "&wts=1700000000&w_rid=abc") == url
    signed = [Request(url + f"&wts={t}&w_rid={t:x}") for t in (1700000000, 1700000060)]
    assert fingerprint(signed[0]) == fingerprint(signed[1]) == fingerprint(Request(url))
    assert fingerprint(Request(url.replace("page=2", "page=3"))) != fingerprint(Request(url))


def test_html_text_and_embedded_state():
    assert html_text("a<br/>b &amp; <em>c</em></p><p>d") == "a\nb & c\nd"
    state = js_object_after('x; window.__S__={"a":undefined,"b":[1,undefined],"c":"}]"}; more()', "window.__S__")
    assert state == {"a": None, "b": [1, None], "c": "}]"}
    assert js_object_after("no state here", "window.__S__") is None


# -- signing -------------------------------------------------------------------------------------
def test_wbi_worked_example_from_bilibili_api_collect():
    # docs/misc/sign/wbi.md: keys 7cd0…/4932… give mixin key ea1db124…; foo/bar/zab at wts 1702204169 sign to 8f6f2b5b…
    img, sub = "7cd084941338484aae1ad9425b84077c", "4932caff0ff746eab6f01bf08b70ac45"
    assert wbi_mixin_key(img, sub) == "ea1db124af3c7062474693fa704f4ff8"
    signed = wbi_sign({"foo": "114", "bar": "514", "zab": 1919810}, img, sub, wts=1702204169)
    assert signed["w_rid"] == "8f6f2b5b3d485fe1886cec6a0be8c5d4"
    # Spaces encode as %20 and escapes are upper-case, as the doc requires.
    query = wbi_query({"foo": "one one four", "bar": "五一四", "baz": 1919810}, img, sub, wts=1)
    assert query.startswith("bar=%E4%BA%94%E4%B8%80%E5%9B%9B&baz=1919810&foo=one%20one%20four&wts=1&w_rid=")


def test_tieba_sign_is_md5_of_sorted_pairs_with_salt():
    import hashlib

    expected = hashlib.md5("kw=征信tbs=abctiebaclient!!!".encode()).hexdigest()
    assert tieba_sign({"tbs": "abc", "kw": "征信", "sign": "old"}) == expected


# -- platform parsers ------------------------------------------------------------------------------
def test_weibo_search_cards_groups_and_long_text():
    items, calls = split(Weibo().parse_search(recorded("weibo_search.json"), {"keyword": "征信修复", "page": 1}))
    assert [i["post_id"] for i in items] == ["4987654321000001"]
    post = items[0]
    assert post["text"] == "征信花了？@某某 专业修复\n加V详聊 & 包过"
    assert post["published_at"] == "2022-10-19T23:44:36+08:00"
    assert post["author_url"] == "https://m.weibo.cn/u/7001"
    assert post["raw"]["attitudes_count"] == 12000
    detail, following = calls[0], calls[1]
    assert detail.step == "detail" and detail.url == "https://m.weibo.cn/detail/4987654321000002"
    assert following.step == "search" and following.page == 2 and "page=2" in following.url
    full, _ = split(Weibo().parse_detail(Weibo().decode("detail", recorded("weibo_detail.html")), detail.ctx))
    assert full[0]["text"] == "停息挂账，协商还款，专业法务团队帮你减免利息\n电话 13812345678"


def test_weibo_end_marker_and_comments():
    assert split(Weibo().parse_search({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}},
                                      {"keyword": "x", "page": 3})) == ([], [])
    comments, calls = split(Weibo().parse_comments(recorded("weibo_comments.json"), {"post_id": "4987654321000001", "page": 1}))
    assert comments[0]["kind"] == "comment" and comments[0]["parent_id"] == "4987654321000001"
    assert comments[0]["text"] == "私信你了"
    assert "max_id=139282732289" in calls[0].url


def test_weibo_faults():
    assert Weibo().fault(432, {}, "<html>", None).kind == "throttle"


def test_bilibili_search_and_replies():
    api = Bilibili()
    api.wbi_keys = ("7cd084941338484aae1ad9425b84077c", "4932caff0ff746eab6f01bf08b70ac45")
    items, calls = split(api.parse_search(recorded("bilibili_search.json"), {"keyword": "征信修复", "page": 1}))
    assert [i["post_id"] for i in items] == ["1154321"]  # the ketang card is skipped
    assert items[0]["title"] == "征信修复真的有用吗？&避坑"
    assert items[0]["url"] == "https://www.bilibili.com/video/BV1xx411c7mD"
    assert items[0]["raw"]["play"] == 13000
    assert "page=2" in calls[0].url and "w_rid=" in calls[0].url
    replies, more = split(api.parse_comments(recorded("bilibili_replies.json"), {"aid": "1154321", "page": 1}))
    assert [r["post_id"] for r in replies] == ["reply-200001", "reply-200002"]  # pinned first
    assert more[0].step == "comments" and "next=2" in more[0].url
    assert api.fault(200, {}, "", {"code": -412}).kind == "throttle"
    assert api.fault(412, {}, "<html>", None).kind == "throttle"
    assert api.fault(200, {}, "", {"code": -352}).kind == "captcha"


def test_douyin_search_skips_non_video_cards_and_carries_search_id():
    items, calls = split(Douyin().parse_search(recorded("douyin_search.json"), {"keyword": "停息挂账", "page": 1}))
    assert [i["post_id"] for i in items] == ["7311111111111111111", "7322222222222222222"]
    assert items[1]["url"] == "https://www.douyin.com/note/7322222222222222222"  # 图文 (aweme_type 68)
    assert items[0]["author_url"] == "https://www.douyin.com/user/MS4wLjABAAAAxyz"
    assert "offset=15" in calls[0].url and "search_id=20250101120000ABCDEF" in calls[0].url
    comments, _ = split(Douyin().parse_comments(recorded("douyin_comments.json"), {"aweme_id": "7311111111111111111", "page": 1}))
    assert comments[0]["text"] == "已私信，求带上岸"
    assert Douyin().fault(200, {}, "", None).kind == "throttle"
    assert Douyin().fault(200, {}, "{}", {"search_nil_info": {"search_nil_type": "verify_check"}}).kind == "captcha"


def test_kuaishou_feeds_and_faults():
    items, calls = split(Kuaishou().parse_search(recorded("kuaishou_search.json"), {"keyword": "反催收", "page": 1}))
    assert [i["post_id"] for i in items] == ["3x9fzrtt2bjxyzz"]  # the live-stream entry has no photo
    assert items[0]["published_at"] == "2023-11-15T06:13:20+08:00"  # ms timestamps
    assert items[0]["raw"]["counts"]["likeCount"] == 11000
    assert calls[0].json["pcursor"] == "1" and calls[0].json["searchSessionId"] == "MTRfMjcwOTMy" and calls[0].sign
    comments, more = split(Kuaishou().parse_comments(recorded("kuaishou_comments.json"), {"photo_id": "3x9", "page": 1}))
    assert comments[0]["text"] == "怎么联系你" and more == []  # "no_more" ends
    assert Kuaishou().fault(200, {}, "", {"result": 2}).kind == "throttle"
    assert Kuaishou().fault(200, {}, "", {"result": 50}).kind == "signature"


def test_xhs_search_skips_query_slots_and_reads_details():
    _, calls = split(Xhs().parse_search(recorded("xhs_search.json"), {"keyword": "征信修复", "page": 1, "search_id": "s1"}))
    details = [c for c in calls if c.step == "detail"]
    assert [c.json["source_note_id"] for c in details] == ["6512a0b1000000001e03c4d5"]
    assert details[0].ctx["summary"]["time_hint"] is not None  # "3天前"
    assert [c.step for c in calls if c.step == "search"] == ["search"]
    items, _ = split(Xhs().parse_detail(recorded("xhs_feed.json"), details[0].ctx))
    note = items[0]
    assert note["text"] == "征信修复亲测\n找的团队三天修复，需要的滴滴 #征信修复[话题]#"
    assert note["url"] == "https://www.xiaohongshu.com/explore/6512a0b1000000001e03c4d5?xsec_token=ABtoken1%3D&xsec_source=pc_search"
    assert note["raw"]["counts"]["liked_count"] == 12000
    # A refused feed falls back to the HTML page, whose state has `undefined` values.
    _, fallback = split(Xhs().parse_detail({"code": -510001, "success": False, "data": {}}, details[0].ctx))
    assert fallback[0].step == "detail_html"
    page_items, _ = split(Xhs().parse_detail_html({"html": recorded("xhs_note.html")}, details[0].ctx))
    assert page_items[0]["text"] == "征信修复亲测\n网页版正文 {不是} JSON 结束]"
    assert Xhs().fault(461, {"verifytype": "102"}, "", None).kind == "captcha"
    assert Xhs().fault(406, {}, "", {"code": -1, "success": False}).kind == "signature"


def test_xhs_comments():
    comments, more = split(Xhs().parse_comments(recorded("xhs_comments.json"), {"note_id": "6512", "page": 1}))
    assert comments[0]["text"] == "求推荐" and "sub_comments" not in comments[0]["raw"] and more == []


def test_tieba_threads_and_floors():
    items, calls = split(Tieba().parse_search(recorded("tieba_search.json"), {"keyword": "征信修复", "page": 1}))
    assert [i["post_id"] for i in items] == ["8800000001"]
    assert items[0]["text"] == "征信修复靠谱吗\n有没有老哥试过\xa0修复的"
    assert items[0]["author_url"] == "https://tieba.baidu.com/home/main?id=tb.1.abc"
    assert calls[0].sign
    floors, more = split(Tieba().parse_comments(recorded("tieba_floors.json"), {"tid": "8800000001", "page": 1}))
    assert [f["text"] for f in floors] == ["加我http://t.cn/x[滑稽]"]  # floor 1 is the thread itself
    assert floors[0]["author_name"] == "吧友B" and more == []
    assert Tieba().fault(403, {}, "<title>百度安全验证</title>", None).kind == "captcha"


def test_zhihu_search_answers_articles_and_detail_page():
    items, calls = split(Zhihu().parse_search(recorded("zhihu_search.json"), {"keyword": "债务优化", "page": 1}))
    assert [i["post_id"] for i in items] == ["answer-3100000001"]
    assert items[0]["text"] == "债务优化是什么？\n我们是专业法务团队\n咨询微信 zw_law01"
    assert items[0]["url"] == "https://www.zhihu.com/question/610001/answer/3100000001"
    detail = next(c for c in calls if c.step == "detail")  # the article has only an excerpt
    assert detail.url == "https://zhuanlan.zhihu.com/p/660001"
    assert "offset=20" in next(c for c in calls if c.step == "search").url
    full, _ = split(Zhihu().parse_detail(Zhihu().decode("detail", recorded("zhihu_article.html")), detail.ctx))
    assert full[0]["text"] == "一文看懂债务优化\n完整正文：债务优化找我们"
    assert full[0]["author_url"] == "https://www.zhihu.com/people/writer"
    comments, _ = split(Zhihu().parse_comments(recorded("zhihu_comments.json"), {"post_id": "answer-1", "url": "u", "page": 1}))
    assert comments[0]["text"] == "已私信"
    assert Zhihu().fault(403, {}, "", {"error": {"code": 40362}}).kind == "throttle"


def test_cookie_files(tmp_path):
    exported = tmp_path / "cookies.json"
    exported.write_text(json.dumps([{"name": "SUB", "value": "secret-value", "domain": ".weibo.cn", "path": "/"}]))
    netscape = tmp_path / "cookies.txt"
    netscape.write_text("# Netscape HTTP Cookie File\n#HttpOnly_.bilibili.com\tTRUE\t/\tFALSE\t0\tSESSDATA\tabc\n")
    assert [(c.name, c.domain) for c in load_cookies(exported)] == [("SUB", ".weibo.cn")]
    assert [(c.name, c.value) for c in load_cookies(netscape)] == [("SESSDATA", "abc")]
    assert "secret-value" not in repr(load_cookies(exported))
    broken = tmp_path / "broken.txt"
    broken.write_text("not a cookie line\n")
    with pytest.raises(CookieFileError, match="7 tab-separated"):
        load_cookies(broken)


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.8.9.1", True), ("localhost", True), ("LOCALHOST", True), ("localhost.", True),
    ("::1", True), ("[::1]", True), ("::ffff:127.0.0.1", True),
    ("127.0.0.1.evil.com", False), ("localhost.example", False), ("evil-localhost", False), ("128.0.0.1", False),
    ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("", False),
])
def test_is_loopback_compares_whole_hosts(host, loopback):
    from crawler.hosts import is_loopback

    assert is_loopback(host) is loopback


@pytest.mark.parametrize("url, local", [
    ("http://127.0.0.1:8765", True), ("http://127.8.9.1", True), ("http://[::1]:8000/x", True),
    ("https://localhost/", True), ("http://127.0.0.1.evil.com", False), ("http://localhost.example:80", False),
    ("http://evil.com/?h=127.0.0.1", False), ("http://user:127.0.0.1@evil.com", False), (None, False),
    ("http://[::1", False),
])
def test_loopback_base_urls_and_lookalikes(url, local):
    """Only a loopback --base-url drops the platform's politeness delay (crawl and recheck share the check)."""
    from crawler.hosts import is_loopback_url
    from crawler.run import CrawlJob, crawl_settings, job_settings

    assert is_loopback_url(url) is local
    if url != "http://[::1":  # (not a URL a crawl would start with)
        settings = job_settings(crawl_settings(), CrawlJob("weibo", [], base_url=url))
        assert (settings.getfloat("DOWNLOAD_DELAY") == 0) is local, url
