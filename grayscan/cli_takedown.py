"""``grayscan queue``, ``grayscan report`` and ``grayscan db``: the takedown side of the store."""

from __future__ import annotations

import json

import click
from rich.table import Table

from .options import console, db_option, fail


def _open(db_path: str):
    from takedown.store import StoreError, open_db

    try:
        return open_db(db_path)
    except StoreError as exc:
        fail(str(exc))


@click.group()
def queue() -> None:
    """Review the takedown queue: list, show, accept, reject."""


@queue.command("list")
@db_option
@click.option("--status", type=str, help="Only items in this status (detected, accepted, submitted, ...).")
@click.option("--platform", help="Only this platform.")
@click.option("--tier", type=click.Choice(["level1", "level2"]), help="Only this tier.")
@click.option("--since", help="Only items queued on or after this date (YYYY-MM-DD).")
@click.option("--limit", type=int, default=50, show_default=True)
def queue_list(db_path: str, status: str | None, platform: str | None, tier: str | None, since: str | None,
               limit: int) -> None:
    """List queue items, newest first."""
    from takedown.queue import items

    rows = items(_open(db_path), status=status, platform=platform, tier=tier, since=since, limit=limit)
    table = Table(title=f"takedown queue ({len(rows)} shown)")
    for column in ("id", "status", "tier", "platform", "author", "excerpt"):
        table.add_column(column, overflow="fold")
    for row in rows:
        text = (row["text"] or "").replace("\n", " ")
        table.add_row(str(row["id"]), row["status"], row["tier"], row["platform"], row["author_name"] or "",
                      text[:60], )
    console.print(table)


@queue.command("show")
@db_option
@click.argument("item_id", type=int)
def queue_show(db_path: str, item_id: int) -> None:
    """Show one queue item with its detection and history."""
    db = _open(db_path)
    from takedown.queue import items

    row = next((r for r in items(db) if r["id"] == item_id), None)
    if row is None:
        fail(f"no queue item {item_id}")
    console.print(f"[bold]#{row['id']}[/bold] {row['status']} {row['tier']} score={row['score']}")
    console.print(f"{row['platform']} {row['post_id']} {row['url']}")
    console.print(f"author: {row['author_name']} {row['homepage_url'] or ''}")
    console.print("reasons: " + "; ".join(json.loads(row["reasons"] or "[]")))
    console.print(row["text"] or "", markup=False)
    for event in db.query("SELECT * FROM queue_events WHERE queue_id = ? ORDER BY id", [item_id]):
        console.print(f"  {event['at']} {event['from_status'] or '-'} → {event['to_status']} by {event['actor']}"
                      + (f": {event['note']}" if event["note"] else ""))


def _decide(db_path: str, item_ids: tuple[int, ...], to_status: str, actor: str, note: str | None) -> None:
    from takedown.queue import TransitionError, transition

    db = _open(db_path)
    failed = 0
    for item_id in item_ids:
        try:
            transition(db, item_id, to_status, actor=actor, note=note)
            console.print(f"#{item_id} → {to_status}")
        except TransitionError as exc:
            failed += 1
            console.print(f"[red]refused:[/red] {exc}")
    if failed:
        raise SystemExit(1)


@queue.command("accept")
@db_option
@click.argument("item_ids", type=int, nargs=-1, required=True)
@click.option("--actor", default="reviewer", show_default=True, help="Who decided (kept in the history).")
@click.option("--note", help="Why.")
def queue_accept(db_path: str, item_ids: tuple[int, ...], actor: str, note: str | None) -> None:
    """Accept items for takedown."""
    _decide(db_path, item_ids, "accepted", actor, note)


@queue.command("reject")
@db_option
@click.argument("item_ids", type=int, nargs=-1, required=True)
@click.option("--actor", default="reviewer", show_default=True, help="Who decided (kept in the history).")
@click.option("--note", help="Why.")
def queue_reject(db_path: str, item_ids: tuple[int, ...], actor: str, note: str | None) -> None:
    """Reject items (not an abnormal rights-defense ad)."""
    _decide(db_path, item_ids, "rejected", actor, note)


@click.command()
@db_option
@click.option("--platform", help="Only this platform (one batch per platform).")
@click.option("--since", help="Only items queued on or after this date (YYYY-MM-DD).")
@click.option("--out", "out_dir", default="reports", show_default=True, type=click.Path(file_okay=False),
              help="Directory for the report files.")
@click.option("--include-detected", is_flag=True, help="Also report items not yet reviewed (a draft batch).")
def report(db_path: str, platform: str | None, since: str | None, out_dir: str, include_detected: bool) -> None:
    """Write a takedown report batch (HTML, CSV, JSON) of accepted queue items."""
    from takedown.report import write_report

    statuses = ("accepted", "detected") if include_detected else ("accepted",)
    batch = write_report(_open(db_path), out_dir, platform=platform, since=since, statuses=statuses)
    if not batch.count:
        console.print(f"[yellow]no {' or '.join(statuses)} items to report[/yellow]")
    console.print(f"batch {batch.batch_id}: {batch.count} items")
    for path in (batch.html, batch.csv, batch.json):
        console.print(f"  {path}")


@click.group()
def db() -> None:
    """Inspect the database."""


@db.command("stats")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def db_stats(db_path: str, as_json: bool) -> None:
    """Rows per table, posts per platform, tiers and queue states."""
    from takedown.store import stats

    figures = stats(_open(db_path))
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False, indent=1))
        return
    console.print(f"{db_path}: schema version {figures['schema_version']}")
    for title in ("tables", "posts_by_platform", "tiers", "queue"):
        table = Table(title=title)
        table.add_column("name")
        table.add_column("count", justify="right")
        for name, count in figures[title].items():
            table.add_row(str(name), str(count))
        console.print(table)


COMMANDS = [queue, report, db]
