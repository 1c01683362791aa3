"""Pages/min of plain Scrapy and of grayscan's full crawl pipeline (parse + classify + store), side by side.

All runs crawl the same local Weibo replica (same pages, same posts, same concurrency of 16, no delays),
each in its own process (the Twisted reactor starts once per process), started one after the other
and interleaved over ``--rounds`` so background load hits every kind alike; the median of each kind is
reported. The default 10,000 posts (about 1,000 pages) make each run last seconds, so the rate is the
steady state rather than the start and the last batches. The plain spider only decodes each JSON page
and follows the next page; grayscan's spider parses the posts, classifies them and writes posts,
accounts, detections, contacts, the full-text index and the takedown queue into a fresh SQLite file.
Classifier and segmenter loading happen before the crawl starts (the worker is awaited once ready)
and are not in the crawl time. Each grayscan kind runs with each pipeline worker (``GRAYSCAN_WORKER``:
a separate process or a thread). Target: grayscan keeps >= 50% of plain Scrapy's rate.

    python benchmarks/crawl_bench.py                  # both classifiers: bundled model and lexicon-only
    python benchmarks/crawl_bench.py --lexicon-only   # only the lexicon-only classifier
    python benchmarks/crawl_bench.py --workers thread # only the thread worker
    python benchmarks/crawl_bench.py --model DIR      # another model directory instead of the bundled one
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


def grayscan_worker(base_url: str, keywords: list[str], max_pages: int, model: str | None, worker: str) -> dict:
    from crawler.pipelines import start_worker
    from crawler.run import CrawlJob, crawl, crawl_settings

    overrides = {**SETTINGS, "GRAYSCAN_MODEL": model, "GRAYSCAN_WORKER": worker}
    # Crawl time is steady-state throughput: wait until the worker has loaded the classifier.
    start_worker(crawl_settings(overrides)).submit(int).result()
    with tempfile.TemporaryDirectory() as tmp:
        (result,) = crawl([CrawlJob("weibo", keywords, max_pages=max_pages, base_url=base_url)],
                          str(Path(tmp) / "bench.db"), overrides=overrides)
    return result.stats


def run_worker(kind: str, base_url: str, keywords: list[str], max_pages: int, model: str | None) -> dict:
    args = [sys.executable, __file__, "--worker", kind, "--base-url", base_url, "--max-pages", str(max_pages),
            "--keyword-list", json.dumps(keywords, ensure_ascii=False)] + (["--model", model] if model else [])
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.splitlines()[-1])


#: Run kinds: the plain baseline and grayscan with each classifier on each kind of pipeline worker.
KINDS = {"plain": "plain Scrapy"} | {
    f"{classifier}-{worker}": f"grayscan, {label}, {worker}"
    for classifier, label in (("lexicon", "lexicon-only"), ("model", "bundled model"))
    for worker in ("process", "thread")
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--keywords", type=int, default=8)
    parser.add_argument("--max-pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved runs of each kind (median reported)")
    parser.add_argument("--lexicon-only", action="store_true", help="skip the model runs")
    parser.add_argument("--model", help="a model directory to run instead of the bundled model")
    parser.add_argument("--workers", default="process,thread",
                        help="pipeline workers to compare (GRAYSCAN_WORKER values, comma-separated)")
    parser.add_argument("--worker", choices=list(KINDS), help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--keyword-list", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        keywords = json.loads(args.keyword_list)
        if args.worker == "plain":
            stats = plain_worker(args.base_url, keywords, args.max_pages)
        else:
            classifier, worker = args.worker.split("-")
            from crawler.ingest import LEXICON_ONLY

            model = LEXICON_ONLY if classifier == "lexicon" else args.model
            stats = grayscan_worker(args.base_url, keywords, args.max_pages, model, worker)
        print(json.dumps({"pages": stats.get("response_received_count", 0), "seconds": stats.get("elapsed_time_seconds"),
                          "items": stats.get("item_scraped_count", 0), "stored": stats.get("grayscan/stored", 0)}))
        return

    from crawler.replica.server import ReplicaServer

    kinds = ["plain"] + [f"{classifier}-{worker}" for classifier in ["lexicon"] + ([] if args.lexicon_only else ["model"])
                         for worker in args.workers.split(",")]
    keywords = [f"基准词{i}" for i in range(args.keywords)]
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    started = time.perf_counter()
    with ReplicaServer(bench_posts(args.posts, keywords)) as server:
        for _ in range(args.rounds):
            for kind in kinds:
                runs[kind].append(run_worker(kind, server.base_url, keywords, args.max_pages, args.model))
    # The run with the median time of each kind (the lower middle one for an even count).
    median = {kind: sorted(r, key=lambda r: r["seconds"])[(len(r) - 1) // 2] for kind, r in runs.items()}
    pages = median["plain"]["pages"]
    print(f"{args.posts} posts on {pages} pages ({args.posts / pages:.1f} posts/page; {args.keywords} keywords, "
          f"16 concurrent requests), median of {args.rounds} interleaved rounds")
    print(f"{'run':<36}{'pages':>7}{'stored':>8}{'seconds':>9}{'pages/min':>11}{'vs plain':>10}")
    rate = {kind: r["pages"] / r["seconds"] * 60 for kind, r in median.items()}
    for kind, r in median.items():
        if r["pages"] != pages or (kind != "plain" and r["stored"] != args.posts):
            raise SystemExit(f"{KINDS[kind]} fetched {r['pages']} pages and stored {r['stored']} posts: not comparable")
        print(f"{KINDS[kind]:<36}{r['pages']:>7}{r['stored']:>8}{r['seconds']:>9.2f}{rate[kind]:>11,.0f}"
              f"{rate[kind] / rate['plain']:>10.2f}")
    for kind in kinds[1:]:
        ratio = rate[kind] / rate["plain"]
        print(f"{KINDS[kind]}: {ratio:.2f} of plain Scrapy (target >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'})")
    print(f"total {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
