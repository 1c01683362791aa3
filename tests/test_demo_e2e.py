"""End to end: the offline demo crawls the bundled replica with Scrapy into a temp database."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import sqlite3

import pytest
from conftest import run_cli

from crawler.replica.server import ReplicaServer
from grayscan.demo import demo_posts


def counts(db_path) -> dict[str, int]:
    conn = sqlite3.connect(db_path)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("posts", "accounts", "detections", "contacts", "queue", "queue_events")}
    finally:
        conn.close()


def test_demo_end_to_end(tmp_path, db_path):
    out_dir = tmp_path / "out"
    proc = run_cli("demo", "--db", str(db_path), "--out", str(out_dir))
    assert proc.returncode == 0, proc.stderr
    assert "report (HTML)" in proc.stdout  # the summary is data: stdout (TSV when piped)

    expected = {(p.platform, p.id): p.expect for p in demo_posts()}
    conn = sqlite3.connect(db_path)
    tiers = dict(((platform, post_id), tier) for platform, post_id, tier in
                 conn.execute("SELECT platform, post_id, tier FROM detections"))
    platforms = {row[0] for row in conn.execute("SELECT DISTINCT platform FROM posts")}
    queued = {tuple(r) for r in conn.execute("SELECT platform, post_id FROM queue WHERE status = 'detected'")}
    homepages = [r[0] for r in conn.execute("SELECT homepage_url FROM accounts")]
    conn.close()

    assert platforms == {"weibo", "bilibili"}
    assert len(tiers) >= 30
    # Every crawled post is classified, and the lexicon baseline gets the authored demo right.
    wrong = {k: (expected[k], v) for k, v in tiers.items() if expected[k] != v}
    assert not wrong
    assert queued == {k for k, v in tiers.items() if v in ("level1", "level2")}
    assert all(h.startswith(("https://m.weibo.cn/u/", "https://space.bilibili.com/")) for h in homepages)

    html = next(out_dir.glob("report-*.html")).read_text(encoding="utf-8")
    with open(next(out_dir.glob("report-*.csv")), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert "征信修复" in html and "level1" in html
    assert {(r["platform"], r["post_id"]) for r in rows} == queued

    # Running the crawl again over the same site adds no duplicate posts, detections or queue rows.
    before = counts(db_path)
    proc = run_cli("demo", "--db", str(db_path), "--out", str(out_dir))
    assert proc.returncode == 0, proc.stderr
    assert counts(db_path) == before


@pytest.fixture
def replica():
    with ReplicaServer(demo_posts()) as server:
        yield server


def test_crawl_command_against_replica_is_idempotent(replica, db_path):
    args = ("crawl", "weibo", "-k", "征信修复", "-k", "停息挂账", "--base-url", replica.base_url,
            "--db", str(db_path))
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    n = counts(db_path)["posts"]
    assert n == sum(1 for p in demo_posts() if p.platform == "weibo"
                    and ({"征信修复", "停息挂账"} & set(p.keywords) or "征信修复" in p.text or "停息挂账" in p.text))
    second = run_cli(*args)
    assert second.returncode == 0, second.stderr
    assert counts(db_path)["posts"] == n
    conn = sqlite3.connect(db_path)
    runs = conn.execute("SELECT status, items FROM crawl_runs ORDER BY id").fetchall()
    conn.close()
    assert runs == [("finished", n), ("finished", n)]


def test_bilibili_signature_is_checked_by_the_replica(replica, db_path):
    proc = run_cli("crawl", "bilibili", "-k", "征信修复", "--base-url", replica.base_url, "--db", str(db_path))
    assert proc.returncode == 0, proc.stderr
    assert counts(db_path)["posts"] > 0  # a wrong w_rid would get code -403 and no posts


def test_demo_serve_replica_for_own_crawls(db_path):
    server = subprocess.Popen([sys.executable, "-m", "grayscan", "demo", "--serve", "--port", "0"],
                              stderr=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        first = server.stderr.readline()
        base_url = re.search(r"http://127\.0\.0\.1:\d+", first).group(0)
        proc = run_cli("crawl", "bilibili", "-k", "停息挂账", "--base-url", base_url, "--db", str(db_path))
        assert proc.returncode == 0, proc.stderr
        assert counts(db_path)["posts"] > 0
    finally:
        server.terminate()
        server.wait(timeout=10)
