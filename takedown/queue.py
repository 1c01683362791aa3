"""The takedown queue: one row per actionable post, moved through a checked lifecycle.

    detected → accepted | rejected                        (review)
    accepted → submitted (platform, channel, ticket id, time)
    submitted → removed | rejected_by_platform | no_response
    removed → reappeared (linked to the new hit that repeats it)

Every transition is validated against ``TRANSITIONS`` and recorded in ``queue_events``
with its actor and time, so the history of an item can always be replayed. New hits whose
text is a near-duplicate of a removed item are queued with ``reappeared_from`` pointing at
it, and the removed item moves to ``reappeared``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from . import similarity
from .store import now_iso, rows_for_keys

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
#: Outcomes a platform gives a submitted report.
OUTCOMES = ("removed", "rejected_by_platform", "no_response")
#: Review decision -> the statuses a bulk decision may take items from.
REVIEW_FROM = {"accepted": ("detected", "rejected"), "rejected": ("detected", "accepted")}


#: What ``parse_when`` accepts, for messages and help texts.
WHEN_FORMS = ("an ISO date (2026-11-20), an ISO time (2026-11-20T08:00), today, yesterday, "
              "or an age like 7d, 12h, 2w, 30m")
_AGE = re.compile(r"(\d+)\s*([mhdw])")
_AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(value: str, now: datetime | None = None) -> str:
    """A ``Filters.since``/``until`` point in time from what a user typed: an ISO date or time, ``today``,
    ``yesterday``, or an age such as ``7d``, ``12h``, ``2w``, ``30m`` (that long before ``now``). Returns the
    ISO text the store compares against: a date stays a date (a whole day), anything else becomes a UTC
    time. Raises ValueError naming the accepted forms."""
    text = value.strip().lower()
    now = now or datetime.now(UTC)
    if text in ("today", "yesterday"):
        return (now.date() - timedelta(days=text == "yesterday")).isoformat()
    age = _AGE.fullmatch(text)
    if age:
        return (now - timedelta(**{_AGE_UNITS[age[2]]: int(age[1])})).replace(microsecond=0).isoformat()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.strptime(text, "%Y-%m-%d").date().isoformat()
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a date or time; use {WHEN_FORMS}") from None
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC).replace(microsecond=0).isoformat()


class TransitionError(ValueError):
    """A queue item cannot move to the requested status."""


class MissingItem(TransitionError):
    """There is no queue item with that id."""


@dataclass(frozen=True)
class Filters:
    """Which queue items a listing or bulk operation applies to (all given conditions must hold)."""

    status: str | tuple[str, ...] | None = None
    platform: str | None = None
    tier: str | None = None
    since: str | None = None  # queued on or after (ISO date or time)
    until: str | None = None  # queued before the end of this date
    account: str | None = None  # author id or nickname
    batch_id: str | None = None
    term: str | None = None  # a lexicon term the detection matched
    cluster: str | None = None  # the author's gang cluster id

    def sql(self) -> tuple[list[str], list[Any]]:
        """WHERE conditions over ``queue q`` and their parameters."""
        where: list[str] = []
        params: list[Any] = []
        if self.status:
            statuses = [self.status] if isinstance(self.status, str) else list(self.status)
            unknown = set(statuses) - set(STATUSES)
            if unknown:
                raise ValueError(f"unknown status {', '.join(sorted(unknown))}; statuses are: {', '.join(STATUSES)}")
            where.append(f"q.status IN ({', '.join('?' * len(statuses))})")
            params += statuses
        for column, value in (("q.platform", self.platform), ("q.tier", self.tier), ("q.batch_id", self.batch_id)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if self.since:
            where.append("q.created_at >= ?")
            params.append(self.since)
        if self.until:
            # A bare date means the whole day: compare against the day after.
            where.append("q.created_at < ?" if "T" in self.until else "date(q.created_at) <= date(?)")
            params.append(self.until)
        if self.account:
            where.append("q.id IN (SELECT aq.id FROM posts ap JOIN queue aq ON aq.platform = ap.platform "
                         "AND aq.post_id = ap.post_id WHERE ap.author_id = ? OR ap.author_name = ?)")
            params += [self.account, self.account]
        # Account, term and cluster select few items: find those first (indexed), not test every item.
        if self.term:
            where.append("q.id IN (SELECT tq.id FROM detection_terms t JOIN queue tq ON tq.platform = t.platform "
                         "AND tq.post_id = t.post_id WHERE t.term = ?)")
            params.append(self.term)
        if self.cluster:
            where.append("q.id IN (SELECT cq.id FROM account_clusters c JOIN posts cp ON cp.platform = c.platform "
                         "AND cp.author_id = c.account_id JOIN queue cq ON cq.platform = cp.platform "
                         "AND cq.post_id = cp.post_id WHERE c.cluster_id = ?)")
            params.append(self.cluster)
        return where, params

    def narrows(self) -> bool:
        """Whether any condition besides status is set (a bulk change needs one)."""
        return any(value for name, value in asdict(self).items() if name != "status")


_QUEUED_SQL = "SELECT q.platform, q.post_id, q.id FROM k CROSS JOIN queue q ON q.platform = k.platform AND q.post_id = k.post_id"


def enqueue(db: sqlite_utils.Database, detections: Iterable[Mapping[str, Any]], actor: str = "grayscan") -> int:
    """Add level1/level2 detections to the queue as ``detected``; returns how many were new.

    A post already queued keeps its place and history; only its tier is refreshed while it is
    still awaiting review. A new hit that repeats a removed item (MinHash near-duplicate) is
    linked to it through ``reappeared_from`` and the removed item becomes ``reappeared``.
    Signatures are only computed when there is a removed item to compare against (and kept in
    ``signatures``); clustering computes any it finds missing.
    """
    hits = {(det["platform"], str(det["post_id"])): det["tier"] for det in detections
            if det["tier"] in ACTIONABLE_TIERS}
    if not hits:
        return 0
    at = now_iso()
    conn = db.conn
    with db.atomic():
        queued = {(platform, post_id): item_id for platform, post_id, item_id in rows_for_keys(db, _QUEUED_SQL, hits)}
        conn.executemany("UPDATE queue SET tier = ?, updated_at = ? WHERE id = ? AND status = 'detected'",
                         [(hits[key], at, item_id) for key, item_id in queued.items()])
        new_keys = [key for key in hits if key not in queued]
        removed = _removed_signatures(db) if new_keys else []
        sigs = _store_signatures(db, new_keys) if removed else {}
        repeats = {}
        for key in new_keys:  # each removed item is repeated by at most one new hit
            repeated = _best_match(sigs.get(key), removed)
            if repeated:
                repeats[key] = repeated
                removed = [(i, s) for i, s in removed if i != repeated[0]]
        conn.executemany(
            "INSERT INTO queue (platform, post_id, tier, status, created_at, updated_at, reappeared_from) "
            "VALUES (?, ?, ?, 'detected', ?, ?, ?)",
            [(*key, hits[key], at, at, repeats[key][0] if key in repeats else None) for key in new_keys],
        )
        ids = {(platform, post_id): item_id for platform, post_id, item_id in rows_for_keys(db, _QUEUED_SQL, new_keys)}
        for key, (old_id, score) in repeats.items():
            transition(db, old_id, "reappeared", actor=actor,
                       note=f"reappeared as #{ids[key]} ({key[0]} {key[1]}, similarity {score:.2f})")
        notes = {key: f"repeats removed item #{old_id} (similarity {score:.2f})"
                 for key, (old_id, score) in repeats.items()}
        conn.executemany(
            "INSERT INTO queue_events (queue_id, from_status, to_status, actor, at, note) VALUES (?, NULL, 'detected', ?, ?, ?)",
            [(ids[key], actor, at, notes.get(key)) for key in new_keys],
        )
    return len(new_keys)


def _store_signatures(db: sqlite_utils.Database, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """MinHash signatures of the stored posts ``keys`` (title and text), saved in ``signatures``."""
    sigs = {}
    sql = ("SELECT p.platform, p.post_id, coalesce(p.title, '') || ' ' || coalesce(p.text, '') FROM k "
           "CROSS JOIN posts p ON p.platform = k.platform AND p.post_id = k.post_id")
    for platform, post_id, text in rows_for_keys(db, sql, keys):
        sig = similarity.signature(text)
        if sig is not None:
            sigs[(platform, post_id)] = sig
    db.conn.executemany("INSERT OR REPLACE INTO signatures (platform, post_id, minhash) VALUES (?, ?, ?)",
                        [(*key, similarity.to_blob(sig)) for key, sig in sigs.items()])
    return sigs


def _removed_signatures(db: sqlite_utils.Database) -> list[tuple[int, Any]]:
    """(queue id, signature) of every removed item; missing signatures are computed and kept."""
    rows = db.execute(
        "SELECT q.id, q.platform, q.post_id, s.minhash FROM queue q LEFT JOIN signatures s "
        "ON s.platform = q.platform AND s.post_id = q.post_id WHERE q.status = 'removed' ORDER BY q.id"
    ).fetchall()
    missing = _store_signatures(db, [(platform, post_id) for _, platform, post_id, blob in rows if blob is None])
    found = []
    for item_id, platform, post_id, blob in rows:
        sig = similarity.from_blob(blob) if blob is not None else missing.get((platform, post_id))
        if sig is not None:
            found.append((item_id, sig))
    return found


def _best_match(sig, candidates: list[tuple[int, Any]]) -> tuple[int, float] | None:
    if sig is None or not candidates:
        return None
    scores = similarity.similarities(sig, [s for _, s in candidates])
    best = int(scores.argmax())
    if scores[best] < similarity.THRESHOLD:
        return None
    return candidates[best][0], float(scores[best])


def transition(
    db: sqlite_utils.Database,
    item_id: int,
    to_status: str,
    *,
    actor: str,
    note: str | None = None,
    at: str | None = None,
    **fields: Any,
) -> bool:
    """Move queue item ``item_id`` to ``to_status`` or raise ``TransitionError`` saying why not.

    Repeating a move (the item is already in ``to_status``) changes and records nothing and
    returns False, so a reviewer's decision can be given twice; True means the item moved.
    """
    if to_status not in TRANSITIONS:
        raise TransitionError(f"unknown status {to_status!r}; statuses are: {', '.join(STATUSES)}")
    current = status_of(db, item_id)
    if current == to_status:
        return False
    if to_status not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current]) or "nothing (final)"
        raise TransitionError(f"item {item_id} is {current}: it can move to {allowed}, not {to_status}")
    at = at or now_iso()
    with db.atomic():
        db["queue"].update(item_id, {"status": to_status, "updated_at": at, **fields})
        _record(db, item_id, current, to_status, actor, at, note)
    return True


def status_of(db: sqlite_utils.Database, item_id: int) -> str:
    """The status of queue item ``item_id``; raises ``MissingItem`` when there is none."""
    row = db.execute("SELECT status FROM queue WHERE id = ?", [item_id]).fetchone()
    if row is None:
        raise MissingItem(f"no queue item {item_id}")
    return row[0]


def submit(
    db: sqlite_utils.Database,
    item_id: int,
    *,
    channel: str,
    actor: str,
    ticket_id: str | None = None,
    batch_id: str | None = None,
    note: str | None = None,
    at: str | None = None,
) -> bool:
    """Mark an accepted (or re-submittable) item as submitted through ``channel`` at ``at`` (default now);
    False when it already was submitted (nothing changes)."""
    at = at or now_iso()
    return transition(db, item_id, "submitted", actor=actor, note=note, at=at, channel=channel, ticket_id=ticket_id,
                      batch_id=batch_id, submitted_at=at)


def set_ticket(db: sqlite_utils.Database, item_id: int, ticket_id: str, *, actor: str) -> None:
    """Record the ticket id a platform gave a submitted report (kept in the history too)."""
    status = status_of(db, item_id)
    if status not in ("submitted", *OUTCOMES):
        raise TransitionError(f"item {item_id} is {status}: only submitted items have a ticket id")
    at = now_iso()
    with db.atomic():
        db["queue"].update(item_id, {"ticket_id": ticket_id, "updated_at": at})
        _record(db, item_id, status, status, actor, at, f"ticket id {ticket_id}")


def _record(db, item_id, from_status, to_status, actor, at, note) -> None:
    db.execute("INSERT INTO queue_events (queue_id, from_status, to_status, actor, at, note) VALUES (?, ?, ?, ?, ?, ?)",
               [item_id, from_status, to_status, actor, at, note])


_ITEMS_SQL = """
    SELECT q.*, p.url, p.text, p.title, p.author_id, p.author_name, p.published_at,
           a.homepage_url, d.score, d.reasons, d.matches
    FROM queue q
    LEFT JOIN posts p ON p.platform = q.platform AND p.post_id = q.post_id
    LEFT JOIN accounts a ON a.platform = q.platform AND a.account_id = p.author_id
    LEFT JOIN detections d ON d.platform = q.platform AND d.post_id = q.post_id
"""


def items(
    db: sqlite_utils.Database,
    *,
    status: str | Iterable[str] | None = None,
    platform: str | None = None,
    tier: str | None = None,
    since: str | None = None,
    until: str | None = None,
    account: str | None = None,
    batch_id: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Queue items joined with their post and detection, newest first, filtered as asked."""
    status = status if status is None or isinstance(status, str) else tuple(status)
    filters = Filters(status, platform, tier, since, until, account, batch_id)
    return select(db, filters, limit=limit)


def select(db: sqlite_utils.Database, filters: Filters, *, limit: int | None = None, before: int | None = None,
           after: int | None = None) -> list[dict[str, Any]]:
    """Queue items matching ``filters``, newest first.

    Paging is by key, so a deep page costs what the first does: ``before`` keeps items with a
    smaller id than it (the next page), ``after`` the ``limit`` items just above it (the previous page).
    """
    where, params = filters.sql()
    if before is not None:
        where.append("q.id < ?")
        params.append(before)
    if after is not None:
        where.append("q.id > ?")
        params.append(after)
    order = "ASC" if after is not None else "DESC"
    sql = (_ITEMS_SQL + ("WHERE " + " AND ".join(where) if where else "") + f" ORDER BY q.id {order}"
           + (f" LIMIT {int(limit)}" if limit else ""))
    rows = list(db.query(sql, params))
    return rows[::-1] if after is not None else rows


_MATCHING_SQL = " FROM queue q "


def matching_ids(db: sqlite_utils.Database, filters: Filters) -> list[int]:
    """Ids of the items matching ``filters``, oldest first."""
    where, params = filters.sql()
    sql = "SELECT q.id" + _MATCHING_SQL + ("WHERE " + " AND ".join(where) if where else "") + " ORDER BY q.id"
    return [row[0] for row in db.execute(sql, params).fetchall()]


def known_terms(db: sqlite_utils.Database, limit: int = 500) -> list[str]:
    """Terms detections have matched (for a term filter's suggestions), in order."""
    return [row[0] for row in db.execute("SELECT DISTINCT term FROM detection_terms ORDER BY 1 LIMIT ?", [limit])]


def count(db: sqlite_utils.Database, filters: Filters) -> int:
    """How many items match ``filters``."""
    where, params = filters.sql()
    return db.execute("SELECT count(*)" + _MATCHING_SQL + ("WHERE " + " AND ".join(where) if where else ""),
                      params).fetchone()[0]


def bulk_filters(filters: Filters, from_statuses: tuple[str, ...]) -> Filters:
    """``filters`` scoped for a bulk change that takes items from ``from_statuses``: unreviewed
    (``detected``) items unless the filter names another of those statuses. Raises ValueError for a
    filter that selects nothing but a status (a bulk change must be narrowed) or a status it cannot apply to."""
    if not filters.narrows():
        raise ValueError("give filters (platform, tier, date, account, term, cluster, batch) for a bulk change")
    if filters.status and filters.status not in from_statuses:
        raise ValueError(f"items in status {filters.status} cannot take this change (only {', '.join(from_statuses)})")
    return replace(filters, status=filters.status or "detected")


def review_many(db: sqlite_utils.Database, item_ids: Iterable[int], to_status: str, *, actor: str,
                note: str | None = None) -> tuple[int, list[str]]:
    """Move each item to ``to_status``; returns (how many moved, the refusals' messages)."""
    done, refused = 0, []
    for item_id in item_ids:
        try:
            transition(db, item_id, to_status, actor=actor, note=note)
            done += 1
        except TransitionError as exc:
            refused.append(str(exc))
    return done, refused


_UNDO_NOTE = re.compile(r"^undo of event (\d+)$")


def undo(db: sqlite_utils.Database, item_id: int, *, actor: str) -> str:
    """Take back the item's latest review decision (accept or reject) not already taken back: the
    item returns to the status it came from, and the undo is recorded as an event of its own (so
    undoing again reaches the decision before). Returns that status; raises ``TransitionError``
    when the latest change still in force is not a review decision."""
    row = db.execute("SELECT status FROM queue WHERE id = ?", [item_id]).fetchone()
    if row is None:
        raise TransitionError(f"no queue item {item_id}")
    undone: set[int] = set()
    target = None
    for event_id, previous, reached, note in db.execute(
            "SELECT id, from_status, to_status, note FROM queue_events WHERE queue_id = ? ORDER BY id DESC", [item_id]):
        taken_back = _UNDO_NOTE.match(note or "")
        if taken_back:
            undone.add(int(taken_back.group(1)))
        elif event_id not in undone:
            target = (event_id, previous, reached)
            break
    if target is None or target[2] not in REVIEW_FROM or target[1] is None or target[2] != row[0]:
        raise TransitionError(f"item {item_id} is {row[0]}: its latest change is not a review decision to undo")
    event_id, previous, current = target
    at = now_iso()
    with db.atomic():
        db["queue"].update(item_id, {"status": previous, "updated_at": at})
        _record(db, item_id, current, previous, actor, at, f"undo of event {event_id}")
    return previous


def item(db: sqlite_utils.Database, item_id: int) -> dict[str, Any] | None:
    """One queue item with its post and detection, or None."""
    rows = list(db.query(_ITEMS_SQL + " WHERE q.id = ?", [item_id]))
    return rows[0] if rows else None


def history(db: sqlite_utils.Database, item_id: int) -> list[dict[str, Any]]:
    """The item's transitions, oldest first."""
    return list(db.query("SELECT * FROM queue_events WHERE queue_id = ? ORDER BY id", [item_id]))


def contacts(db: sqlite_utils.Database, platform: str, post_id: str) -> list[dict[str, Any]]:
    """The contacts a post gives (type, value and their offsets in its text)."""
    return list(db.query("SELECT type, value, raw, start, \"end\" FROM contacts WHERE platform = ? AND post_id = ? "
                         "ORDER BY start", [platform, post_id]))


def evidence(db: sqlite_utils.Database, platform: str, post_id: str) -> list[dict[str, Any]]:
    """The evidence rows (screenshot, html, ...) of a post, oldest first."""
    return list(db.query("SELECT id, kind, path, sha256, captured_at, url FROM evidence "
                         "WHERE platform = ? AND post_id = ? ORDER BY id", [platform, post_id]))


def account_items(db: sqlite_utils.Database, platform: str, account_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Queued posts of one account, newest first."""
    return list(db.query(
        "SELECT q.id, q.status, q.tier, q.created_at, p.post_id, p.title, p.text FROM posts p "
        "JOIN queue q ON q.platform = p.platform AND q.post_id = p.post_id "
        "WHERE p.platform = ? AND p.author_id = ? ORDER BY q.id DESC LIMIT ?", [platform, account_id, limit]))


def cluster_of(db: sqlite_utils.Database, platform: str, account_id: str) -> tuple[str | None, list[dict[str, Any]]]:
    """The account's cluster id (as last computed) and the other accounts in it."""
    row = db.execute("SELECT cluster_id FROM account_clusters WHERE platform = ? AND account_id = ?",
                     [platform, account_id]).fetchone()
    if row is None:
        return None, []
    mates = db.query(
        "SELECT c.platform, c.account_id, a.nickname FROM account_clusters c LEFT JOIN accounts a "
        "ON a.platform = c.platform AND a.account_id = c.account_id "
        "WHERE c.cluster_id = ? AND NOT (c.platform = ? AND c.account_id = ?) ORDER BY 1, 2",
        [row[0], platform, account_id])
    return row[0], list(mates)


def rechecks(db: sqlite_utils.Database, item_id: int) -> list[dict[str, Any]]:
    """The item's recheck records, oldest first."""
    return list(db.query("SELECT * FROM rechecks WHERE queue_id = ? ORDER BY id", [item_id]))


def label_records(db: sqlite_utils.Database) -> Iterator[dict[str, Any]]:
    """Reviewers' decisions as labelled training records, one per reviewed item.

    The label is the item's tier when its latest review decision was accept, ``none`` when it
    was reject; the shape is what ``grayscan train --extra`` reads.
    """
    sql = """
        SELECT q.id, q.platform, q.post_id, q.tier, p.title, p.text, e.to_status, e.actor, e.at
        FROM queue q
        JOIN queue_events e ON e.id = (
            SELECT max(id) FROM queue_events WHERE queue_id = q.id AND to_status IN ('accepted', 'rejected'))
        JOIN posts p ON p.platform = q.platform AND p.post_id = q.post_id
        ORDER BY q.id
    """
    for item_id, platform, post_id, tier, title, text, decision, actor, at in db.execute(sql).fetchall():
        body = text or ""
        if title and title not in body:
            body = f"{title}\n{body}"
        if not body.strip():
            continue
        yield {
            "text": body,
            "label": tier if decision == "accepted" else "none",
            "platform": platform,
            "post_id": post_id,
            "queue_id": item_id,
            "decided_by": actor,
            "decided_at": at,
            "source": "queue-review",
        }


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Items per status (every status listed, zero included)."""
    found = dict(db.execute("SELECT status, count(*) FROM queue GROUP BY status").fetchall())
    return {status: found.get(status, 0) for status in STATUSES}


def as_json_list(value: str | None) -> list:
    """A JSON list column (reasons, matches) decoded, [] when empty."""
    return json.loads(value) if value else []
