"""Pages/min of 1, 2 and 4 frontier workers (plus the one ingest consumer) beside single-process ``grayscan crawl``.

Every run crawls the same local Weibo replica (``crawl_bench``'s synthetic posts: ~10 per search page,
spread over the benchmark keywords) on loopback, so there are no politeness delays and no rate limit,
and every run stores every post (lexicon-only classifier) into a fresh SQLite file. What is timed is
the whole job as a user runs it, processes started included:

- single: ``grayscan crawl weibo -k ... --max-pages N --lexicon-only`` — crawl, classify, store;
- N workers: the keywords pushed to a fresh Redis frontier (``redis-server`` started here), then N
  ``grayscan worker`` processes and one ``grayscan ingest --until-done`` started together; the time
  runs until the consumer has stored the last post.

Kinds are interleaved over ``--rounds`` and the median of each kind is reported, with its ratio to
the single-process crawl. On this 2-core machine the workers, the consumer, Redis and the replica
share the same two cores: the ratios say what the frontier costs and what extra processes buy when
the CPU is the limit; across machines, against real platforms, the limit is the platforms' rates.

    python benchmarks/frontier_bench.py                 # 10,000 posts, 3 rounds
    python benchmarks/frontier_bench.py --posts 3000 --rounds 1
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from crawl_bench import bench_posts  # noqa: E402

WORKER_COUNTS = (1, 2, 4)


def grayscan(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "grayscan", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8", cwd=ROOT)


def finish(proc: subprocess.Popen) -> str:
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{proc.args[3:5]} failed ({proc.returncode}):\n{err[-3000:]}")
    return err


def stored_posts(db_path: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    finally:
        conn.close()


def timed(server, run) -> dict:
    """``run()``'s pages and database, timed whole and from the replica's first request to the end."""
    del server.replica.served[:]
    started = time.monotonic()
    pages, db_path = run()
    ended = time.monotonic()
    first = server.replica.served[0][0]
    return {"pages": pages, "stored": stored_posts(db_path), "seconds": ended - started, "crawl": ended - first}


def single(server, keywords: list[str], max_pages: int, tmp: Path) -> dict:
    db_path = tmp / "single.db"
    keyword_args = [a for k in keywords for a in ("-k", k)]

    def run():
        log = finish(grayscan("crawl", "weibo", *keyword_args, "--max-pages", str(max_pages), "--lexicon-only",
                              "--base-url", server.base_url, "--db", str(db_path)))
        return int(re.search(r"run \d+: (\d+) pages", log).group(1)), db_path

    return timed(server, run)


def frontier(workers: int, redis_url: str, server, keywords: list[str], max_pages: int, tmp: Path) -> dict:
    import redis

    from crawler import distributed

    url = f"{redis_url}/0"
    redis.Redis.from_url(url).flushdb()
    distributed.push(url, "weibo", distributed.JobArgs(max_pages=max_pages), keywords=keywords)
    db_path = tmp / f"frontier-{workers}.db"

    def run():
        consumer = grayscan("ingest", "--from", url, "--db", str(db_path), "--lexicon-only", "--until-done")
        crawlers = [grayscan("worker", "--frontier", url, "--base-url", server.base_url) for _ in range(workers)]
        logs = [finish(c) for c in crawlers]
        finish(consumer)
        return sum(int(m) for log in logs for m in re.findall(r"weibo: (\d+) pages", log)), db_path

    return timed(server, run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--keywords", type=int, default=32, help="search chains: pages of one keyword follow each other")
    parser.add_argument("--max-pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs of each kind (median reported)")
    args = parser.parse_args()

    from crawler.replica.redis_server import LocalRedis
    from crawler.replica.server import ReplicaServer

    keywords = [f"基准词{i}" for i in range(args.keywords)]
    kinds = ["single"] + [f"{n} workers" for n in WORKER_COUNTS]
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    started = time.perf_counter()
    with ReplicaServer(bench_posts(args.posts, keywords)) as server, LocalRedis() as redis_server, \
            tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            runs["single"].append(single(server, keywords, args.max_pages, Path(tmp)))
            for n in WORKER_COUNTS:
                runs[f"{n} workers"].append(frontier(n, redis_server.url, server, keywords, args.max_pages, Path(tmp)))
    labels = {"single": "single-process grayscan crawl"} | {f"{n} workers": f"frontier: {n} worker{'s' * (n > 1)} + "
                                                            "ingest" for n in WORKER_COUNTS}
    median = {kind: sorted(r, key=lambda r: r["seconds"])[(len(r) - 1) // 2] for kind, r in runs.items()}
    rate = {kind: r["pages"] / r["seconds"] * 60 for kind, r in median.items()}
    crawl_rate = {kind: r["pages"] / r["crawl"] * 60 for kind, r in median.items()}
    pages = median["single"]["pages"]
    print(f"{args.posts} posts on {pages} Weibo search pages ({args.keywords} keywords), loopback replica, no delays, "
          f"lexicon-only, median of {args.rounds} interleaved rounds. job: process start to last post stored; "
          "crawl: replica's first request to last post stored")
    print(f"{'run':<34}{'pages':>6}{'stored':>7}{'job s':>7}{'pages/min':>10}{'ratio':>6}"
          f"{'crawl s':>8}{'pages/min':>10}{'ratio':>6}")
    for kind, r in median.items():
        if r["pages"] != pages or r["stored"] != args.posts:
            raise SystemExit(f"{labels[kind]} fetched {r['pages']} pages and stored {r['stored']} posts: not comparable")
        print(f"{labels[kind]:<34}{r['pages']:>6}{r['stored']:>7}{r['seconds']:>7.2f}{rate[kind]:>10,.0f}"
              f"{rate[kind] / rate['single']:>6.2f}{r['crawl']:>8.2f}{crawl_rate[kind]:>10,.0f}"
              f"{crawl_rate[kind] / crawl_rate['single']:>6.2f}")
    for kind in kinds[1:]:
        print(f"{labels[kind]}: {rate[kind] / rate['single']:.2f}x single-process pages/min (job), "
              f"{crawl_rate[kind] / crawl_rate['single']:.2f}x (crawl)")
    print(f"total {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
