"""Item pipelines: every scraped post goes through ``Ingestor`` (classify, store, enqueue) in batches."""

from __future__ import annotations

from takedown import store

from .ingest import Ingestor, make_classifier


class StorePipeline:
    """Feeds items to an ``Ingestor``; the buffer is flushed when the spider closes, so an
    interrupted crawl keeps what it fetched. Counts land in the crawl stats as ``grayscan/*``."""

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.db_path = settings.get("GRAYSCAN_DB", store.DEFAULT_DB)
        self.batch_size = settings.getint("GRAYSCAN_BATCH_SIZE", 100)
        self.run_id = settings.getint("GRAYSCAN_RUN_ID") or None
        self.lexicon_files = settings.getlist("GRAYSCAN_LEXICON_FILES")
        self.model = settings.get("GRAYSCAN_MODEL")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        self.db = store.open_db(self.db_path)
        self.ingestor = Ingestor(self.db, make_classifier(self.lexicon_files, self.model), run_id=self.run_id,
                                 batch_size=self.batch_size)

    def process_item(self, item, spider=None):
        before = dict(self.ingestor.counts)
        self.ingestor.add(item)
        self._publish(before)
        return item

    def close_spider(self, spider=None):
        before = dict(self.ingestor.counts)
        self.ingestor.flush()
        self._publish(before)
        self.crawler.stats.set_value("grayscan/hits", [list(h) for h in self.ingestor.hits])
        self.db.close()

    def _publish(self, before: dict[str, int]) -> None:
        for key, value in self.ingestor.counts.items():
            if value != before.get(key, 0):
                self.crawler.stats.inc_value(f"grayscan/{key}", value - before.get(key, 0))
