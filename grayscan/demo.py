"""The offline demo: a bundled replica site, a real Scrapy crawl, classification, queue and report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from crawler.replica.server import Post, ReplicaServer
from crawler.run import CrawlJob, crawl
from takedown import store
from takedown.report import DRAFT_STATUSES, ReportBatch, write_report

#: What the demo searches for on each platform of the replica.
DEMO_QUERIES = {
    "weibo": ["征信修复", "停息挂账", "债务优化", "反催收", "代理退保", "上岸", "修复"],
    "bilibili": ["征信修复", "停息挂账", "代理退保", "债务优化", "反催收", "投资退费", "上岸", "优化"],
}


def demo_posts() -> list[Post]:
    """The authored demo posts bundled with grayscan."""
    text = resources.files("grayscan").joinpath("data/demo_posts.jsonl").read_text(encoding="utf-8")
    return [Post.from_dict(json.loads(line)) for line in text.splitlines() if line.strip()]


def serve_replica(port: int) -> None:
    """Serve the demo replica on 127.0.0.1:``port`` until interrupted."""
    from .options import console, fail

    try:
        server = ReplicaServer(demo_posts(), port=port)
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; try --port 0")
    with server:
        console.print(f"demo replica serving on [bold]{server.base_url}[/bold] (Ctrl-C to stop); try:", soft_wrap=True)
        console.print(f"  grayscan crawl weibo -k 征信修复 --base-url {server.base_url} --db demo.db", soft_wrap=True)
        console.print(f"  grayscan crawl bilibili -k 停息挂账 --comments --base-url {server.base_url} --db demo.db", soft_wrap=True)
        try:
            server.thread.join()
        except KeyboardInterrupt:
            console.print("stopped")


@dataclass
class DemoResult:
    db_path: Path
    base_url: str
    crawled: dict[str, int]  # platform -> distinct posts stored
    stats: dict
    report: ReportBatch
    #: platform -> items the spider yielded; a post that several demo keywords find is yielded once per keyword
    found: dict[str, int]


def run_demo(db_path: str | Path, out_dir: str | Path, *, on_item=None, on_response=None) -> DemoResult:
    """Serve the replica on 127.0.0.1, crawl it, classify, store, queue and write a draft report."""
    posts = demo_posts()
    with ReplicaServer(posts) as server:
        jobs = [CrawlJob(p, q, max_pages=3, base_url=server.base_url) for p, q in DEMO_QUERIES.items()]
        results = crawl(
            jobs, str(db_path), overrides={"LOG_LEVEL": "ERROR"}, on_item=on_item, on_response=on_response
        )
    db = store.open_db(db_path)
    batch = write_report(db, out_dir, statuses=DRAFT_STATUSES, draft=True)
    return DemoResult(Path(db_path), server.base_url, {r.platform: r.stored for r in results}, store.stats(db), batch,
                      {r.platform: int(r.stats.get("item_scraped_count", 0)) for r in results})
