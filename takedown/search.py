"""The research side of the store: Chinese full-text search over posts and read-only SQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlite_utils

from .fts import match_expression
from .store import StoreError, open_db

SNIPPET_CHARS = 120


def _snippet(text: str, words: list[str]) -> str:
    """A window of ``text`` around the first query word found (the head of the text otherwise)."""
    text = (text or "").replace("\n", " ")
    positions = [p for p in (text.find(w) for w in words) if p >= 0]
    start = max(0, min(positions) - SNIPPET_CHARS // 3) if positions else 0
    return ("…" if start else "") + text[start : start + SNIPPET_CHARS] + ("…" if len(text) > start + SNIPPET_CHARS else "")


def search_posts(
    db: sqlite_utils.Database,
    query: str,
    *,
    platform: str | None = None,
    tier: str | None = None,
    limit: int = 20,
    raw: bool = False,
) -> list[dict[str, Any]]:
    """Posts matching ``query`` (every word, Chinese segmented like the index), best first.

    ``raw`` passes ``query`` to FTS5 unchanged, for its operators (OR, NOT, NEAR, prefix*);
    raw words must then be whole index tokens.
    """
    expression = query if raw else match_expression(query)
    where, params = ["posts_fts MATCH ?"], [expression]
    if platform:
        where.append("p.platform = ?")
        params.append(platform)
    if tier:
        where.append("d.tier = ?")
        params.append(tier)
    sql = f"""
        SELECT p.platform, p.post_id, p.url, p.author_id, p.author_name, p.published_at, p.title, p.text,
               d.tier, d.score, q.id AS queue_id, q.status AS queue_status
        FROM posts_fts f
        JOIN posts p ON p.rowid = f.rowid
        LEFT JOIN detections d ON d.platform = p.platform AND d.post_id = p.post_id
        LEFT JOIN queue q ON q.platform = p.platform AND q.post_id = p.post_id
        WHERE {" AND ".join(where)}
        ORDER BY f.rank LIMIT ?
    """
    try:
        rows = list(db.query(sql, [*params, int(limit)]))
    except sqlite3.OperationalError as exc:
        raise ValueError(f"bad search query {query!r}: {exc}") from exc
    words = [w.strip('"') for w in expression.split()]
    for row in rows:
        row["snippet"] = _snippet(row.pop("text") or row["title"] or "", words)
    return rows


def run_sql(db_path: str | Path, sql: str, params: dict[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
    """Run one statement on a read-only connection; returns (column names, rows).

    Writes fail with SQLite's own "readonly database" error, whatever the statement.
    """
    db = open_db(db_path, read_only=True)
    try:
        cursor = db.execute(sql, params or {})
        columns = [c[0] for c in cursor.description or []]
        return columns, cursor.fetchall()
    except sqlite3.Error as exc:
        raise StoreError(f"SQL error: {exc}") from exc
    finally:
        db.close()
