"""Queue page of ``grayscan serve`` over 100,000 queue items: median HTTP time beside the bare SQL.

Builds a database of N queued posts (5 platforms, 2 tiers, mixed statuses, 5,000 accounts, 60 days),
starts ``grayscan serve`` on it as a subprocess on a free loopback port, and times each page over one
keep-alive connection (cookie kept) against the same ``takedown.queue.select`` query run directly on
SQLite. Target: every page's median under 300 ms.

    python benchmarks/serve_bench.py [--items 100000] [--rounds 21] [--db PATH]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from takedown import queue as q  # noqa: E402
from takedown.store import open_db  # noqa: E402

PLATFORMS = ["weibo", "bilibili", "douyin", "kuaishou", "xiaohongshu"]
TERMS = ["停息挂账", "征信修复", "反催收", "代理退保", "债务优化", "逾期铲单", "法务团队", "个性化分期"]
STATUSES = ["detected"] * 14 + ["accepted"] * 3 + ["rejected"] * 2 + ["submitted"]
TARGET_MS = 300


def build(path: Path, n: int, seed: int = 7) -> None:
    """A database of ``n`` queued posts written straight through SQL (the store's schema, its triggers)."""
    rng = random.Random(seed)
    db = open_db(path)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    posts, detections, queue, events = [], [], [], []
    for i in range(1, n + 1):
        platform = rng.choice(PLATFORMS)
        term = rng.choice(TERMS)
        text = f"专业{term}，上岸不是梦，联系V：gs{i:06d}，名额有限 #{i}"
        author = f"acct{rng.randrange(5000)}"
        at = (start + timedelta(seconds=i * 60 * 60 * 24 * 60 // n)).replace(microsecond=0).isoformat()
        tier = rng.choice(["level1", "level2"])
        posts.append((platform, str(i), f"https://example.invalid/{platform}/{i}", text, author, f"昵称{author}", at, at))
        matches = json.dumps([{"term": term, "category": "level1_term", "start": 2, "end": 2 + len(term)}],
                             ensure_ascii=False)
        detections.append((platform, str(i), tier, 0.9, json.dumps([f"{tier}: {term}"], ensure_ascii=False), matches))
        status = rng.choice(STATUSES)
        queue.append((i, platform, str(i), tier, status, at, at))
        events.append((i, None, "detected", "grayscan", at))
        if status != "detected":
            events.append((i, "detected", "accepted" if status == "submitted" else status, "bench", at))
    with db.atomic():
        db.conn.executemany("INSERT INTO posts (platform, post_id, url, text, author_id, author_name, published_at, "
                            "crawled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", posts)
        db.conn.executemany("INSERT INTO detections (platform, post_id, tier, score, reasons, matches) "
                            "VALUES (?, ?, ?, ?, ?, ?)", detections)
        db.conn.executemany("INSERT INTO queue (id, platform, post_id, tier, status, created_at, updated_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)", queue)
        db.conn.executemany("INSERT INTO queue_events (queue_id, from_status, to_status, actor, at) "
                            "VALUES (?, ?, ?, ?, ?)", events)
    db.execute("ANALYZE")
    db.close()


def median_ms(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--db", type=Path, help="Reuse or create this database file (default: a temporary one).")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "bench.db"
    if not path.exists():
        t0 = time.perf_counter()
        build(path, args.items)
        print(f"built {args.items:,} queue items in {time.perf_counter() - t0:.1f} s → {path}")
    db = open_db(path)
    total = db.execute("SELECT count(*) FROM queue").fetchone()[0]
    deep = db.execute("SELECT id FROM queue ORDER BY id LIMIT 1 OFFSET ?", [total // 50]).fetchone()[0]

    cases = [
        ("first page, unreviewed", q.Filters(status="detected"), {}),
        ("first page, platform+tier+status", q.Filters(status="detected", platform="weibo", tier="level1"), {}),
        ("deep page, platform+tier+status", q.Filters(status="detected", platform="weibo", tier="level1"),
         {"before": deep}),
        ("deep page, term filter", q.Filters(term="征信修复"), {"before": deep}),
        ("term matching nothing", q.Filters(term="无此词"), {}),
        ("first page, account filter", q.Filters(account="acct42"), {}),
        ("first page, since date", q.Filters(since="2026-11-15"), {}),
    ]

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    env.pop("GRAYSCAN_PASSWORD", None)
    server = subprocess.Popen([sys.executable, "-m", "grayscan", "serve", "--db", str(path), "--port", "0",
                               "--user", "bench"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = server.stderr.readline()
        host, port = re.search(r"http://(127\.0\.0\.1):(\d+)", line).groups()
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        cookie = ""

        def get(url: str) -> bytes:
            nonlocal cookie
            conn.request("GET", url, headers={"Cookie": cookie} if cookie else {})
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200, (url, response.status, body[:300])
            cookie = (response.getheader("set-cookie") or cookie).split(";")[0]
            return body

        print(f"{total:,} queue items; deep pages start below id {deep:,} (~{(total - deep) // 50:,} pages of 50 in); "
              f"median of {args.rounds} runs")
        print(f"{'page':36} {'HTTP page':>10} {'bare SQL':>10} {'ratio':>6} {'rows':>5}")
        worst = 0.0
        for name, filters, paging in cases:
            url = "/queue?" + urlencode({k: v for k, v in {**{
                "status": filters.status, "platform": filters.platform, "tier": filters.tier, "term": filters.term,
                "account": filters.account, "since": filters.since}, **paging}.items() if v})
            rows = q.select(db, filters, limit=51, **paging)
            body = get(url)  # warm both
            sql_ms = median_ms(lambda f=filters, p=paging: q.select(db, f, limit=51, **p), args.rounds)
            page_ms = median_ms(lambda u=url: get(u), args.rounds)
            shown = body.count(b"<tr data-item=")
            assert shown == min(len(rows), 50) and (shown or b"No items match" in body), (name, shown, len(rows))
            worst = max(worst, page_ms)
            print(f"{name:36} {page_ms:8.1f}ms {sql_ms:8.1f}ms {page_ms / max(sql_ms, 0.01):5.1f}x {shown:5}")
        print(f"slowest page median {worst:.1f} ms: {'within' if worst < TARGET_MS else 'OVER'} the {TARGET_MS} ms target")
    finally:
        server.terminate()
        server.wait(timeout=20)
        tmp.cleanup()


if __name__ == "__main__":
    main()
