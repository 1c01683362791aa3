"""The review API under the web app: filters by term/cluster/account, keyset paging, bulk scoping, undo,
and migration 4 on a database written by an older grayscan. Real SQLite files."""

from __future__ import annotations

import json
import sqlite3

import pytest
from test_takedown import TEMPLATE, add_hits, db  # noqa: F401  (db: the fixture)

from takedown import queue, store
from takedown.clusters import refresh_clusters
from takedown.queue import Filters, TransitionError


def test_term_filter_follows_every_write_of_a_detection(db):
    add_hits(db, [{"post_id": str(i), "text": TEMPLATE.format(phone="13800138000"), "author_id": "a"} for i in range(3)])
    assert [r["post_id"] for r in queue.select(db, Filters(term="停息挂账"))] == ["2", "1", "0"]
    assert queue.select(db, Filters(term="停息")) == []  # a matched term, not a substring
    # Re-classified: the post's matched terms are replaced, so the filter moves with them.
    store.save_detections(db, [{"platform": "weibo", "post_id": "1", "tier": "level2", "score": 0.5,
                                "matches": [{"term": "债务优化", "start": 7, "end": 11}]}])
    assert [r["post_id"] for r in queue.select(db, Filters(term="停息挂账"))] == ["2", "0"]
    assert [r["post_id"] for r in queue.select(db, Filters(term="债务优化"))] == ["1"]
    assert queue.known_terms(db) == ["债务优化", "停息挂账"]  # in code-point order
    db.execute("DELETE FROM detections WHERE post_id = '2'")
    assert queue.count(db, Filters(term="停息挂账")) == 1


def test_account_and_cluster_filters(db):
    add_hits(db, [{"post_id": "1", "text": "征信修复 加V", "author_id": "a1", "author_name": "修复哥",
                   "contacts": [{"type": "phone", "value": "+8613912345678"}]},
                  {"post_id": "2", "text": "停息挂账 私信", "author_id": "a2", "author_name": "上岸姐",
                   "contacts": [{"type": "phone", "value": "+8613912345678"}]},
                  {"post_id": "3", "text": "代理退保", "author_id": "a3", "author_name": "退保"}])
    assert [r["post_id"] for r in queue.select(db, Filters(account="修复哥"))] == ["1"]
    assert [r["post_id"] for r in queue.select(db, Filters(account="a2"))] == ["2"]
    (gang,) = [c for c in refresh_clusters(db) if len(c.accounts) == 2]
    assert [r["post_id"] for r in queue.select(db, Filters(cluster=gang.cluster_id))] == ["2", "1"]
    cluster, mates = queue.cluster_of(db, "weibo", "a1")
    assert cluster == gang.cluster_id and [(m["account_id"], m["nickname"]) for m in mates] == [("a2", "上岸姐")]


def test_keyset_pages_cover_every_item_once_in_both_directions(db):
    add_hits(db, [{"post_id": str(i), "text": f"第{i}条 征信修复", "tier": "level1" if i % 2 else "level2"}
                  for i in range(23)])
    filters = Filters(tier="level1")
    pages, before = [], None
    while True:
        page = queue.select(db, filters, limit=5, before=before)
        if not page:
            break
        pages.append([r["id"] for r in page])
        before = page[-1]["id"]
    ids = [i for page in pages for i in page]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids)) == 11
    # ``after`` gives the page just above an id, still newest first.
    assert [r["id"] for r in queue.select(db, filters, limit=5, after=pages[2][0])] == pages[1]


def test_bulk_scope_and_undo(db):
    add_hits(db, [{"post_id": str(i), "text": "征信修复", "author_id": "a"} for i in range(4)])
    with pytest.raises(ValueError, match="give filters"):
        queue.bulk_filters(Filters(status="detected"), queue.REVIEW_FROM["accepted"])
    with pytest.raises(ValueError, match="items in status submitted cannot take this change"):
        queue.bulk_filters(Filters(status="submitted", platform="weibo"), queue.REVIEW_FROM["accepted"])
    scoped = queue.bulk_filters(Filters(platform="weibo"), queue.REVIEW_FROM["rejected"])
    assert scoped.status == "detected"
    first, *rest = queue.matching_ids(db, scoped)
    queue.transition(db, first, "accepted", actor="alice")
    assert queue.review_many(db, [first, *rest], "rejected", actor="bob", note="discussion") == (4, [])
    assert queue.undo(db, first, actor="bob") == "accepted"  # back to alice's decision
    assert queue.undo(db, first, actor="bob") == "detected"  # and then before it
    with pytest.raises(TransitionError, match="not a review decision to undo"):
        queue.undo(db, first, actor="bob")  # nothing decided is left
    steps = [(e["from_status"], e["to_status"], e["actor"], e["note"]) for e in queue.history(db, first)]
    decisions = {e["to_status"]: e["id"] for e in queue.history(db, first)[1:3]}
    assert steps[1:] == [("detected", "accepted", "alice", None), ("accepted", "rejected", "bob", "discussion"),
                         ("rejected", "accepted", "bob", f"undo of event {decisions['rejected']}"),
                         ("accepted", "detected", "bob", f"undo of event {decisions['accepted']}")]
    queue.transition(db, first, "accepted", actor="alice")
    queue.submit(db, first, channel="weibo-report", actor="bob")
    with pytest.raises(TransitionError, match="is submitted"):
        queue.undo(db, first, actor="bob")  # a submission is not a review decision


def test_migration_4_backfills_terms_on_an_older_database(db_path):
    db = store.open_db(db_path)
    add_hits(db, [{"post_id": "1", "text": TEMPLATE.format(phone="13800138000"), "author_id": "a"}])
    db.close()
    conn = sqlite3.connect(db_path)
    conn.executescript("DROP TRIGGER detections_terms_ai; DROP TRIGGER detections_terms_au; "
                       "DROP TRIGGER detections_terms_ad; DROP TABLE detection_terms; PRAGMA user_version = 3;")
    conn.close()
    db = store.open_db(db_path)
    assert store.schema_version(db) == store.SCHEMA_VERSION == 4
    assert [r["post_id"] for r in queue.select(db, Filters(term="停息挂账"))] == ["1"]
    assert json.loads(queue.item(db, 1)["matches"])[0]["term"] == "停息挂账"
    db.close()
