"""Classify-store-enqueue for batches of posts: shared by the crawl pipeline and ``grayscan import``."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils

from classifier import Classifier
from takedown import store
from takedown.queue import enqueue


#: ``model`` value for the lexicon-only baseline (no model inference).
LEXICON_ONLY = "none"


def make_classifier(lexicon_files: Iterable[str] = (), model: str | None = None) -> Classifier:
    """The classifier: the bundled default, a model directory, or ``LEXICON_ONLY``.

    Loading the lexicon (and a model) takes seconds, so one instance is shared by every crawl in a
    process; ``crawler.run.crawl`` loads it before the crawls start."""
    return _classifier(tuple(str(f) for f in lexicon_files), model)


@functools.lru_cache(maxsize=4)
def _classifier(lexicon_files: tuple[str, ...], model: str | None) -> Classifier:
    if model is None:
        return Classifier(lexicon_files=list(lexicon_files))
    return Classifier(lexicon_files=list(lexicon_files), model=None if model == LEXICON_ONLY else model)


class Ingestor:
    """Buffers posts and, per batch: classifies them, upserts posts and accounts, saves detections
    and contacts, and enqueues level1/level2 hits. ``counts`` tallies what happened."""

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
        if not self.buffer:
            return
        # Within a batch the same post can arrive twice (two keywords); keep the last copy.
        posts = list({(p["platform"], str(p["post_id"])): p for p in self.buffer}.values())
        self.buffer = []
        for post in posts:
            post.setdefault("run_id", self.run_id)
        keys = [(p["platform"], str(p["post_id"])) for p in posts]
        known = self._known(keys)
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
        self.counts["enqueued"] += enqueue(self.db, detections)
        self.counts["stored"] += len(posts)
        self.counts["new"] += sum(1 for k in keys if k not in known)
        for post, det in zip(posts, detections, strict=True):
            self.counts[f"tier/{det['tier']}"] += 1
            if det["tier"] in ("level1", "level2"):
                self.hits.append((post["platform"], str(post["post_id"]), post.get("url") or ""))

    def _known(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for platform in {k[0] for k in keys}:
            ids = [k[1] for k in keys if k[0] == platform]
            marks = ",".join("?" * len(ids))
            rows = self.db.execute(f"SELECT post_id FROM posts WHERE platform = ? AND post_id IN ({marks})",
                                   [platform, *ids]).fetchall()
            found |= {(platform, r[0]) for r in rows}
        return found
