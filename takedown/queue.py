"""The takedown queue: one row per actionable post, moved through a checked lifecycle.

Every transition is validated against ``TRANSITIONS`` and recorded in ``queue_events``
with its actor and time, so the history of an item can always be replayed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils

from .store import now_iso

ACTIONABLE_TIERS = ("level1", "level2")

#: status -> statuses it may move to.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "detected": ("accepted", "rejected"),
    "accepted": ("submitted", "rejected"),
    "rejected": ("accepted",),
    "submitted": ("removed", "rejected_by_platform", "no_response"),
    "no_response": ("submitted", "removed", "rejected_by_platform"),
    "rejected_by_platform": ("submitted",),
    "removed": ("reappeared",),
    "reappeared": (),
}
STATUSES = tuple(TRANSITIONS)


class TransitionError(ValueError):
    """A queue item cannot move to the requested status."""


def enqueue(db: sqlite_utils.Database, detections: Iterable[Mapping[str, Any]], actor: str = "grayscan") -> int:
    """Add level1/level2 detections to the queue as ``detected``; returns how many were new.

    A post already queued keeps its place and history; only its tier is refreshed while it is
    still awaiting review.
    """
    at = now_iso()
    new = 0
    with db.atomic():
        for det in detections:
            if det["tier"] not in ACTIONABLE_TIERS:
                continue
            key = [det["platform"], str(det["post_id"])]
            row = db.execute("SELECT id, status FROM queue WHERE platform = ? AND post_id = ?", key).fetchone()
            if row:
                if row[1] == "detected":
                    db.execute("UPDATE queue SET tier = ?, updated_at = ? WHERE id = ?", [det["tier"], at, row[0]])
                continue
            db["queue"].insert(
                {
                    "platform": key[0],
                    "post_id": key[1],
                    "tier": det["tier"],
                    "status": "detected",
                    "created_at": at,
                    "updated_at": at,
                }
            )
            _record(db, db["queue"].last_pk, None, "detected", actor, at, None)
            new += 1
    return new


def transition(
    db: sqlite_utils.Database,
    item_id: int,
    to_status: str,
    *,
    actor: str,
    note: str | None = None,
    **fields: Any,
) -> None:
    """Move queue item ``item_id`` to ``to_status`` or raise ``TransitionError`` saying why not."""
    if to_status not in TRANSITIONS:
        raise TransitionError(f"unknown status {to_status!r}; statuses are: {', '.join(STATUSES)}")
    row = db.execute("SELECT status FROM queue WHERE id = ?", [item_id]).fetchone()
    if row is None:
        raise TransitionError(f"no queue item {item_id}")
    current = row[0]
    if to_status not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current]) or "nothing (final)"
        raise TransitionError(f"item {item_id} is {current}: it can move to {allowed}, not {to_status}")
    at = now_iso()
    with db.atomic():
        db["queue"].update(item_id, {"status": to_status, "updated_at": at, **fields})
        _record(db, item_id, current, to_status, actor, at, note)


def _record(db, item_id, from_status, to_status, actor, at, note) -> None:
    db["queue_events"].insert(
        {"queue_id": item_id, "from_status": from_status, "to_status": to_status, "actor": actor, "at": at, "note": note}
    )


def items(
    db: sqlite_utils.Database,
    *,
    status: str | Iterable[str] | None = None,
    platform: str | None = None,
    tier: str | None = None,
    since: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Queue items joined with their post and detection, newest first, filtered as asked."""
    where, params = [], []
    if status:
        statuses = [status] if isinstance(status, str) else list(status)
        where.append(f"q.status IN ({', '.join('?' * len(statuses))})")
        params += statuses
    if platform:
        where.append("q.platform = ?")
        params.append(platform)
    if tier:
        where.append("q.tier = ?")
        params.append(tier)
    if since:
        where.append("q.created_at >= ?")
        params.append(since)
    sql = f"""
        SELECT q.*, p.url, p.text, p.title, p.author_id, p.author_name, p.published_at,
               a.homepage_url, d.score, d.reasons, d.matches
        FROM queue q
        LEFT JOIN posts p ON p.platform = q.platform AND p.post_id = q.post_id
        LEFT JOIN accounts a ON a.platform = q.platform AND a.account_id = p.author_id
        LEFT JOIN detections d ON d.platform = q.platform AND d.post_id = q.post_id
        {"WHERE " + " AND ".join(where) if where else ""}
        ORDER BY q.id DESC {"LIMIT " + str(int(limit)) if limit else ""}
    """
    return list(db.query(sql, params))
