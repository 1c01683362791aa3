"""Item pipelines: every scraped post goes through ``Ingestor`` (classify, store, enqueue) in batches.

Batches are processed on one worker thread while Scrapy keeps downloading and parsing: model
inference and SQLite release the GIL, so on two cores fetching and classifying overlap.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor

from takedown import store

from .ingest import Ingestor, make_classifier

logger = logging.getLogger(__name__)


@functools.cache
def _worker() -> ThreadPoolExecutor:
    """The one thread that classifies and writes for every crawl of this process: batches never
    run concurrently, so crawls sharing a database file (and the classifier) do not contend."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="grayscan-ingest")


class StorePipeline:
    """Feeds items to an ``Ingestor`` on the worker thread. At most ``GRAYSCAN_PENDING_BATCHES``
    full batches wait there; beyond that the pipeline waits for the oldest, which holds Scrapy back
    (its item slot fills) instead of piling up posts in memory. When the spider closes, for any
    reason, the last partial batch is written and every pending batch awaited, so an interrupted
    crawl keeps what it fetched. Counts land in the crawl stats as ``grayscan/*``."""

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.db_path = settings.get("GRAYSCAN_DB", store.DEFAULT_DB)
        self.batch_size = settings.getint("GRAYSCAN_BATCH_SIZE", 100)
        self.max_pending = settings.getint("GRAYSCAN_PENDING_BATCHES", 2)
        self.run_id = settings.getint("GRAYSCAN_RUN_ID") or None
        self.lexicon_files = settings.getlist("GRAYSCAN_LEXICON_FILES")
        self.model = settings.get("GRAYSCAN_MODEL")
        self.buffer: list[dict] = []
        self.pending: deque[asyncio.Future] = deque()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def open_spider(self, spider=None):
        classifier = make_classifier(self.lexicon_files, self.model)
        # SQLite connections belong to the thread that opened them: open it on the worker.
        self.ingestor = await self._on_worker(lambda: Ingestor(store.open_db(self.db_path), classifier,
                                                               run_id=self.run_id, batch_size=self.batch_size))

    async def process_item(self, item, spider=None):
        self.buffer.append(dict(item))
        if len(self.buffer) >= self.batch_size:
            self._submit()
            while len(self.pending) > self.max_pending:
                await self._settle_oldest()
        return item

    async def close_spider(self, spider=None):
        self._submit()
        while self.pending:
            await self._settle_oldest()
        self.crawler.stats.set_value("grayscan/hits", [list(h) for h in self.ingestor.hits])
        await self._on_worker(self.ingestor.db.close)

    def _submit(self) -> None:
        if self.buffer:
            batch, self.buffer = self.buffer, []
            self.pending.append(self._on_worker(functools.partial(self.ingestor.process, batch)))

    async def _settle_oldest(self) -> None:
        """Wait for the oldest pending batch and publish its counts (or report that it failed)."""
        batch = self.pending.popleft()
        try:
            counts: Counter[str] = await batch
        except Exception:
            self.crawler.stats.inc_value("grayscan/store_errors")
            logger.exception("a batch of posts could not be classified or stored")
            return
        for key, value in counts.items():
            self.crawler.stats.inc_value(f"grayscan/{key}", value)

    @staticmethod
    def _on_worker(call) -> asyncio.Future:
        future: Future = _worker().submit(call)
        return asyncio.wrap_future(future)
