"""Real Scrapy crawls (in subprocesses) of the seven-platform replica on 127.0.0.1 into temp databases."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from crawler.replica.server import LOGIN_COOKIES, Answer, Post, ReplicaServer, html
from crawler.spiders import PLATFORMS

POSTS_FILE = Path(__file__).parent / "data" / "crawler" / "replica_posts.jsonl"
FAULTS = {"限流": "throttle", "验证码": "captcha"}
#: How each platform names the creator whose replica author id is 700.
CREATOR_700 = {"weibo": "700", "bilibili": "700", "douyin": "MS4wLjABAAAA700", "kuaishou": "700", "xhs": "700",
               "tieba": "tb.1.700", "zhihu": "token-700"}


def replica_posts() -> list[Post]:
    return [Post.from_dict(json.loads(line)) for line in POSTS_FILE.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def replica():
    with ReplicaServer(replica_posts(), faults=FAULTS) as server:
        yield server


def rows(db_path, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def run_jobs(db_path, jobs: list[dict], with_log: bool = False):
    """Crawl ``jobs`` (CrawlJob kwargs) through crawler.run.crawl in one fresh process; returns their stats
    (and the DEBUG log when ``with_log``)."""
    code = textwrap.dedent(f"""
        import json, sys
        from crawler.run import CrawlJob, crawl
        jobs = [CrawlJob(**j) for j in json.loads(sys.argv[1])]
        results = crawl(jobs, sys.argv[2], overrides={{"LOG_LEVEL": sys.argv[3], "GRAYSCAN_MODEL": "none"}})
        print(json.dumps([{{"platform": r.platform, "note": r.note, **{{k: v for k, v in r.stats.items()
                            if isinstance(v, (int, str))}}}} for r in results]))
    """)
    level = "DEBUG" if with_log else "ERROR"
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(jobs), str(db_path), level], capture_output=True,
                          text=True, cwd=ROOT, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.splitlines()[-1])
    return (results, proc.stderr) if with_log else results


@pytest.fixture(scope="module")
def crawled_all(replica, tmp_path_factory):
    """All seven platforms crawled in one process: keyword search plus every comment page."""
    db_path = tmp_path_factory.mktemp("all") / "grayscan.db"
    jobs = [{"platform": p, "keywords": ["征信修复"], "comments": True, "comment_pages": 3, "base_url": replica.base_url}
            for p in PLATFORMS]
    return db_path, jobs, run_jobs(db_path, jobs)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_search_with_comments(platform, crawled_all):
    db_path, _, results = crawled_all
    result = next(r for r in results if r["platform"] == platform)
    assert result["finish_reason"] == "finished", result
    posts = [p for p in replica_posts() if p.platform == platform]
    stored = {r[0]: r for r in rows(db_path, "SELECT post_id, kind, parent_id, text, published_at, author_id "
                                             "FROM posts WHERE kind = 'post' AND platform = ?", platform)}
    assert len(stored) == len(posts) == 7
    for post in posts:
        # Each platform's id form (zhihu prefixes the object type); the full text, long posts included.
        row = next(r for key, r in stored.items() if key.endswith(post.id))
        assert row[3].replace("\n", "").endswith(post.text.split("|")[-1].replace("\n", "")), (row[3], post.text)
        assert row[4] and row[4].endswith("+08:00")
    comments = rows(db_path, "SELECT post_id, parent_id, text FROM posts WHERE kind = 'comment' AND platform = ?", platform)
    assert len(comments) == sum(len(p.comments) for p in posts) == 6  # all comment pages followed
    assert {c[2] for c in comments} == {c["text"] for p in posts for c in p.comments}
    assert all(c[1] in stored for c in comments)
    homepages = [r[0] for r in rows(db_path, "SELECT homepage_url FROM accounts WHERE platform = ?", platform)]
    assert homepages and all(h and h.startswith("https://") for h in homepages)
    assert rows(db_path, "SELECT count(*) FROM queue WHERE platform = ?", platform)[0][0] >= 4  # the authored ads
    if platform in ("douyin", "kuaishou", "xhs", "zhihu", "tieba"):
        assert result["grayscan/signed"] > 0  # the replica refuses unsigned or wrongly signed calls


def test_second_crawl_adds_no_duplicates_and_skips_known_posts(crawled_all):
    db_path, jobs, _ = crawled_all
    before = rows(db_path, "SELECT count(*) FROM posts")[0][0]
    results = run_jobs(db_path, jobs)
    assert rows(db_path, "SELECT count(*) FROM posts")[0][0] == before == 7 * 13
    for result in results:
        assert result.get("grayscan/new", 0) == 0
        assert result["grayscan/known_skipped"] >= 2, result  # no comment/detail refetch for stored posts


def test_crawl_command(replica, db_path):
    proc = run_cli("crawl", "weibo", "-k", "征信修复", "--comments", "--lexicon-only",
                   "--base-url", replica.base_url, "--db", str(db_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "7 new" not in proc.stderr and "(11 new)" in proc.stderr  # 7 posts + first comment page of 2 posts
    assert rows(db_path, "SELECT status, items FROM crawl_runs") == [("finished", 11)]


def test_creators_on_every_platform(replica, db_path):
    jobs = [{"platform": p, "keywords": [], "creators": [CREATOR_700[p]], "base_url": replica.base_url}
            for p in PLATFORMS]
    results = run_jobs(db_path, jobs)
    assert {r["finish_reason"] for r in results} == {"finished"}
    for platform in PLATFORMS:
        expected = {p.id for p in replica_posts() if p.platform == platform and p.author_id == "700"}
        got = {r[0].rsplit("-", 1)[-1] for r in rows(db_path, "SELECT post_id FROM posts WHERE platform = ?", platform)}
        assert got == expected, platform


def test_rate_limits_back_off_and_captchas_stop_each_platform(replica, db_path):
    jobs = [{"platform": p, "keywords": ["限流", "征信修复"], "base_url": replica.base_url} for p in PLATFORMS]
    jobs += [{"platform": p, "keywords": ["验证码", "征信修复"], "base_url": replica.base_url} for p in PLATFORMS]
    results = run_jobs(db_path, jobs)
    throttled, stopped = results[:7], results[7:]
    for result in throttled:
        assert result["finish_reason"] == "finished", result
        assert result.get("grayscan/fault/throttle") == result.get("grayscan/backoff") >= 1, result
    for result in stopped:
        assert result["finish_reason"] == "captcha", result
        assert "captcha" in result["note"]
    statuses = rows(db_path, "SELECT platform, status, note FROM crawl_runs ORDER BY id")
    assert [s[1] for s in statuses] == ["finished"] * 7 + ["captcha"] * 7
    # Every rate-limited platform still stored its seven posts after backing off.
    assert rows(db_path, "SELECT count(DISTINCT platform) FROM posts")[0][0] == 7


def test_captcha_exit_status_and_message(replica, db_path):
    proc = run_cli("crawl", "xhs", "-k", "验证码", "--lexicon-only", "--base-url", replica.base_url, "--db", str(db_path))
    assert proc.returncode == 3
    assert "captcha" in proc.stderr and "--resume" in proc.stderr


def test_always_malformed_page_is_given_up_and_the_rest_kept(db_path):
    posts = replica_posts()
    with ReplicaServer(posts, faults={"征信修复": "malformed"}) as server:
        proc = run_cli("crawl", "douyin", "-k", "征信修复", "-k", "代理退保", "--lexicon-only", "--log-level", "ERROR",
                       "--base-url", server.base_url, "--db", str(db_path))
    assert proc.returncode == 4, proc.stderr[-2000:]
    assert "douyin: gave up http://127.0.0.1" in proc.stderr and "offset=4" in proc.stderr
    assert "after 8 retries (undecodable answer" in proc.stderr
    assert "1 page given up" in proc.stderr and "--resume" in proc.stderr
    # Page 1 of the broken query (4 posts) is kept; Douyin's cursor is opaque, so its later pages wait for --resume.
    assert rows(db_path, "SELECT count(*) FROM posts")[0][0] == 4
    assert rows(db_path, "SELECT note FROM crawl_runs")[0][0].startswith("1 page given up")


def write_cookies(path: Path, platform: str, value: str) -> Path:
    """A Netscape cookies.txt holding the platform's login cookie (the domain is replaced by --base-url's host)."""
    name, _ = LOGIN_COOKIES[platform]
    path.write_text(f"# Netscape HTTP Cookie File\n.example.com\tTRUE\t/\tFALSE\t0\t{name}\t{value}\n", encoding="utf-8")
    return path


def test_login_preflight_on_every_platform(replica, db_path, tmp_path):
    expired = [{"platform": p, "keywords": ["征信修复"], "base_url": replica.base_url,
                "cookies_file": str(write_cookies(tmp_path / f"{p}-old.txt", p, "expired-session-value"))}
               for p in PLATFORMS]
    results, _ = run_jobs(db_path, expired, with_log=True)
    for result in results:
        assert result["finish_reason"] in ("login_expired", "login"), result
        assert "login expired" in result["note"]
    assert rows(db_path, "SELECT count(*) FROM posts")[0][0] == 0
    valid = [{**job, "cookies_file": str(write_cookies(tmp_path / f"{job['platform']}-new.txt", job["platform"],
                                                       LOGIN_COOKIES[job["platform"]][1]))} for job in expired]
    results, log = run_jobs(db_path, valid, with_log=True)
    assert {r["finish_reason"] for r in results} == {"finished"}
    assert rows(db_path, "SELECT count(*) FROM posts")[0][0] == 7 * 7
    # The secrets are neither logged (even at DEBUG) nor stored.
    secrets = [value for _, value in LOGIN_COOKIES.values()]
    assert "login valid" in log and not [s for s in secrets if s in log]
    stored = b"".join(p.read_bytes() for p in db_path.parent.glob("grayscan.db*") if p.is_file())
    assert not [s for s in secrets if s.encode() in stored]


def test_bad_cookie_file_is_a_clear_error(replica, db_path, tmp_path):
    bad = tmp_path / "cookies.json"
    bad.write_text("[{\"name\": 1}", encoding="utf-8")
    proc = run_cli("crawl", "weibo", "-k", "x", "--cookies", str(bad), "--db", str(db_path))
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr


def test_resume_after_interruption_loses_and_duplicates_nothing(replica, db_path):
    args = ("crawl", "weibo", "-k", "征信修复", "-k", "停息挂账", "--comments", "--comment-pages", "3", "--lexicon-only",
            "--base-url", replica.base_url, "--db", str(db_path))
    first = run_cli(*args, "--limit", "2")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "--resume" in first.stderr
    interrupted = rows(db_path, "SELECT count(*) FROM posts")[0][0]
    second = run_cli(*args, "--resume")
    assert second.returncode == 0, second.stderr[-2000:]
    runs = rows(db_path, "SELECT status, items FROM crawl_runs ORDER BY id")
    assert runs[0][0] == "closespider_itemcount" and runs[1][0] == "finished"
    total = rows(db_path, "SELECT count(*) FROM posts")[0][0]
    assert interrupted < total == 13  # 7 posts + 6 comments
    assert runs[0][1] + runs[1][1] == total  # nothing fetched twice
    assert not (db_path.parent / "grayscan.db.jobs" / "weibo").exists()  # state removed once finished


FORUM_PAGE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk"><title>论坛</title></head><body>
<ul>{rows}</ul>{next}</body></html>"""
FORUM_ROW = ('<li class="thread" data-tid="{tid}"><a class="title" href="/thread/{tid}">{title}</a>'
             '<div class="summary">{text}</div><span class="author">{author}</span><span class="time">3天前</span></li>')


def forum_route(request) -> Answer:
    page = int(request.query.get("page") or 1)
    threads = [(1, "征信修复包过", "专业团队修复征信，加微信 zx_repair01"), (2, "闲聊", "今天天气不错")] if page == 1 \
        else [(3, "停息挂账咨询", "法务协商停息挂账，电话 13812345678")]
    body = FORUM_PAGE.format(
        rows="".join(FORUM_ROW.format(tid=t, title=title, text=text, author="楼主") for t, title, text in threads),
        next='<a class="next" href="/forum?page=2">下一页</a>' if page == 1 else "")
    return html(body, charset="gbk")


def test_generic_yaml_spider_on_a_gbk_forum(db_path, tmp_path):
    config = tmp_path / "forum.yaml"
    config.write_text(textwrap.dedent("""
        platform: demo-forum
        hosts: [bbs.example.com]
        start_urls: ["https://bbs.example.com/forum?page=1"]
        item: "css:li.thread"
        fields:
          post_id: "css:::attr(data-tid)"
          url: "css:a.title::attr(href)"
          title: "css:a.title::text"
          text: "xpath:string(.//div[@class='summary'])"
          author_name: "css:.author::text"
          published_at: "css:.time::text"
        next_page: "css:a.next::attr(href)"
    """), encoding="utf-8")
    with ReplicaServer([], extra_routes={"/forum": forum_route}) as server:
        proc = run_cli("crawl", "generic", "--config", str(config), "--lexicon-only",
                       "--base-url", server.base_url, "--db", str(db_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = rows(db_path, "SELECT platform, post_id, url, title, text, author_name FROM posts ORDER BY post_id")
    assert got == [
        ("demo-forum", "1", "https://bbs.example.com/thread/1", "征信修复包过", "专业团队修复征信，加微信 zx_repair01", "楼主"),
        ("demo-forum", "2", "https://bbs.example.com/thread/2", "闲聊", "今天天气不错", "楼主"),
        ("demo-forum", "3", "https://bbs.example.com/thread/3", "停息挂账咨询", "法务协商停息挂账，电话 13812345678", "楼主"),
    ]
    assert {r[0] for r in rows(db_path, "SELECT post_id FROM queue")} == {"1", "3"}


def test_generic_config_errors_are_clear(db_path, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("platform: x\nstart_urls: [http://a]\nitem: li\nfields: {text: 'css:p'}\n", encoding="utf-8")
    proc = run_cli("crawl", "generic", "--config", str(config), "--db", str(db_path))
    assert proc.returncode == 2 and "item must start with 'css:' or 'xpath:'" in proc.stderr


def test_unloadable_model_fails_before_fetching_anything(tmp_path):
    bad_model = tmp_path / "model"
    bad_model.mkdir()
    (bad_model / "config.json").write_text("{}", encoding="utf-8")
    db_file = tmp_path / "g.db"
    proc = run_cli("crawl", "weibo", "-k", "征信修复", "--base-url", "http://127.0.0.1:9", "--db", str(db_file),
                   "--model", str(bad_model))
    assert proc.returncode == 2
    assert "cannot load the model" in proc.stderr
    assert not db_file.exists()  # no crawl run was even recorded
