"""Item pipelines: every scraped post goes through an ``Ingestor`` (classify, store, enqueue) in batches.

Batches run on one worker while Scrapy keeps downloading and parsing. ``GRAYSCAN_WORKER`` says which:
``"process"`` (a separate Python process: classification and SQL do not compete with Scrapy for the
GIL) or ``"thread"`` (in this process: no start-up, the classifier shared with the caller).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import sys
import uuid
from collections import deque
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor

from scrapy.settings import BaseSettings

from takedown import store

from . import ingest

logger = logging.getLogger(__name__)

#: ``GRAYSCAN_WORKER`` values.
WORKER_KINDS = ("process", "thread")

_workers: dict[str, Executor] = {}


def start_worker(settings: BaseSettings) -> Executor:
    """The one worker of ``GRAYSCAN_WORKER``'s kind that classifies and writes for every crawl of this
    process, started on first use. Batches never run concurrently, so crawls sharing a database file
    (and the classifier) do not contend. The worker loads the classifier named by the settings and the
    full-text segmenter as soon as it starts, while the first requests are fetched."""
    kind = settings.get("GRAYSCAN_WORKER", "process")
    if kind not in WORKER_KINDS:
        raise ValueError(f"GRAYSCAN_WORKER must be one of {', '.join(WORKER_KINDS)}, not {kind!r}")
    if kind not in _workers:
        config = (tuple(settings.getlist("GRAYSCAN_LEXICON_FILES")), settings.get("GRAYSCAN_MODEL"))
        if kind == "thread":
            worker: Executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grayscan-ingest",
                                                  initializer=ingest.start_worker, initargs=(*config, None))
        else:
            # spawn: forking a process whose Twisted and torch threads are running is unsafe.
            worker = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=ingest.start_worker_process,
                                         initargs=(*config, settings.getint("GRAYSCAN_WORKER_TORCH_THREADS") or None))
        with _main_module_hidden():
            worker.submit(int)  # pools start their worker on the first call: start loading now
        _workers[kind] = worker
    return _workers[kind]


@contextlib.contextmanager
def _main_module_hidden():
    """A spawned process runs the caller's main script again unless it has no file: a script without
    an ``if __name__ == "__main__"`` guard would crawl again, ``python -`` has no file to run. The
    worker needs nothing from it."""
    main = sys.modules["__main__"]
    saved = {name: getattr(main, name) for name in ("__file__", "__spec__") if hasattr(main, name)}
    main.__spec__ = None
    main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        main.__dict__.update(saved)


class StorePipeline:
    """Feeds items to the worker in batches. At most ``GRAYSCAN_PENDING_BATCHES`` full batches wait
    there; beyond that the pipeline waits for the oldest, which holds Scrapy back (its item slot fills)
    instead of piling up posts in memory. When the spider closes, for any reason, the last partial batch
    is written and every pending batch awaited, so an interrupted crawl keeps what it fetched. Counts
    come back from the worker per batch and land in the crawl stats as ``grayscan/*``."""

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.db_path = settings.get("GRAYSCAN_DB", store.DEFAULT_DB)
        self.batch_size = settings.getint("GRAYSCAN_BATCH_SIZE", 250)
        self.max_pending = settings.getint("GRAYSCAN_PENDING_BATCHES", 2)
        self.run_id = settings.getint("GRAYSCAN_RUN_ID") or None
        self.lexicon_files = tuple(settings.getlist("GRAYSCAN_LEXICON_FILES"))
        self.model = settings.get("GRAYSCAN_MODEL")
        self.key = uuid.uuid4().hex  # this crawl's Ingestor on the worker
        self.buffer: list[dict] = []
        self.pending: deque[asyncio.Future] = deque()
        self.hits: list[list[str]] = []

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def open_spider(self, spider=None):
        self.worker = start_worker(self.crawler.settings)
        # The database is opened on the worker (a SQLite connection belongs to its thread). Not awaited:
        # the first batch queues behind it while Scrapy fetches.
        self.opened = self._on_worker(ingest.open_ingestor, self.key, self.db_path, self.lexicon_files, self.model,
                                      self.run_id, self.batch_size)
        self.opened.add_done_callback(self._stop_if_unusable)

    def _stop_if_unusable(self, opened: asyncio.Future) -> None:
        """Fetching on while nothing can be stored would lose every page: stop the crawl instead."""
        if opened.cancelled() or opened.exception() is None:
            return
        logger.error("the classifier or the database %s could not be opened: %s; stopping the crawl",
                     self.db_path, opened.exception())
        asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="store_failed"))

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
        with contextlib.suppress(Exception):  # reported by _stop_if_unusable
            await self.opened
        self.crawler.stats.set_value("grayscan/hits", self.hits)
        with contextlib.suppress(Exception):  # a dead worker has nothing left to close
            await self._on_worker(ingest.close_ingestor, self.key)

    def _submit(self) -> None:
        if self.buffer:
            batch, self.buffer = self.buffer, []
            self.pending.append(self._on_worker(ingest.ingest_batch, self.key, batch))

    async def _settle_oldest(self) -> None:
        """Wait for the oldest pending batch and publish its counts and hits (or report that it failed)."""
        batch = self.pending.popleft()
        try:
            counts, hits = await batch
        except Exception:
            self.crawler.stats.inc_value("grayscan/store_errors")
            logger.exception("a batch of posts could not be classified or stored")
            return
        for key, value in counts.items():
            self.crawler.stats.inc_value(f"grayscan/{key}", value)
        self.hits.extend(list(h) for h in hits)

    def _on_worker(self, call, *args) -> asyncio.Future:
        try:
            return asyncio.wrap_future(self.worker.submit(call, *args))
        except BrokenExecutor as exc:  # the worker died (e.g. the model could not load; its error is above)
            failed = asyncio.get_running_loop().create_future()
            failed.set_exception(exc)
            return failed
