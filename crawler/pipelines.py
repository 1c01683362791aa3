"""Item pipelines: classify through the classifier's public API, then store and enqueue in batches."""

from __future__ import annotations

from classifier import Classifier
from takedown import store
from takedown.queue import enqueue


class StorePipeline:
    """Buffers items, then per batch: classify, upsert posts and accounts, save detections, enqueue hits.

    Batching keeps SQLite fast (one transaction per batch) and classification vectorized; the
    buffer is flushed when the spider closes, so an interrupted crawl keeps what it fetched.
    """

    def __init__(self, db_path: str, batch_size: int, run_id: int | None, lexicon_files: list[str]):
        self.db_path = db_path
        self.batch_size = batch_size
        self.run_id = run_id
        self.lexicon_files = lexicon_files
        self.buffer: list[dict] = []

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        pipeline = cls(
            settings.get("GRAYSCAN_DB", store.DEFAULT_DB),
            settings.getint("GRAYSCAN_BATCH_SIZE", 100),
            settings.getint("GRAYSCAN_RUN_ID") or None,
            settings.getlist("GRAYSCAN_LEXICON_FILES"),
        )
        pipeline.crawler = crawler
        return pipeline

    def open_spider(self, spider=None):
        self.db = store.open_db(self.db_path)
        self.classifier = Classifier(lexicon_files=self.lexicon_files)

    def process_item(self, item, spider=None):
        self.buffer.append(dict(item))
        if len(self.buffer) >= self.batch_size:
            self.flush()
        return item

    def close_spider(self, spider=None):
        self.flush()
        self.db.close()

    def flush(self) -> None:
        if not self.buffer:
            return
        # Within a batch the same post can arrive under two keywords; keep the last copy.
        posts = list({(i["platform"], i["post_id"]): i for i in self.buffer}.values())
        self.buffer = []
        for post in posts:
            post.setdefault("run_id", self.run_id)
        detections = [
            {"platform": p["platform"], "post_id": p["post_id"], "classifier": self.classifier.name, **d.to_dict()}
            for p, d in zip(posts, self.classifier.classify(p.get("text") or "" for p in posts), strict=True)
        ]
        accounts = [
            {"platform": p["platform"], "account_id": p.get("author_id"), "nickname": p.get("author_name"),
             "homepage_url": p.get("author_url")}
            for p in posts
        ]
        store.upsert_posts(self.db, posts)
        store.upsert_accounts(self.db, accounts)
        store.save_detections(self.db, detections)
        new = enqueue(self.db, detections)
        stats = self.crawler.stats
        stats.inc_value("grayscan/stored", len(posts))
        stats.inc_value("grayscan/enqueued", new)
        for d in detections:
            stats.inc_value(f"grayscan/tier/{d['tier']}")
