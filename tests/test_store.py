"""The SQLite store: schema, migrations, idempotent upserts."""

from __future__ import annotations

import sqlite3

import pytest

from takedown import store
from takedown.queue import TransitionError, enqueue, items, transition


def post(post_id: str, text: str = "征信修复", **extra):
    return {"platform": "weibo", "post_id": post_id, "text": text, "url": f"https://m.weibo.cn/detail/{post_id}",
            "author_id": "42", **extra}


def test_new_database_is_wal_and_versioned(db_path):
    db = store.open_db(db_path)
    assert db.journal_mode == "wal"
    assert store.schema_version(db) == store.SCHEMA_VERSION >= 1
    assert {"posts", "accounts", "detections", "contacts", "evidence", "queue", "queue_events",
            "crawl_runs"} <= set(db.table_names())


def test_upsert_same_post_twice_keeps_one_row_and_first_seen(db_path):
    db = store.open_db(db_path)
    store.upsert_posts(db, [post("1", crawled_at="2026-01-01T00:00:00+00:00")])
    store.upsert_posts(db, [post("1", text="edited", crawled_at="2026-02-01T00:00:00+00:00"), post("2")])
    rows = {r["post_id"]: r for r in db["posts"].rows}
    assert len(rows) == 2
    assert rows["1"]["text"] == "edited"
    assert rows["1"]["first_seen"] == "2026-01-01T00:00:00+00:00"
    assert rows["1"]["crawled_at"] == "2026-02-01T00:00:00+00:00"


def test_text_and_raw_are_bounded(db_path):
    db = store.open_db(db_path)
    store.upsert_posts(db, [post("big", text="债" * (store.MAX_TEXT_CHARS + 50), raw={"x": "y" * 300_000})])
    row = db["posts"].get(("weibo", "big"))
    assert len(row["text"]) == store.MAX_TEXT_CHARS
    assert len(row["raw"]) == store.MAX_RAW_CHARS


def test_post_without_id_is_refused(db_path):
    with pytest.raises(ValueError, match="post_id"):
        store.upsert_posts(store.open_db(db_path), [{"platform": "weibo", "text": "x"}])


def test_newer_schema_is_refused(db_path):
    store.open_db(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(store.StoreError, match="newer than this grayscan"):
        store.open_db(db_path)


def test_not_sqlite_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("this is not a database" * 100)
    with pytest.raises(store.StoreError, match="not a SQLite database"):
        store.open_db(bad)


def test_read_only_connection_cannot_write(db_path):
    store.open_db(db_path).close()
    ro = store.open_db(db_path, read_only=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.execute("DELETE FROM posts")


def test_enqueue_is_idempotent_and_transitions_are_checked(db_path):
    db = store.open_db(db_path)
    store.upsert_posts(db, [post("1"), post("2", text="今天天气好")])
    detections = [{"platform": "weibo", "post_id": "1", "tier": "level1"},
                  {"platform": "weibo", "post_id": "2", "tier": "none"}]
    assert enqueue(db, detections) == 1
    assert enqueue(db, detections) == 0
    (item,) = items(db)
    with pytest.raises(TransitionError, match="it can move to accepted, rejected, not submitted"):
        transition(db, item["id"], "submitted", actor="alice")
    transition(db, item["id"], "accepted", actor="alice", note="clear ad")
    events = list(db.query("SELECT from_status, to_status, actor FROM queue_events ORDER BY id"))
    assert events == [{"from_status": None, "to_status": "detected", "actor": "grayscan"},
                      {"from_status": "detected", "to_status": "accepted", "actor": "alice"}]


def test_version_1_database_is_migrated_and_its_posts_become_searchable(db_path):
    import sqlite_utils

    from takedown.search import search_posts

    old = sqlite_utils.Database(db_path)
    store.MIGRATIONS[0](old)
    old.execute("PRAGMA user_version = 1")
    old["posts"].insert({"platform": "weibo", "post_id": "1", "text": "无视征信贷款秒批"})
    old.close()
    db = store.open_db(db_path)
    assert store.schema_version(db) == store.SCHEMA_VERSION
    assert [r["post_id"] for r in search_posts(db, "贷款")] == ["1"]
    assert {"rechecks", "signatures", "report_batches", "shared_accounts", "account_clusters"} <= set(db.table_names())


def fts_rows(db, query: str) -> list[str]:
    return [r[0] for r in db.execute("SELECT p.post_id FROM posts_fts f JOIN posts p ON p.rowid = f.rowid "
                                     "WHERE posts_fts MATCH ? ORDER BY p.post_id", [query])]


def test_recrawled_unchanged_post_keeps_its_index_entry_and_an_edit_is_reindexed(db_path):
    db = store.open_db(db_path)
    store.upsert_posts(db, [post("1", text="无视征信贷款秒批", crawled_at="2026-01-01T00:00:00+00:00"), post("2")])
    entries = db.execute("SELECT count(*) FROM posts_fts_docsize").fetchone()[0]
    # Re-crawled with the same text (new crawl time, a duplicate within the batch): the FTS entry stays as is.
    changes = db.conn.total_changes  # counts the rows triggers write too
    store.upsert_posts(db, [post("1", text="无视征信贷款秒批", crawled_at="2026-02-01T00:00:00+00:00"),
                            post("1", text="无视征信贷款秒批", crawled_at="2026-02-02T00:00:00+00:00")])
    assert db.conn.total_changes - changes == 2  # the two row updates, no full-text rewrite
    assert db.execute("SELECT count(*) FROM posts_fts_docsize").fetchone()[0] == entries == 2
    assert fts_rows(db, "贷款") == ["1"]
    row = db["posts"].get(("weibo", "1"))
    assert (row["first_seen"], row["crawled_at"]) == ("2026-01-01T00:00:00+00:00", "2026-02-02T00:00:00+00:00")
    # Edited: the old words leave the index, the new ones enter it.
    store.upsert_posts(db, [post("1", text="今天去公园散步")])
    assert fts_rows(db, "贷款") == [] and fts_rows(db, "散步") == ["1"]
    assert db["posts"].get(("weibo", "1"))["search_text"] == "今天 去 公园 散步"
    assert db.execute("SELECT count(*) FROM posts_fts_docsize").fetchone()[0] == 2


def test_accounts_keep_first_seen_and_take_newest_values(db_path):
    db = store.open_db(db_path)
    store.upsert_accounts(db, [{"platform": "weibo", "account_id": 7, "nickname": "a", "last_seen": "2026-01-01"}])
    store.upsert_accounts(db, [{"platform": "weibo", "account_id": "7", "nickname": "b", "last_seen": "2026-03-01"},
                               {"platform": "weibo", "account_id": None, "nickname": "nobody"}])
    assert [(r["account_id"], r["nickname"], r["first_seen"], r["last_seen"]) for r in db["accounts"].rows] == [
        ("7", "b", "2026-01-01", "2026-03-01")]


def test_detections_replace_their_contacts(db_path):
    db = store.open_db(db_path)
    det = {"platform": "weibo", "post_id": "1", "tier": "level1", "score": 0.9, "classifier": "c",
           "contacts": [{"type": "phone", "value": "+8613800138000", "start": 1, "end": 12},
                        {"type": "wechat", "value": "zx_fix", "start": 20, "end": 26}]}
    store.save_detections(db, [det])
    store.save_detections(db, [{**det, "tier": "level2", "contacts": det["contacts"][1:]}])
    assert db.execute("SELECT tier FROM detections").fetchall() == [("level2",)]
    assert db.execute('SELECT type, value, start, "end" FROM contacts').fetchall() == [("wechat", "zx_fix", 20, 26)]


def test_memoized_block_segmentation_gives_the_words_of_whole_text_segmentation():
    from lexicon.normalize import strict_view
    from lexicon.segment import tokenizer
    from takedown.fts import index_text

    texts = ["停息挂账 协商还款 法务团队一对一，电话 13800000012", "專業貸款諮詢，加V: zx_fix2024 包上岸!!",
             "café résumé 東京タワー 서울 3天到账 x+y#z&a.b%c-d\n\t征信修复", "", "，！"]
    for text in texts * 2:  # the second pass comes from the memo
        whole = [w for w in tokenizer().cut_for_search(strict_view(text).text) if any(c.isalnum() for c in w)]
        assert index_text(text) == " ".join(whole)
