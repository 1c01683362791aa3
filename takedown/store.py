"""The grayscan SQLite store: one file, opened through sqlite-utils.

Every write path is idempotent: posts are keyed by (platform, post_id), accounts by
(platform, account_id), so crawling or importing the same post twice never duplicates it.
The schema carries a version in ``PRAGMA user_version`` and is brought forward by the
ordered ``MIGRATIONS`` list the first time a database is opened by a newer grayscan.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from .fts import index_text

DEFAULT_DB = "grayscan.db"

#: Bound on stored post text; post text is hostile input and must not grow the DB unboundedly.
MAX_TEXT_CHARS = 20_000
#: Bound on the stored raw JSON of a post.
MAX_RAW_CHARS = 200_000


def now_iso() -> str:
    """Current UTC time as an ISO-8601 string with seconds precision."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _migration_1(db: sqlite_utils.Database) -> None:
    """The initial schema."""
    db["posts"].create(
        {
            "platform": str,
            "post_id": str,
            "kind": str,  # post | comment
            "parent_id": str,  # for comments: the post they answer
            "url": str,
            "title": str,
            "text": str,
            "author_id": str,
            "author_name": str,
            "published_at": str,
            "crawled_at": str,
            "first_seen": str,
            "keyword": str,
            "run_id": int,
            "raw": str,
        },
        pk=("platform", "post_id"),
        not_null={"platform", "post_id"},
        defaults={"kind": "post"},
    )
    db["accounts"].create(
        {
            "platform": str,
            "account_id": str,
            "nickname": str,
            "homepage_url": str,
            "first_seen": str,
            "last_seen": str,
        },
        pk=("platform", "account_id"),
        not_null={"platform", "account_id"},
    )
    db["detections"].create(
        {
            "platform": str,
            "post_id": str,
            "tier": str,
            "score": float,
            "reasons": str,  # JSON list of strings
            "matches": str,  # JSON list of {term, category, start, end, ...}
            "classifier": str,
            "classified_at": str,
        },
        pk=("platform", "post_id"),
    )
    db["contacts"].create(
        {
            "platform": str,
            "post_id": str,
            "type": str,
            "value": str,
            "raw": str,
            "start": int,
            "end": int,
        },
        pk=("platform", "post_id", "type", "value"),
    )
    db["evidence"].create(
        {
            "id": int,
            "platform": str,
            "post_id": str,
            "kind": str,  # screenshot | html | warc | recheck
            "path": str,
            "sha256": str,
            "captured_at": str,
            "url": str,
        },
        pk="id",
    )
    db["queue"].create(
        {
            "id": int,
            "platform": str,
            "post_id": str,
            "tier": str,
            "status": str,
            "created_at": str,
            "updated_at": str,
            "batch_id": str,
            "channel": str,
            "ticket_id": str,
            "reappeared_from": int,
        },
        pk="id",
    )
    db["queue"].create_index(["platform", "post_id"], unique=True)
    db["queue"].create_index(["status"])
    db["queue_events"].create(
        {
            "id": int,
            "queue_id": int,
            "from_status": str,
            "to_status": str,
            "actor": str,
            "at": str,
            "note": str,
        },
        pk="id",
        foreign_keys=[("queue_id", "queue", "id")],
    )
    db["crawl_runs"].create(
        {
            "id": int,
            "platform": str,
            "keywords": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "pages": int,
            "items": int,
            "errors": int,
            "note": str,
        },
        pk="id",
    )
    db["posts"].create_index(["published_at"])
    db["posts"].create_index(["author_id"])
    db["detections"].create_index(["tier"])


def _migration_2(db: sqlite_utils.Database) -> None:
    """Takedown lifecycle, rechecks, near-duplicate signatures, report batches, shared account
    lists, gang clusters and a jieba-segmented full-text index of posts."""
    db["posts"].add_column("search_text", str)
    for rowid, title, text in db.execute("SELECT rowid, title, text FROM posts").fetchall():
        db.execute("UPDATE posts SET search_text = ? WHERE rowid = ?", [index_text(title, text), rowid])
    db["posts"].enable_fts(["search_text"], create_triggers=True, tokenize="unicode61")
    db["queue"].add_column("submitted_at", str)
    db["queue"].add_column("last_checked_at", str)
    db["rechecks"].create(
        {
            "id": int,
            "queue_id": int,
            "checked_at": str,
            "url": str,
            "http_status": int,
            "outcome": str,  # removed | up | error
            "marker": str,  # why it counts as removed (HTTP status or the platform's deleted marker)
            "body_sha256": str,
            "note": str,
        },
        pk="id",
        foreign_keys=[("queue_id", "queue", "id")],
    )
    db["rechecks"].create_index(["queue_id"])
    db["signatures"].create({"platform": str, "post_id": str, "minhash": bytes}, pk=("platform", "post_id"))
    db["report_batches"].create(
        {
            "batch_id": str,
            "platform": str,
            "channel": str,
            "draft": int,
            "created_at": str,
            "created_by": str,
            "items": int,
            "html_path": str,
            "html_sha256": str,
            "csv_path": str,
            "json_path": str,
            "pdf_path": str,
        },
        pk="batch_id",
    )
    db["shared_accounts"].create(
        {
            "source": str,
            "platform": str,
            "account_key": str,
            "key_kind": str,  # plain | hmac
            "nickname": str,
            "tier": str,
            "cluster_id": str,
            "hits": int,
            "first_seen": str,
            "last_seen": str,
            "imported_at": str,
        },
        pk=("source", "platform", "account_key"),
    )
    db["shared_contacts"].create(
        {"source": str, "platform": str, "account_key": str, "type": str, "value": str, "key_kind": str},
        pk=("source", "platform", "account_key", "type", "value"),
    )
    db["shared_contacts"].create_index(["value"])
    db["account_clusters"].create(
        {"platform": str, "account_id": str, "cluster_id": str, "computed_at": str}, pk=("platform", "account_id")
    )
    db["contacts"].create_index(["type", "value"])
    db["detections"].create_index(["platform", "tier"])


def _migration_3(db: sqlite_utils.Database) -> None:
    """Re-index a post in ``posts_fts`` only when its ``search_text`` changes, so re-crawling an
    unchanged post (new ``crawled_at``, same text) does not rewrite its full-text entry."""
    db.execute("DROP TRIGGER posts_au")
    db.execute(
        """
        CREATE TRIGGER posts_au AFTER UPDATE ON posts WHEN old.search_text IS NOT new.search_text BEGIN
          INSERT INTO posts_fts (posts_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
          INSERT INTO posts_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
        END
        """
    )


def _migration_4(db: sqlite_utils.Database) -> None:
    """Indexes for reviewing a large queue: an item's history, filtered pages in id order (an index
    on equal columns keeps rowid order, so a filtered page reads only its own rows), posts by
    nickname, accounts by cluster, and ``detection_terms``: each detection's matched terms, kept by
    triggers from ``detections.matches`` so every write path keeps it current."""
    db["queue_events"].create_index(["queue_id"], if_not_exists=True)
    db["queue_events"].create_index(["at"], if_not_exists=True)  # the dashboard's moves per day
    db["queue"].create_index(["platform", "status"], if_not_exists=True)
    db["queue"].create_index(["tier", "status"], if_not_exists=True)
    db["queue"].create_index(["created_at"], if_not_exists=True)
    db["posts"].create_index(["author_name"], if_not_exists=True)
    db["account_clusters"].create_index(["cluster_id"], if_not_exists=True)
    db["detection_terms"].create({"platform": str, "post_id": str, "term": str}, pk=("platform", "post_id", "term"))
    db["detection_terms"].create_index(["term"])
    terms_of_new = ("INSERT OR IGNORE INTO detection_terms (platform, post_id, term) "
                    "SELECT new.platform, new.post_id, json_extract(m.value, '$.term') FROM json_each(new.matches) m "
                    "WHERE json_valid(new.matches) AND json_extract(m.value, '$.term') IS NOT NULL;")
    forget_old = "DELETE FROM detection_terms WHERE platform = old.platform AND post_id = old.post_id;"
    db.executescript(f"""
        CREATE TRIGGER detections_terms_ai AFTER INSERT ON detections BEGIN {terms_of_new} END;
        CREATE TRIGGER detections_terms_au AFTER UPDATE OF matches ON detections BEGIN {forget_old} {terms_of_new} END;
        CREATE TRIGGER detections_terms_ad AFTER DELETE ON detections BEGIN {forget_old} END;
        INSERT OR IGNORE INTO detection_terms (platform, post_id, term)
          SELECT d.platform, d.post_id, json_extract(m.value, '$.term') FROM detections d, json_each(d.matches) m
          WHERE json_valid(d.matches) AND json_extract(m.value, '$.term') IS NOT NULL;
    """)


#: Ordered forward migrations; index i brings the schema from version i to i + 1.
#: Never edit a released migration: append a new one.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_migration_1, _migration_2, _migration_3, _migration_4]
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(RuntimeError):
    """A database that grayscan cannot use (newer schema, not SQLite, ...)."""


class MissingDatabase(StoreError):
    """No database file where one must already exist."""


def open_db(path: str | Path = DEFAULT_DB, *, read_only: bool = False, create: bool = True) -> sqlite_utils.Database:
    """Open (creating and migrating if needed) the grayscan database at ``path``.

    ``create=False`` is for commands that work on collected data: a missing file raises
    ``MissingDatabase`` and nothing (no file, no folder) is created. ``read_only`` (which implies
    it) opens the file through SQLite's ``mode=ro`` URI so no statement can write: used by
    ``grayscan sql`` for researchers' ad-hoc queries.
    """
    path = Path(path)
    if (read_only or not create) and not path.is_file():
        raise MissingDatabase(f"no database at {path}" + (" (it is a folder)" if path.is_dir() else ""))
    if read_only:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        return sqlite_utils.Database(conn)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite_utils.Database(path)
        db.execute("PRAGMA busy_timeout = 10000")
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a SQLite database: {exc}") from exc
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version}, newer than this grayscan ({SCHEMA_VERSION}); upgrade grayscan"
        )
    if db.journal_mode != "wal":
        db.enable_wal()
    for index in range(version, SCHEMA_VERSION):
        with db.atomic():
            MIGRATIONS[index](db)
            db.execute(f"PRAGMA user_version = {index + 1}")
    return db


def schema_version(db: sqlite_utils.Database) -> int:
    """The schema version recorded in the database file."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def _bound(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[:limit]


def _raw_json(raw: Any) -> str | None:
    if raw is None:
        return None
    text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, sort_keys=True)
    return _bound(text, MAX_RAW_CHARS)


POST_FIELDS = (
    "platform",
    "post_id",
    "kind",
    "parent_id",
    "url",
    "title",
    "text",
    "author_id",
    "author_name",
    "published_at",
    "crawled_at",
    "keyword",
    "run_id",
    "raw",
)


def _upsert_sql(table: str, columns: tuple[str, ...], pk: tuple[str, ...], keep: tuple[str, ...] = ()) -> str:
    """An INSERT of ``columns`` that, on a ``pk`` conflict, takes the new value of every other column,
    except the ``keep`` columns, which keep a stored non-null value (``first_seen``)."""
    quoted = {c: f'"{c}"' for c in columns}
    updates = [f"{quoted[c]} = coalesce({quoted[c]}, excluded.{quoted[c]})" if c in keep
               else f"{quoted[c]} = excluded.{quoted[c]}" for c in columns if c not in pk]
    return (f"INSERT INTO {table} ({', '.join(quoted.values())}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {', '.join(updates)}")


_POST_COLUMNS = (*POST_FIELDS, "search_text", "first_seen")
_UPSERT_POSTS_SQL = _upsert_sql("posts", _POST_COLUMNS, ("platform", "post_id"), keep=("first_seen",))
_ACCOUNT_COLUMNS = ("platform", "account_id", "nickname", "homepage_url", "last_seen", "first_seen")
_UPSERT_ACCOUNTS_SQL = _upsert_sql("accounts", _ACCOUNT_COLUMNS, ("platform", "account_id"), keep=("first_seen",))
_DETECTION_COLUMNS = ("platform", "post_id", "tier", "score", "reasons", "matches", "classifier", "classified_at")
_UPSERT_DETECTIONS_SQL = _upsert_sql("detections", _DETECTION_COLUMNS, ("platform", "post_id"))
_CONTACT_COLUMNS = ("platform", "post_id", "type", "value", "raw", "start", "end")
_UPSERT_CONTACTS_SQL = _upsert_sql("contacts", _CONTACT_COLUMNS, ("platform", "post_id", "type", "value"))


#: Keys per lookup, well under SQLite's bound on statement variables.
_LOOKUP_CHUNK = 400


def rows_for_keys(db: sqlite_utils.Database, sql: str, keys: Iterable[tuple[str, str]]) -> list[tuple]:
    """Rows of ``sql`` for many (platform, post_id) ``keys``, looked up in chunks through the primary
    or unique index: ``sql`` reads them from a table ``k(platform, post_id)``, as in
    ``FROM k CROSS JOIN posts p ON p.platform = k.platform AND p.post_id = k.post_id``."""
    keys = list(dict.fromkeys((platform, str(post_id)) for platform, post_id in keys))
    rows: list[tuple] = []
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        chunk = keys[start : start + _LOOKUP_CHUNK]
        values = ", ".join("(?, ?)" for _ in chunk)
        rows += db.execute(f"WITH k(platform, post_id) AS (VALUES {values}) {sql}",
                           [v for key in chunk for v in key]).fetchall()
    return rows


def stored_posts(
    db: sqlite_utils.Database, keys: Iterable[tuple[str, str]], columns: tuple[str, ...] = ("title", "text")
) -> dict[tuple[str, str], dict[str, Any]]:
    """``columns`` of the stored posts among ``keys`` ((platform, post_id) pairs), keyed like them.

    ``columns`` may also name ``tier`` and ``classifier``, taken from the post's latest detection
    (None when it has none)."""
    select = ", ".join(f"d.{c}" if c in ("tier", "classifier") else f"p.{c}" for c in columns)
    sql = (f"SELECT p.platform, p.post_id, {select} FROM k CROSS JOIN posts p "
           "ON p.platform = k.platform AND p.post_id = k.post_id "
           "LEFT JOIN detections d ON d.platform = p.platform AND d.post_id = p.post_id")
    return {(platform, post_id): dict(zip(columns, values, strict=True))
            for platform, post_id, *values in rows_for_keys(db, sql, keys)}


def upsert_posts(db: sqlite_utils.Database, posts: Iterable[Mapping[str, Any]]) -> int:
    """Insert or update posts keyed by (platform, post_id); returns how many rows were written.

    ``first_seen`` is kept from the first write; everything else takes the newest values. The
    segmented ``search_text`` is computed here (and indexed by triggers, so every write path
    keeps the full-text index current); a post stored before with the same title and text keeps
    its segmentation, and its index entry is left alone.
    """
    rows = []
    for post in posts:
        row = {key: post.get(key) for key in POST_FIELDS}
        if not row["platform"] or not row["post_id"]:
            raise ValueError(f"post without platform or post_id: {dict(post)!r:.200}")
        row["post_id"] = str(row["post_id"])
        row["kind"] = row["kind"] or "post"
        row["text"] = _bound(row["text"], MAX_TEXT_CHARS)
        row["title"] = _bound(row["title"], 1000)
        row["raw"] = _raw_json(row["raw"])
        row["crawled_at"] = row["crawled_at"] or now_iso()
        row["first_seen"] = row["crawled_at"]
        rows.append(row)
    if not rows:
        return 0
    stored = stored_posts(db, [(r["platform"], r["post_id"]) for r in rows], ("title", "text", "search_text"))
    for row in rows:
        old = stored.get((row["platform"], row["post_id"]))
        unchanged = old and old["search_text"] is not None and (old["title"], old["text"]) == (row["title"], row["text"])
        row["search_text"] = old["search_text"] if unchanged else index_text(row["title"], row["text"])
    with db.atomic():
        db.conn.executemany(_UPSERT_POSTS_SQL, [[r[c] for c in _POST_COLUMNS] for r in rows])
    return len(rows)


def upsert_accounts(db: sqlite_utils.Database, accounts: Iterable[Mapping[str, Any]]) -> int:
    """Insert or update accounts keyed by (platform, account_id), keeping first_seen."""
    seen = now_iso()
    rows = {}
    for account in accounts:
        if not account.get("account_id"):
            continue
        key = (account["platform"], str(account["account_id"]))
        rows[key] = {
            "platform": key[0],
            "account_id": key[1],
            "nickname": account.get("nickname"),
            "homepage_url": account.get("homepage_url"),
            "last_seen": account.get("last_seen") or seen,
        }
    if not rows:
        return 0
    with db.atomic():
        db.conn.executemany(_UPSERT_ACCOUNTS_SQL, [[*row.values(), row["last_seen"]] for row in rows.values()])
    return len(rows)


def save_detections(db: sqlite_utils.Database, detections: Iterable[Mapping[str, Any]]) -> int:
    """Record the newest detection (tier, score, reasons, matches) and contacts of each post."""
    det_rows, contact_rows, keys = [], [], []
    at = now_iso()
    for det in detections:
        key = (det["platform"], str(det["post_id"]))
        keys.append(key)
        det_rows.append(
            {
                "platform": key[0],
                "post_id": key[1],
                "tier": det["tier"],
                "score": float(det["score"]),
                "reasons": json.dumps(det.get("reasons", []), ensure_ascii=False),
                "matches": json.dumps(det.get("matches", []), ensure_ascii=False),
                "classifier": det.get("classifier"),
                "classified_at": at,
            }
        )
        for contact in det.get("contacts", []):
            contact_rows.append(
                {
                    "platform": key[0],
                    "post_id": key[1],
                    "type": contact["type"],
                    "value": contact["value"],
                    "raw": contact.get("raw"),
                    "start": contact.get("start"),
                    "end": contact.get("end"),
                }
            )
    if not det_rows:
        return 0
    with db.atomic():
        db.conn.executemany(_UPSERT_DETECTIONS_SQL, [[row[c] for c in _DETECTION_COLUMNS] for row in det_rows])
        db.conn.executemany("DELETE FROM contacts WHERE platform = ? AND post_id = ?", keys)
        db.conn.executemany(_UPSERT_CONTACTS_SQL, [[row[c] for c in _CONTACT_COLUMNS] for row in contact_rows])
    return len(det_rows)


def start_run(db: sqlite_utils.Database, platform: str, keywords: list[str]) -> int:
    """Record the start of a crawl run and return its id."""
    table = db["crawl_runs"]
    table.insert(
        {
            "platform": platform,
            "keywords": json.dumps(keywords, ensure_ascii=False),
            "started_at": now_iso(),
            "status": "running",
            "pages": 0,
            "items": 0,
            "errors": 0,
        }
    )
    return table.last_pk


def finish_run(db: sqlite_utils.Database, run_id: int, **fields: Any) -> None:
    """Close a crawl run with its final counters and status."""
    db["crawl_runs"].update(run_id, {"finished_at": now_iso(), **fields})


def stats(db: sqlite_utils.Database) -> dict[str, Any]:
    """Counts a user wants at a glance: rows per table, tiers, queue states, platforms."""

    def rows(sql: str) -> list[tuple]:
        return list(db.execute(sql).fetchall())

    return {
        "schema_version": schema_version(db),
        "tables": {name: db[name].count for name in db.table_names() if not name.startswith("posts_fts")},
        "posts_by_platform": dict(rows("SELECT platform, count(*) FROM posts GROUP BY platform ORDER BY 2 DESC")),
        "tiers": dict(rows("SELECT tier, count(*) FROM detections GROUP BY tier ORDER BY 2 DESC")),
        "queue": dict(rows("SELECT status, count(*) FROM queue GROUP BY status ORDER BY 2 DESC")),
    }
