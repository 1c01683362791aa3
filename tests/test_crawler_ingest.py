"""The classify-store-enqueue batches behind the crawl pipeline and imports, on real SQLite files."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT

from crawler.ingest import Ingestor, make_classifier
from crawler.replica.server import Post, ReplicaServer
from takedown import store

AD = "停息挂账 协商还款 法务团队一对一，电话 13800138000"
CHAT = "分享一下我的理财心得：量入为出，别碰网贷"


def post(post_id: str, text: str) -> dict:
    return {"platform": "weibo", "post_id": post_id, "text": text, "author_id": "9", "author_name": "u",
            "url": f"https://m.weibo.cn/detail/{post_id}"}


def test_recrawled_unchanged_posts_are_not_classified_again(db_path):
    db = store.open_db(db_path)
    ingestor = Ingestor(db, make_classifier(model="none"))
    first = ingestor.process([post("1", AD), post("2", CHAT), post("3", CHAT)])
    hit_tier = db.execute("SELECT tier FROM detections WHERE post_id = '1'").fetchone()[0]
    assert hit_tier in ("level1", "level2")
    assert (first["new"], first["unchanged"], first["enqueued"], first[f"tier/{hit_tier}"]) == (3, 0, 1, 1)
    db.execute("UPDATE detections SET classified_at = 'earlier'")
    # Post 3 was edited into an ad; 1 and 2 are unchanged and keep their detections.
    again = ingestor.process([post("1", AD), post("2", CHAT), post("3", AD.replace("13800138000", "13911112222"))])
    assert (again["new"], again["unchanged"], again["stored"], again["enqueued"]) == (0, 2, 3, 1)
    assert again[f"tier/{hit_tier}"] == 2 and again["tier/none"] == 1  # stored tiers still counted
    classified = dict(db.execute("SELECT post_id, classified_at FROM detections").fetchall())
    assert classified["1"] == classified["2"] == "earlier" != classified["3"]
    assert [h[1] for h in ingestor.hits] == ["1", "1", "3"]  # hits of each batch, for evidence capture
    assert db.execute("SELECT count(*) FROM queue").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM posts").fetchone()[0] == 3
    # Detections by another classifier (e.g. an older model) are redone.
    db.execute("UPDATE detections SET classifier = 'older-model' WHERE post_id = '1'")
    assert ingestor.process([post("1", AD)])["unchanged"] == 0
    assert db.execute("SELECT classifier FROM detections WHERE post_id = '1'").fetchone()[0] == ingestor.classifier.name


@pytest.mark.parametrize("worker", ["process", "thread"])
def test_pipeline_under_back_pressure_stores_every_post(db_path, tmp_path, worker):
    """Tiny batches and one pending batch: the pipeline waits on its worker and loses nothing; counts
    and hits come back from a worker process too. The script has no ``__main__`` guard: the worker
    process must not run it again."""
    posts = [Post("weibo", str(5_200_000_000_000_000 + n), str(100 + n % 7), f"用户{n % 7}",
                  (AD if n % 3 == 0 else CHAT) + f" {n}", 1_700_000_000 - n * 60, ["征信修复"]) for n in range(120)]
    script = tmp_path / "crawl_script.py"
    script.write_text(textwrap.dedent("""
        import json, sys
        from crawler.run import CrawlJob, crawl
        (r,) = crawl([CrawlJob("weibo", ["征信修复"], max_pages=50, base_url=sys.argv[1])], sys.argv[2],
                     overrides={"LOG_LEVEL": "ERROR", "GRAYSCAN_MODEL": "none", "GRAYSCAN_BATCH_SIZE": 3,
                                "GRAYSCAN_PENDING_BATCHES": 1, "GRAYSCAN_WORKER": sys.argv[3]})
        print(json.dumps({k: v for k, v in r.stats.items() if isinstance(v, int)} | {"hits": r.stats["grayscan/hits"]}))
    """), encoding="utf-8")
    with ReplicaServer(posts) as server:
        proc = subprocess.run([sys.executable, str(script), server.base_url, str(db_path), worker], capture_output=True,
                              text=True, cwd=ROOT, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(proc.stdout.splitlines()) == 1, proc.stdout  # the crawl ran once
    stats = json.loads(proc.stdout.splitlines()[-1])
    assert stats["grayscan/stored"] == stats["grayscan/new"] == stats["item_scraped_count"] == 120
    assert stats["grayscan/enqueued"] == 40 and "grayscan/store_errors" not in stats
    assert len(stats["hits"]) == 40 and all(url.startswith("https://m.weibo.cn/") for _p, _id, url in stats["hits"])
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*), count(DISTINCT post_id) FROM posts").fetchone() == (120, 120)
    assert conn.execute("SELECT count(*) FROM queue").fetchone()[0] == 40
