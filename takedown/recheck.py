"""Recheck bookkeeping: which submitted items are due, and what a re-fetch result does to them.

The fetching itself is ``crawler.recheck`` (Scrapy); this module only reads and writes the store.
Every result is kept in ``rechecks`` (time, HTTP status, outcome, the marker that decided it and
the SHA-256 of the body as evidence). ``removed`` moves a submitted item to removed; an item
still up long after submission becomes ``no_response``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from .queue import transition
from .store import now_iso

#: Statuses whose items are re-fetched.
DUE_STATUSES = ("submitted", "no_response")
OUTCOMES = ("removed", "up", "error")
#: Days after submission from which an item still up counts as ``no_response``.
NO_RESPONSE_DAYS = 14


def due_items(
    db: sqlite_utils.Database,
    *,
    platform: str | None = None,
    ids: list[int] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Submitted (or unanswered) items with a URL to re-fetch, least recently checked first."""
    where = [f"q.status IN ({', '.join('?' * len(DUE_STATUSES))})", "p.url IS NOT NULL"]
    params: list[Any] = list(DUE_STATUSES)
    if platform:
        where.append("q.platform = ?")
        params.append(platform)
    if ids:
        where.append(f"q.id IN ({', '.join('?' * len(ids))})")
        params += ids
    sql = f"""
        SELECT q.id AS queue_id, q.platform, q.post_id, q.status, p.url
        FROM queue q JOIN posts p ON p.platform = q.platform AND p.post_id = q.post_id
        WHERE {" AND ".join(where)}
        ORDER BY coalesce(q.last_checked_at, '') , q.id
        {f"LIMIT {int(limit)}" if limit else ""}
    """
    return list(db.query(sql, params))


def record_recheck(
    db: sqlite_utils.Database,
    result: dict[str, Any],
    *,
    actor: str = "recheck",
    no_response_days: int = NO_RESPONSE_DAYS,
) -> str | None:
    """Store one re-fetch ``result`` and apply it; returns the item's new status if it changed.

    ``result`` has queue_id, url, http_status, outcome (removed | up | error), marker,
    body_sha256 and optionally checked_at and note.
    """
    if result["outcome"] not in OUTCOMES:
        raise ValueError(f"unknown recheck outcome {result['outcome']!r}; outcomes are: {', '.join(OUTCOMES)}")
    checked_at = result.get("checked_at") or now_iso()
    item_id = int(result["queue_id"])
    with db.atomic():
        db["rechecks"].insert(
            {
                "queue_id": item_id,
                "checked_at": checked_at,
                "url": result.get("url"),
                "http_status": result.get("http_status"),
                "outcome": result["outcome"],
                "marker": result.get("marker"),
                "body_sha256": result.get("body_sha256"),
                "note": result.get("note"),
            }
        )
        db["queue"].update(item_id, {"last_checked_at": checked_at})
        status, submitted_at = db.execute("SELECT status, submitted_at FROM queue WHERE id = ?", [item_id]).fetchone()
        if status not in DUE_STATUSES:
            return None
        if result["outcome"] == "removed":
            transition(db, item_id, "removed", actor=actor, note=result.get("marker"))
            return "removed"
        if result["outcome"] == "up" and status == "submitted" and submitted_at:
            age = datetime.now(UTC) - datetime.fromisoformat(submitted_at)
            if age >= timedelta(days=no_response_days):
                transition(db, item_id, "no_response", actor=actor,
                           note=f"still up {age.days} days after submission")
                return "no_response"
    return None
