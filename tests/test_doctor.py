"""``grayscan doctor`` on this machine: real Chromium, fonts, database, cookie files and replica pages."""

from __future__ import annotations

from conftest import run_cli
from test_crawler_crawl import replica_posts, write_cookies

from crawler.replica.server import LOGIN_COOKIES, ReplicaServer


def test_doctor_ready_against_the_replica(db_path, tmp_path):
    cookies = write_cookies(tmp_path / "xhs.txt", "xhs", LOGIN_COOKIES["xhs"][1])
    with ReplicaServer(replica_posts()) as server:
        proc = run_cli("doctor", "--db", str(db_path), "--lexicon-only", "--cookies", f"xhs={cookies}",
                       "--base-url", server.base_url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ready to crawl" in proc.stderr
    for line in ("Chromium", "CJK fonts", "database", "weibo", "zhihu"):
        assert line in proc.stderr
    assert "page signer ok" in proc.stderr
    # Douyin and Kuaishou without cookies are warnings, with the fix on one line each.
    assert "warn douyin: no cookies: login cookies are likely needed" in proc.stderr
    assert "warn xhs" not in proc.stderr


def test_doctor_names_each_blocking_problem(db_path, tmp_path, monkeypatch):
    monkeypatch.setenv("GRAYSCAN_CHROMIUM", "/nonexistent/chromium")
    bad = tmp_path / "weibo.json"
    bad.write_text('[{"name": "SUB"}]', encoding="utf-8")
    proc = run_cli("doctor", "--db", str(tmp_path / "no-such-dir" / "x" / "g.db"), "--lexicon-only",
                   "--cookies", f"weibo={bad}")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "FAIL Chromium: Chromium not found at /nonexistent/chromium" in proc.stderr
    assert "apt-get install chromium" in proc.stderr
    assert "FAIL weibo:" in proc.stderr and "has no name/value" in proc.stderr
    assert "2 blocking problems" in proc.stderr
