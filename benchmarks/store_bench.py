"""Store ingest throughput: ``store.upsert_posts`` (with the jieba-segmented FTS column and its
triggers) against plain sqlite-utils ``insert_all`` of the same rows into an unindexed table, and
``upsert_posts`` of the same posts again (a re-crawl: unchanged text is neither re-segmented nor
re-indexed).

Both run in one process over the same synthetic posts (generated here from templates, about 150
characters each), in batches as the crawler pipeline writes them, each into a fresh WAL database
file, so the printed ratio is the cost of the research index on ingest.

    python benchmarks/store_bench.py                  # 5,000 posts, batches of 100
    python benchmarks/store_bench.py --posts 20000 --batch 500
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import sqlite_utils

from lexicon.segment import tokenizer
from takedown import store

PHRASES = [
    "专业停息挂账", "征信修复", "债务优化上岸", "代理退保全额退款", "反催收当天停催", "个性化分期", "无视征信贷款秒批",
    "今天天气不错", "下班路上买了点水果", "信用卡逾期怎么办", "网贷协商还款", "律师团队免费咨询", "家里人也不知道",
    "名额有限先到先得", "内部渠道操作", "不成功不收费", "银杏叶黄了", "周末去公园散步",
]


def synthetic_posts(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    posts = []
    for i in range(count):
        text = "，".join(rng.choice(PHRASES) for _ in range(10)) + f"，电话138{rng.randrange(10**8):08d}"
        posts.append({"platform": rng.choice(["weibo", "bilibili", "douyin"]), "post_id": str(10**9 + i),
                      "url": f"https://m.weibo.cn/detail/{10**9 + i}", "text": text, "author_id": str(rng.randrange(5000)),
                      "author_name": f"用户{rng.randrange(5000)}", "published_at": "2026-11-20T10:00:00+08:00",
                      "keyword": "征信修复"})
    return posts


def batches(rows: list[dict], size: int):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def time_store(posts: list[dict], size: int, path: Path) -> float:
    db = store.open_db(path)
    started = time.perf_counter()
    for batch in batches(posts, size):
        store.upsert_posts(db, batch)
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def time_plain(posts: list[dict], size: int, path: Path) -> float:
    db = sqlite_utils.Database(path)
    db.enable_wal()
    rows = [{key: post.get(key) for key in store.POST_FIELDS} for post in posts]
    started = time.perf_counter()
    for batch in batches(rows, size):
        db["posts"].insert_all(batch, pk=("platform", "post_id"))
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100, help="rows per write (the pipeline's batch size)")
    args = parser.parse_args()
    posts = synthetic_posts(args.posts)
    tokenizer().lcut("预热")  # jieba loads its dictionary once per process; not part of ingest
    with tempfile.TemporaryDirectory() as tmp:
        plain = time_plain(posts, args.batch, Path(tmp) / "plain.db")
        ours = time_store(posts, args.batch, Path(tmp) / "store.db")
        again = time_store(posts, args.batch, Path(tmp) / "store.db")  # a re-crawl: same posts, same text
        db = store.open_db(Path(tmp) / "store.db")
        hits = db.execute("SELECT count(*) FROM posts_fts WHERE posts_fts MATCH '贷款'").fetchone()[0]
        size = {name: (Path(tmp) / name).stat().st_size + (Path(tmp) / (name + "-wal")).stat().st_size
                if (Path(tmp) / (name + "-wal")).exists() else (Path(tmp) / name).stat().st_size
                for name in ("plain.db", "store.db")}
    chars = sum(len(p["text"]) for p in posts)
    print(f"{args.posts} posts, {chars / args.posts:.0f} chars each, batches of {args.batch}")
    print(f"  plain sqlite-utils insert_all : {args.posts / plain:10,.0f} posts/s  ({size['plain.db'] / 1e6:.1f} MB)")
    print(f"  store.upsert_posts (FTS+jieba): {args.posts / ours:10,.0f} posts/s  ({size['store.db'] / 1e6:.1f} MB)")
    print(f"  store.upsert_posts, re-crawl  : {args.posts / again:10,.0f} posts/s  (unchanged text: not re-segmented)")
    print(f"  ratio plain / store: {ours / plain:.1f}x slower; FTS check: 贷款 → {hits} posts")


if __name__ == "__main__":
    main()
