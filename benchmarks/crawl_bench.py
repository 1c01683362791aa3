"""Pages/min of plain Scrapy and of grayscan's full crawl pipeline (parse + classify + store), side by side.

Both crawl the same local Weibo replica (same pages, same concurrency, no delays), each in its own
process (the Twisted reactor starts once per process). The plain spider only decodes each JSON page
and follows the next page; grayscan's spider parses posts, classifies them and upserts them into a
fresh SQLite file. Target: grayscan keeps >= 50% of plain Scrapy's rate.

    python benchmarks/crawl_bench.py [--posts 3000] [--keywords 8] [--lexicon-only]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEXTS = [
    "征信修复找我们，专业团队，加V: zx_fix{n} 详聊，包上岸",
    "今天去银行咨询了征信的问题，工作人员说按时还款就好 {n}",
    "停息挂账 协商还款 法务团队一对一，电话 138{n:08d}",
    "分享一下我的理财心得：量入为出，别碰网贷 {n}",
]
SETTINGS = {"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
            "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "TELNETCONSOLE_ENABLED": False}


def bench_posts(count: int, keywords: list[str]):
    """Authored, synthetic posts spread over the benchmark keywords."""
    from crawler.replica.server import Post

    return [Post("weibo", str(5_100_000_000_000_000 + n), str(1000 + n % 97), f"用户{n % 97}",
                 TEXTS[n % len(TEXTS)].format(n=n), 1_700_000_000 - n * 60, [keywords[n % len(keywords)]])
            for n in range(count)]


def plain_worker(base_url: str, keywords: list[str], max_pages: int) -> dict:
    """A do-nothing Scrapy spider over the same search pages: decode JSON, follow the next page."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.weibo import search_url

    class PlainSpider(scrapy.Spider):
        name = "plain"

        async def start(self):
            for keyword in keywords:
                yield scrapy.Request(base_url + search_url(keyword, 1).split("m.weibo.cn", 1)[1],
                                     cb_kwargs={"keyword": keyword, "page": 1})

        def parse(self, response, keyword, page):
            payload = json.loads(response.text)
            if payload.get("ok") == 1 and page < max_pages:
                yield scrapy.Request(base_url + search_url(keyword, page + 1).split("m.weibo.cn", 1)[1],
                                     cb_kwargs={"keyword": keyword, "page": page + 1})

    process = CrawlerProcess(SETTINGS)
    crawler = process.create_crawler(PlainSpider)
    process.crawl(crawler)
    process.start()
    return dict(crawler.stats.get_stats())


def grayscan_worker(base_url: str, keywords: list[str], max_pages: int, lexicon_only: bool) -> dict:
    from crawler.run import CrawlJob, crawl

    db_path = Path(tempfile.mkdtemp()) / "bench.db"
    overrides = {**SETTINGS, "GRAYSCAN_MODEL": "none" if lexicon_only else None}
    (result,) = crawl([CrawlJob("weibo", keywords, max_pages=max_pages, base_url=base_url)], str(db_path),
                      overrides=overrides)
    return result.stats


def run_worker(kind: str, base_url: str, keywords: list[str], max_pages: int, lexicon_only: bool) -> dict:
    args = [sys.executable, __file__, "--worker", kind, "--base-url", base_url, "--max-pages", str(max_pages),
            "--keyword-list", json.dumps(keywords, ensure_ascii=False)] + (["--lexicon-only"] if lexicon_only else [])
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--keywords", type=int, default=8)
    parser.add_argument("--max-pages", type=int, default=1000)
    parser.add_argument("--lexicon-only", action="store_true", help="classify without the model")
    parser.add_argument("--worker", choices=["plain", "grayscan"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--keyword-list", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        keywords = json.loads(args.keyword_list)
        if args.worker == "plain":
            stats = plain_worker(args.base_url, keywords, args.max_pages)
        else:
            stats = grayscan_worker(args.base_url, keywords, args.max_pages, args.lexicon_only)
        print(json.dumps({"pages": stats.get("response_received_count", 0), "seconds": stats.get("elapsed_time_seconds"),
                          "items": stats.get("item_scraped_count", 0)}))
        return

    from crawler.replica.server import ReplicaServer

    keywords = [f"基准词{i}" for i in range(args.keywords)]
    with ReplicaServer(bench_posts(args.posts, keywords)) as server:
        started = time.perf_counter()
        plain = run_worker("plain", server.base_url, keywords, args.max_pages, args.lexicon_only)
        full = run_worker("grayscan", server.base_url, keywords, args.max_pages, args.lexicon_only)
    rates = {name: r["pages"] / r["seconds"] * 60 for name, r in (("plain", plain), ("grayscan", full))}
    print(f"posts={args.posts} keywords={args.keywords} classifier={'lexicon-only' if args.lexicon_only else 'bundled'}")
    print(f"{'run':<10}{'pages':>8}{'items':>8}{'seconds':>10}{'pages/min':>12}")
    for name, r in (("plain", plain), ("grayscan", full)):
        print(f"{name:<10}{r['pages']:>8}{r['items']:>8}{r['seconds']:>10.2f}{rates[name]:>12.0f}")
    ratio = rates["grayscan"] / rates["plain"]
    print(f"grayscan / plain = {ratio:.2f} (target >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'}); "
          f"total {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
