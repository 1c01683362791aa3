"""Page-signed platforms in real Chromium: the preflight before any request, and the browser route, where
the replica's own search page makes the signed API calls and grayscan reads their answers."""

from __future__ import annotations

from conftest import run_cli
from test_crawler_crawl import replica_posts, rows, run_jobs

from crawler.replica.server import ReplicaServer


def test_missing_signer_falls_back_to_the_browser_route(db_path):
    with ReplicaServer(replica_posts(), page_signers=False) as server:
        proc = run_cli("crawl", "xhs", "-k", "征信修复", "--lexicon-only", "--base-url", server.base_url,
                       "--db", str(db_path))
        searches = server.replica.requests["/api/sns/web/v1/search/notes"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "has no window._webmsxyw (the platform changed its page JS): falling back to the browser route" in proc.stderr
    # The page's own JS asked for both search pages (it signs them itself); note bodies came from their HTML pages.
    assert searches == 2
    expected = {p.id: p.text for p in replica_posts() if p.platform == "xhs"}
    stored = dict(rows(db_path, "SELECT post_id, text FROM posts WHERE platform = 'xhs'"))
    assert stored.keys() == expected.keys()
    assert all(stored[i].endswith(expected[i].split("|")[-1].split("\n")[-1]) for i in expected), stored


def test_douyin_and_zhihu_fall_back_too(db_path):
    with ReplicaServer(replica_posts(), page_signers=False) as server:
        jobs = [{"platform": p, "keywords": ["征信修复"], "base_url": server.base_url} for p in ("douyin", "zhihu")]
        results = run_jobs(db_path, jobs)
    for result in results:
        assert result["finish_reason"] == "finished" and "falling back to the browser route" in result["note"], result
        assert rows(db_path, "SELECT count(*) FROM posts WHERE platform = ?", result["platform"])[0][0] == 7


def test_browser_route_on_request(db_path):
    with ReplicaServer(replica_posts(), page_signers=False) as server:
        proc = run_cli("crawl", "kuaishou", "-k", "征信修复", "--via", "browser", "--lexicon-only",
                       "--base-url", server.base_url, "--db", str(db_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "falling back" not in proc.stderr  # asked for: no signer needed, none checked
    assert rows(db_path, "SELECT count(*) FROM posts WHERE platform = 'kuaishou'")[0][0] == 7
    assert "7 items stored (7 new)" in proc.stderr


def test_no_chromium_exit_2_naming_the_package(db_path, monkeypatch):
    monkeypatch.setenv("GRAYSCAN_CHROMIUM", "/nonexistent/chromium")
    with ReplicaServer(replica_posts()) as server:
        proc = run_cli("crawl", "xhs", "-k", "征信修复", "--lexicon-only", "--base-url", server.base_url,
                       "--db", str(db_path))
        assert sum(server.replica.requests.values()) == 0  # not a single request
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Chromium not found at /nonexistent/chromium: install it (apt-get install chromium)" in proc.stderr
    assert rows(db_path, "SELECT status FROM crawl_runs") == [("no_browser",)]


def test_browser_route_only_where_there_is_one(db_path):
    proc = run_cli("crawl", "weibo", "-k", "x", "--via", "browser", "--db", str(db_path))
    assert proc.returncode == 2 and "weibo has no browser route" in proc.stderr
