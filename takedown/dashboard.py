"""Queue figures over time, for the web dashboard: items queued per day by tier and by platform,
and review/takedown moves per day by the status they went to."""

from __future__ import annotations

from datetime import date, timedelta

import sqlite_utils

#: Series name -> SQL giving (day, key, count) rows.
_DAILY_SQL = {
    "tier": "SELECT date(created_at), tier, count(*) FROM queue WHERE created_at >= ? GROUP BY 1, 2",
    "platform": "SELECT date(created_at), platform, count(*) FROM queue WHERE created_at >= ? GROUP BY 1, 2",
    "status": ("SELECT date(at), to_status, count(*) FROM queue_events "
               "WHERE at >= ? AND from_status IS NOT to_status GROUP BY 1, 2"),
}
SERIES = tuple(_DAILY_SQL)


def last_day(db: sqlite_utils.Database) -> date:
    """The latest day with a queue event (today for an empty queue), the right end of every chart."""
    row = db.execute("SELECT max(at) FROM queue_events").fetchone()
    return date.fromisoformat(row[0][:10]) if row and row[0] else date.today()


def daily(db: sqlite_utils.Database, series: str, days: int = 30, end: date | None = None
          ) -> tuple[list[str], dict[str, list[int]]]:
    """Counts per day of ``series`` (tier, platform: items queued; status: moves into each status)
    over the ``days`` days ending ``end``: (the days, key -> one count per day)."""
    end = end or last_day(db)
    start = end - timedelta(days=days - 1)
    labels = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    column = {day: i for i, day in enumerate(labels)}
    counts: dict[str, list[int]] = {}
    for day, key, n in db.execute(_DAILY_SQL[series], [start.isoformat()]).fetchall():
        if day in column:
            counts.setdefault(key or "?", [0] * days)[column[day]] += n
    return labels, dict(sorted(counts.items()))
