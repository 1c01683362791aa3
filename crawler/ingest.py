"""Classify-store-enqueue for batches of posts: shared by the crawl pipeline and ``grayscan import``."""

from __future__ import annotations

import functools
import signal
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import sqlite_utils

from takedown import store
from takedown.queue import enqueue

if TYPE_CHECKING:  # imported when first needed: a crawl whose worker is a process never loads torch itself
    from classifier import Classifier


#: ``model`` value for the lexicon-only baseline (no model inference).
LEXICON_ONLY = "none"


def make_classifier(lexicon_files: Iterable[str] = (), model: str | None = None) -> Classifier:
    """The classifier: the bundled default, a model directory, or ``LEXICON_ONLY``.

    Loading the lexicon (and a model) takes seconds, so one instance is shared by every crawl in a
    process; ``crawler.run.crawl`` loads it before the crawls start."""
    return _classifier(tuple(str(f) for f in lexicon_files), model)


@functools.lru_cache(maxsize=4)
def _classifier(lexicon_files: tuple[str, ...], model: str | None) -> Classifier:
    from classifier import Classifier

    if model is None:
        return Classifier(lexicon_files=list(lexicon_files))
    return Classifier(lexicon_files=list(lexicon_files), model=None if model == LEXICON_ONLY else model)


class Ingestor:
    """Buffers posts and, per batch: classifies them, upserts posts and accounts, saves detections
    and contacts, and enqueues level1/level2 hits, in one transaction. ``counts`` tallies what happened.

    A post stored before with the same text and classified by the same classifier keeps its
    detection: it is neither classified nor enqueued again (its stored tier still counts)."""

    def __init__(self, db: sqlite_utils.Database, classifier: Classifier, *, run_id: int | None = None,
                 batch_size: int = 100):
        self.db = db
        self.classifier = classifier
        self.run_id = run_id
        self.batch_size = batch_size
        self.buffer: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.hits: list[tuple[str, str, str]] = []  # (platform, post_id, url) of level1/level2 posts

    def add(self, post: Mapping[str, Any]) -> None:
        self.buffer.append(dict(post))
        if len(self.buffer) >= self.batch_size:
            self.flush()

    def add_all(self, posts: Iterable[Mapping[str, Any]]) -> None:
        for post in posts:
            self.add(post)

    def flush(self) -> None:
        batch, self.buffer = self.buffer, []
        self.process(batch)

    def process(self, batch: list[dict[str, Any]]) -> Counter[str]:
        """Classify, store and enqueue one batch now; returns this batch's counts (also added to ``counts``)."""
        counts: Counter[str] = Counter()
        if not batch:
            return counts
        # Within a batch the same post can arrive twice (two keywords); keep the last copy.
        posts = list({(p["platform"], str(p["post_id"])): p for p in batch}.values())
        for post in posts:
            post.setdefault("run_id", self.run_id)
        keys = [(p["platform"], str(p["post_id"])) for p in posts]
        stored = store.stored_posts(self.db, keys, ("text", "tier", "classifier"))
        fresh = [p for p, k in zip(posts, keys, strict=True) if not self._unchanged(p, stored.get(k))]
        detections = [
            {"platform": p["platform"], "post_id": p["post_id"], "classifier": self.classifier.name, **d.to_dict()}
            for p, d in zip(fresh, self.classifier.classify(p.get("text") or "" for p in fresh), strict=True)
        ]
        tiers = {key: row["tier"] for key, row in stored.items()}
        tiers |= {(d["platform"], str(d["post_id"])): d["tier"] for d in detections}
        accounts = [
            {"platform": p["platform"], "account_id": p.get("author_id"), "nickname": p.get("author_name"),
             "homepage_url": p.get("author_url")}
            for p in posts
        ]
        with self.db.atomic():
            store.upsert_posts(self.db, posts)
            store.upsert_accounts(self.db, accounts)
            store.save_detections(self.db, detections)
            counts["enqueued"] += enqueue(self.db, detections)
        counts["stored"] += len(posts)
        counts["new"] += sum(1 for k in keys if k not in stored)
        counts["unchanged"] += len(posts) - len(fresh)
        for post, key in zip(posts, keys, strict=True):
            counts[f"tier/{tiers[key]}"] += 1
            if tiers[key] in ("level1", "level2"):
                self.hits.append((post["platform"], key[1], post.get("url") or ""))
        self.counts.update(counts)
        return counts

    def _unchanged(self, post: Mapping[str, Any], stored: Mapping[str, Any] | None) -> bool:
        """Whether ``post`` is stored with the same text and a detection by this classifier."""
        text = post.get("text")
        return (stored is not None and stored["tier"] is not None and stored["classifier"] == self.classifier.name
                and (text is None or len(text) <= store.MAX_TEXT_CHARS) and stored["text"] == text)


# The worker side of ``crawler.pipelines.StorePipeline``: module-level functions, so that a worker
# process can run them. Each crawl has its own ``Ingestor`` (own database connection and run id),
# opened, fed and closed by key; the classifier is shared by all of them.
_ingestors: dict[str, Ingestor] = {}


def start_worker(lexicon_files: tuple[str, ...], model: str | None, torch_threads: int | None) -> None:
    """Load the classifier and the full-text segmenter once, before the first batch arrives.

    ``torch_threads`` caps model inference in a worker process, which shares the cores with Scrapy."""
    from takedown.fts import load_segmenter

    if torch_threads:
        from classifier.model import set_threads

        set_threads(torch_threads)
    make_classifier(lexicon_files, model)
    load_segmenter()


def start_worker_process(*args: Any) -> None:
    """``start_worker`` in a worker process, which ignores Ctrl-C: it reaches the whole process group,
    the crawl decides how to stop, and the worker must live on to write the pending batches."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    start_worker(*args)


def open_ingestor(key: str, db_path: str, lexicon_files: tuple[str, ...], model: str | None, run_id: int | None,
                  batch_size: int) -> None:
    """Open the database for crawl ``key`` (on the thread or process that will write to it)."""
    _ingestors[key] = Ingestor(store.open_db(db_path), make_classifier(lexicon_files, model), run_id=run_id,
                               batch_size=batch_size)


def ingest_batch(key: str, batch: list[dict[str, Any]]) -> tuple[Counter[str], list[tuple[str, str, str]]]:
    """Classify, store and enqueue one batch of crawl ``key``: its counts and its level1/level2 hits."""
    ingestor = _ingestors[key]
    counts = ingestor.process(batch)
    hits, ingestor.hits = ingestor.hits, []
    return counts, hits


def close_ingestor(key: str) -> None:
    """Close the database of crawl ``key``."""
    ingestor = _ingestors.pop(key, None)
    if ingestor is not None:
        ingestor.db.close()
