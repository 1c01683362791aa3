"""The item stream's one consumer: classify and store what the crawl workers found (``grayscan ingest``).

Workers append each post to the Redis stream ``grayscan:items`` (crawler/frontier.py) and never touch
SQLite. ``StreamIngest`` reads it as consumer group ``ingest`` and, per batch: classifies, upserts and
queues through ``crawler.ingest.Ingestor`` (one SQLite transaction), then ``XACK``s and deletes exactly
the entries of that batch. A consumer killed before the commit leaves its entries pending: restarted
under the same name it reads them again first (``XREADGROUP … 0``); another consumer takes them over
with ``XAUTOCLAIM`` once they have been idle for ``claim_after`` seconds. A consumer killed after the
commit but before the ``XACK`` stores the batch again on restart — an upsert keyed by (platform,
post_id) of the same rows, so nothing is stored twice (the posts count as unchanged).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import redis

from takedown import store

from .frontier import ITEM_STREAM, Frontier
from .ingest import Ingestor, make_classifier

logger = logging.getLogger(__name__)

#: The consumer group of ``grayscan ingest``.
GROUP = "ingest"
#: Consecutive failures of the same batch before the consumer gives up (its entries stay pending).
MAX_BATCH_FAILURES = 3

Entry = tuple[str, dict[str, str] | None]


class IngestError(RuntimeError):
    """A batch kept failing; its entries are still pending in the stream."""


def default_consumer() -> str:
    """One name per host: a consumer restarted on the same host resumes its own pending entries at once."""
    return f"ingest-{socket.gethostname()}"


class StreamIngest:
    """Reads the item stream in batches and stores them through the crawl pipeline's ``Ingestor``.

    ``after_store(batch_number)`` runs after a batch is committed and before it is acknowledged
    (tests kill the process there)."""

    def __init__(self, frontier_url: str, db_path: str, *, lexicon_files: Iterable[str] = (), model: str | None = None,
                 consumer: str | None = None, batch_size: int = 250, claim_after: float = 60.0, block: float = 1.0,
                 after_store: Callable[[int], None] | None = None):
        self.frontier = Frontier(frontier_url)
        self.redis = self.frontier.redis
        self.consumer = consumer or default_consumer()
        self.batch_size = batch_size
        self.claim_after_ms = int(claim_after * 1000)
        self.block_ms = max(1, int(block * 1000))
        self.after_store = after_store
        self.db = store.open_db(db_path)
        self.ingestor = Ingestor(self.db, make_classifier(tuple(lexicon_files), model), batch_size=batch_size)
        self.own_pending = True  # first re-read what this consumer took before a crash
        self.batches = 0
        self.bad = 0
        try:
            self.redis.xgroup_create(ITEM_STREAM, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    @property
    def counts(self) -> Counter[str]:
        return self.ingestor.counts

    def close(self) -> None:
        self.db.close()

    def run(self, *, until_done: bool = False, stop: threading.Event | None = None,
            on_batch: Callable[[Counter[str]], None] | None = None) -> Counter[str]:
        """Ingest until ``stop`` is set or, with ``until_done``, until every crawl job is done and the
        stream is empty. Returns the counts (stored, new, unchanged, enqueued, tier/*)."""
        failures = 0
        while not (stop and stop.is_set()):
            entries = self.read()
            if not entries:
                if until_done and self.drained():
                    break
                continue
            try:
                counts = self.store(entries)
            except Exception as exc:  # the transaction rolled back; the entries stay pending
                failures += 1
                self.own_pending = True
                logger.error("a batch of %d posts could not be stored (%s); %s", len(entries), exc,
                             "giving up" if failures >= MAX_BATCH_FAILURES else "retrying")
                if failures >= MAX_BATCH_FAILURES:
                    raise IngestError(f"{len(entries)} posts could not be stored: {exc}; they stay in the "
                                      f"stream, pending for consumer {self.consumer}") from exc
                time.sleep(1)
                continue
            failures = 0
            if on_batch:
                on_batch(counts)
        return self.counts

    def read(self) -> list[Entry]:
        """The next batch: this consumer's own pending entries, then other consumers' stale ones, then new ones."""
        if self.own_pending:
            entries = self._entries(self.redis.xreadgroup(GROUP, self.consumer, {ITEM_STREAM: "0"},
                                                          count=self.batch_size))
            if entries:
                return entries
            self.own_pending = False
        claimed = self.redis.xautoclaim(ITEM_STREAM, GROUP, self.consumer, self.claim_after_ms, "0-0",
                                        count=self.batch_size)
        if claimed[1]:
            logger.warning("took over %d entries of a consumer that stopped", len(claimed[1]))
            return list(claimed[1])
        return self._entries(self.redis.xreadgroup(GROUP, self.consumer, {ITEM_STREAM: ">"}, count=self.batch_size,
                                                   block=self.block_ms))

    @staticmethod
    def _entries(reply: Any) -> list[Entry]:
        return list(reply[0][1]) if reply else []

    def store(self, entries: list[Entry]) -> Counter[str]:
        """Store one batch in one transaction, then acknowledge (and delete) exactly its entries."""
        posts = []
        for entry_id, fields in entries:
            try:
                posts.append(json.loads((fields or {})["post"]))
            except (KeyError, TypeError, ValueError):
                self.bad += 1
                logger.error("skipping stream entry %s: not a post (%.200r)", entry_id, fields)
        counts = self.ingestor.process(posts)
        self.batches += 1
        if self.after_store:
            self.after_store(self.batches)
        ids = [entry_id for entry_id, _ in entries]
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(ITEM_STREAM, GROUP, *ids)
            pipe.xdel(ITEM_STREAM, *ids)
            pipe.execute()
        return counts

    def drained(self) -> bool:
        """Whether every crawl job is done and no entry is left (pending or new)."""
        if self.redis.xlen(ITEM_STREAM):
            return False
        return all(self.frontier.snapshot(platform).settled for platform in self.frontier.jobs())
