"""The takedown side of grayscan: ``queue``, ``report``, ``recheck``, ``accounts``, ``search``, ``sql``, ``db``.

Thin click commands over ``takedown.*`` (and ``crawler.recheck`` for re-fetching). Data goes to
stdout through ``output.emit`` (a table on a terminal, TSV when piped, ``--format`` to choose);
messages and progress go to stderr. Every command here works on an existing database.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from .exitcodes import Exit
from .options import DEFAULT_OUT_DIR, PLATFORM, STATUS, WHEN, console, db_option, fail, open_store
from .output import emit, format_option, resolve_format, stdout_console


def _fit(text: str | None, cells: int) -> str:
    """``text`` on one line, cut to ``cells`` terminal cells (a CJK character takes two)."""
    from rich.cells import cell_len

    text = " ".join((text or "").split())
    if cell_len(text) <= cells:
        return text
    while cell_len(text) > cells - 1:
        text = text[:-1]
    return text + "…"


def _one_line(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


# ---- queue --------------------------------------------------------------------------------------


def filter_options(func: Callable) -> Callable:
    """The queue filters shared by list, accept and reject."""
    for option in reversed(
        [
            click.option("--status", type=STATUS, help="Only items in this status."),
            click.option("--platform", type=PLATFORM, help="Only this platform."),
            click.option("--tier", type=click.Choice(["level1", "level2"]), help="Only this tier."),
            click.option("--since", type=WHEN, help="Only items queued on or after this date or time "
                         "(2026-11-20, 2026-11-20T08:00, yesterday, or an age: 7d, 12h, 2w)."),
            click.option("--until", type=WHEN, help="Only items queued on or before this date or time (same forms)."),
            click.option("--account", help="Only posts by this account (id or nickname)."),
            click.option("--batch", "batch_id", help="Only items of this report batch."),
        ]
    ):
        func = option(func)
    return func


def _filters(status=None, platform=None, tier=None, since=None, until=None, account=None, batch_id=None):
    from takedown.queue import Filters

    return Filters(status, platform, tier, since, until, account, batch_id)


@click.group()
def queue() -> None:
    """Review the takedown queue: list, show, accept, reject, submit, mark, export-labels."""


QUEUE_COLUMNS = ["id", "status", "tier", "platform", "created_at", "author_id", "author_name", "url", "title", "text"]


@queue.command("list")
@db_option
@filter_options
@click.option("--limit", type=int, default=50, show_default=True, help="At most this many items (0: all).")
@format_option
def queue_list(db_path: str, limit: int, fmt: str | None, as_json: bool, **filters: Any) -> None:
    """List queue items, newest first.

    Example: grayscan queue list --status detected --platform weibo --tier level1 --since 7d
    """
    from takedown.queue import counts, select

    fmt = resolve_format(fmt, as_json)
    db = open_store(db_path)
    rows = select(db, _filters(**filters), limit=limit or None)
    emit(rows, fmt, QUEUE_COLUMNS, table=lambda: _queue_table(rows))
    console.print(f"{len(rows)} shown; queue: " + "  ".join(f"{status} {n}" for status, n in counts(db).items() if n),
                  style="dim")


def _queue_table(rows: list[dict[str, Any]]) -> Table:
    """One line per item; the excerpt takes the width the other columns leave."""
    width = stdout_console.width
    table = Table(title=f"takedown queue — {len(rows)} shown", title_justify="left")
    columns = {"id": "bold", "status": "cyan", "tier": "", "platform": "", "queued": "dim", "account": ""}
    if width < 100:  # narrow terminal: the queue date is the first thing to go
        del columns["queued"]
    cells = [
        {"id": str(row["id"]), "status": row["status"], "tier": row["tier"], "platform": row["platform"],
         "queued": (row["created_at"] or "")[:10], "account": _fit(row["author_name"] or row["author_id"], 10)}
        for row in rows
    ]
    used = sum(max([len(c) if c != "account" else 10] + [len(r[c]) for r in cells]) for c in columns if c != "account")
    excerpt_cells = max(16, width - used - 10 - 3 * (len(columns) + 1) - 1)
    for column, style in columns.items():
        table.add_column(column, style=style, no_wrap=True)
    table.add_column("excerpt", no_wrap=True)
    for row, cell in zip(rows, cells, strict=True):
        cell["tier"] = f"[{'red' if row['tier'] == 'level1' else 'yellow'}]{row['tier']}[/]"
        cell["account"] = cell["account"].replace("[", r"\[")
        table.add_row(*(cell[c] for c in columns), _fit(row["text"] or row["title"], excerpt_cells).replace("[", r"\["))
    return table


@queue.command("show")
@db_option
@click.argument("item_id", type=int)
@format_option
def queue_show(db_path: str, item_id: int, fmt: str | None, as_json: bool) -> None:
    """Show one queue item: post, detection, contacts, evidence, history and rechecks.

    As TSV or CSV: one field and its value per line; as JSON: one object.
    """
    from takedown.queue import as_json_list, contacts, evidence, history, item, rechecks

    fmt = resolve_format(fmt, as_json)
    db = open_store(db_path)
    row = item(db, item_id)
    if row is None:
        fail(f"no queue item {item_id}")
    detail = {
        **row,
        "reasons": as_json_list(row["reasons"]),
        "matches": as_json_list(row["matches"]),
        "contacts": contacts(db, row["platform"], row["post_id"]),
        "evidence": evidence(db, row["platform"], row["post_id"]),
        "history": history(db, item_id),
        "rechecks": rechecks(db, item_id),
    }
    if fmt == "table":
        _print_item(detail)
    elif fmt in ("tsv", "csv"):
        emit([{"field": k, "value": v} for k, v in detail.items()], fmt, ["field", "value"])
    else:
        emit([detail], fmt, list(detail))


def _print_item(detail: dict[str, Any]) -> None:
    """One queue item for a person reading it on a terminal."""
    from rich.markup import escape

    out = stdout_console
    out.rule(f"#{detail['id']} {detail['status']} · {detail['tier']} · score {detail['score']}")
    out.print(f"post     {detail['platform']} {escape(detail['post_id'])}  {escape(detail['url'] or '')}")
    out.print(f"account  {escape(detail['author_name'] or '')} (id {escape(detail['author_id'] or '')}) "
              f"{escape(detail['homepage_url'] or '')}")
    out.print(f"queued   {detail['created_at']}   published {escape(detail['published_at'] or '?')}")
    if detail["batch_id"]:
        out.print(f"submitted {detail['submitted_at']} via {escape(detail['channel'] or '')} batch "
                  f"{escape(detail['batch_id'])} ticket {escape(detail['ticket_id'] or '-')}")
    if detail["reappeared_from"]:
        out.print(f"[magenta]reappearance of removed item #{detail['reappeared_from']}[/magenta]")
    for reason in detail["reasons"]:
        out.print(f"reason   {escape(reason)}")
    terms = dict.fromkeys(m.get("term") for m in detail["matches"] if m.get("term"))
    if terms:
        out.print("terms    " + escape("、".join(terms)))
    for contact in detail["contacts"]:
        out.print(f"contact  {contact['type']} {escape(contact['value'])}")
    for ev in detail["evidence"]:
        out.print(f"evidence {ev['kind']} {ev['captured_at']} sha256 {ev['sha256']}")
    out.rule("text", style="dim")
    out.print((detail["title"] + "\n" if detail["title"] else "") + (detail["text"] or ""), markup=False)
    out.rule("history", style="dim")
    for event in detail["history"]:
        out.print(f"{event['at']}  {event['from_status'] or '-'} → {event['to_status']}  by {escape(event['actor'])}"
                  + (f": {escape(event['note'])}" if event["note"] else ""))
    for check in detail["rechecks"]:
        out.print(f"{check['checked_at']}  recheck {check['outcome']} ({escape(check['marker'] or check['note'] or '')})")


def _targets(db, item_ids: tuple[int, ...], filters, from_statuses: tuple[str, ...]) -> list[int]:
    """Explicit ids, or every item matching the filters in one of ``from_statuses``."""
    from takedown.queue import bulk_filters, matching_ids

    if item_ids:
        return list(item_ids)
    if not filters.narrows():
        fail("give item ids, or filters (--platform, --tier, --since, --until, --account, --batch) for a bulk change")
    try:
        return matching_ids(db, bulk_filters(filters, from_statuses))
    except ValueError as exc:
        fail(str(exc))


def _apply(db_path: str, item_ids: tuple[int, ...], filters: dict[str, Any], from_statuses: tuple[str, ...],
           dry_run: bool, verb: str, change: Callable[[Any, int], str | None]) -> None:
    """Apply ``change`` to each target item and report each outcome.

    ``change`` returns the item's new status, or None when the item already was there (a repeated
    decision changes nothing). An id with no item is bad input: nothing changes, exit 2. A refused
    move is reported and the others go on; exit 1 if any was refused.
    """
    from takedown.queue import TransitionError, item

    db = open_store(db_path)
    targets = _targets(db, item_ids, _filters(**filters), from_statuses)
    missing = [i for i in targets if item(db, i) is None]
    if missing:
        fail(f"no queue item {', '.join(f'#{i}' for i in missing)}; nothing changed")
    if not targets:
        console.print(f"[yellow]no items to {verb}[/yellow]")
        return
    if dry_run:
        console.print(f"would {verb} {len(targets)} items: " + " ".join(f"#{i}" for i in targets))
        return
    done = unchanged = refused = 0
    for item_id in targets:
        try:
            status = change(db, item_id)
        except TransitionError as exc:
            refused += 1
            console.print(f"[red]refused:[/red] {exc}")
            continue
        if status is None:
            unchanged += 1
            console.print(f"#{item_id} is already {item(db, item_id)['status']}: nothing changed")
        else:
            done += 1
            console.print(f"#{item_id} → {status}")
    console.print(f"{verb}: {done} done, {unchanged} unchanged, {refused} refused")
    if refused:
        raise SystemExit(Exit.FAILED_RECORDS)


def _decision_command(name: str, to_status: str, from_statuses: tuple[str, ...], summary: str):
    @queue.command(name, help=f"{summary}\n\nGive item ids, or filters to {name} every matching unreviewed item "
                              f"at once (--status {' or '.join(s for s in from_statuses if s != 'detected')} to "
                              "revisit decisions); --dry-run shows which.")
    @db_option
    @click.argument("item_ids", type=int, nargs=-1)
    @filter_options
    @click.option("--actor", default="reviewer", show_default=True, help="Who decided (kept in the history).")
    @click.option("--note", help="Why.")
    @click.option("--dry-run", is_flag=True, help="List the items a filter selects; change nothing.")
    def command(db_path, item_ids, actor, note, dry_run, **filters):
        from takedown.queue import transition

        def change(db, item_id):
            return to_status if transition(db, item_id, to_status, actor=actor, note=note) else None

        _apply(db_path, item_ids, filters, from_statuses, dry_run, name, change)

    return command


queue_accept = _decision_command("accept", "accepted", ("detected", "rejected"), "Accept items for takedown.")
queue_reject = _decision_command("reject", "rejected", ("detected", "accepted"),
                                 "Reject items (not an abnormal rights-defense ad).")


@queue.command("submit")
@db_option
@click.argument("item_ids", type=int, nargs=-1, required=True)
@click.option("--channel", help="Where it was reported (default: the platform's report form).")
@click.option("--ticket", "ticket_id", help="Ticket / case id the platform gave.")
@click.option("--actor", default="reviewer", show_default=True)
@click.option("--note")
def queue_submit(db_path: str, item_ids: tuple[int, ...], channel: str | None, ticket_id: str | None, actor: str,
                 note: str | None) -> None:
    """Mark items reported outside `grayscan report` as submitted, or add a ticket id to submitted ones."""
    from takedown.queue import item, set_ticket, submit
    from takedown.report import default_channel

    def change(db, item_id):
        row = item(db, item_id)
        if row and row["status"] in ("submitted", "removed", "rejected_by_platform", "no_response") and ticket_id:
            set_ticket(db, item_id, ticket_id, actor=actor)
            return f"{row['status']} (ticket {ticket_id})"
        submitted = submit(db, item_id, channel=channel or default_channel(row["platform"]), actor=actor,
                           ticket_id=ticket_id, note=note)
        return "submitted" if submitted else None

    _apply(db_path, item_ids, {}, (), False, "submit", change)


@queue.command("mark")
@db_option
@click.argument("item_ids", type=int, nargs=-1, required=True)
@click.option("--status", "to_status", required=True,
              type=click.Choice(["removed", "rejected_by_platform", "no_response"]),
              help="The platform's answer.")
@click.option("--actor", default="reviewer", show_default=True)
@click.option("--note", help="e.g. the platform's reason for rejecting the report.")
def queue_mark(db_path: str, item_ids: tuple[int, ...], to_status: str, actor: str, note: str | None) -> None:
    """Record a platform's answer to submitted items."""
    from takedown.queue import transition

    def change(db, item_id):
        return to_status if transition(db, item_id, to_status, actor=actor, note=note) else None

    _apply(db_path, item_ids, {}, (), False, "mark", change)


@queue.command("export-labels")
@db_option
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="JSON Lines file for `grayscan train --extra` ('-' for stdout).")
def queue_export_labels(db_path: str, output: str) -> None:
    """Write reviewers' accept/reject decisions as labelled training records (JSON Lines)."""
    from takedown.queue import label_records

    records = list(label_records(open_store(db_path)))
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if output == "-":
        sys.stdout.write(lines)
    else:
        Path(output).write_text(lines, encoding="utf-8")
    labels: dict[str, int] = {}
    for record in records:
        labels[record["label"]] = labels.get(record["label"], 0) + 1
    console.print(f"{len(records)} labelled records → {output} "
                  + " ".join(f"{k}={v}" for k, v in sorted(labels.items())))


# ---- report, recheck ----------------------------------------------------------------------------


@click.command()
@db_option
@click.option("--platform", type=PLATFORM, help="Only this platform (otherwise one batch per platform).")
@click.option("--since", type=WHEN, help="Only items queued on or after this date or time (2026-11-20, 7d, ...).")
@click.option("--out", "out_dir", default=DEFAULT_OUT_DIR, show_default=True, type=click.Path(file_okay=False),
              help="Directory for the report files.")
@click.option("--channel", help="Report channel recorded on the items (default: the platform's report form).")
@click.option("--pdf", is_flag=True, help="Also write a PDF (WeasyPrint).")
@click.option("--draft", is_flag=True, help="A draft of unreviewed and accepted items; marks nothing submitted.")
@click.option("--actor", default="reviewer", show_default=True, help="Who submits (kept in the history).")
def report(db_path: str, platform: str | None, since: str | None, out_dir: str, channel: str | None, pdf: bool,
           draft: bool, actor: str) -> None:
    """Write takedown report batches (HTML, CSV, JSON, optional PDF) of accepted items, one per platform;
    their items become submitted with the batch id."""
    from takedown.report import DRAFT_STATUSES, write_report, write_reports

    db = open_store(db_path)
    if draft:
        batches = [write_report(db, out_dir, platform=platform, since=since, statuses=DRAFT_STATUSES,
                                draft=True, actor=actor, pdf=pdf)]
    else:
        batches = write_reports(db, out_dir, platform=platform, since=since, channel=channel, actor=actor, pdf=pdf)
    if not any(b.count for b in batches):
        console.print("[yellow]no accepted items to report[/yellow] (review with `grayscan queue accept`)")
        return
    for batch in batches:
        state = "draft" if batch.draft else f"submitted via {batch.channel}"
        console.print(f"[bold]batch {batch.batch_id}[/bold]: {batch.count} items, {state}")
        for path in (batch.html, batch.csv, batch.json, batch.pdf):
            if path:
                console.print(f"  {path}")


@click.command()
@db_option
@click.option("--platform", type=PLATFORM, help="Only this platform.")
@click.option("--id", "ids", type=int, multiple=True, help="Only this queue item (repeatable).")
@click.option("--limit", type=int, help="At most this many items (least recently checked first).")
@click.option("--base-url", help="Fetch from this replica instead of the platforms (e.g. http://127.0.0.1:8000).")
@click.option("--no-response-days", type=int, default=14, show_default=True,
              help="Items still up this long after submission become no_response.")
@click.option("--json", "as_json", is_flag=True, help="Print each result as JSON Lines on stdout.")
def recheck(db_path: str, platform: str | None, ids: tuple[int, ...], limit: int | None, base_url: str | None,
            no_response_days: int, as_json: bool) -> None:
    """Re-fetch submitted items and mark them removed (404/410 or the platform's deleted page) or still up."""
    from crawler.recheck import run_recheck

    open_store(db_path).close()
    done = 0

    def on_result(result: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        if as_json:
            emit([result], "jsonl", list(result))
        change = f" → {result['new_status']}" if result.get("new_status") else ""
        console.print(f"[{done}] #{result['queue_id']} {result['outcome']} ({result['marker'] or result.get('note')})"
                      f"{change}")

    summary = run_recheck(db_path, platform=platform, ids=list(ids) or None, limit=limit, base_url=base_url,
                          no_response_days=no_response_days, overrides={"LOG_LEVEL": "ERROR"}, on_result=on_result)
    if not summary.targets:
        console.print("[yellow]nothing to recheck[/yellow] (no submitted items with a URL)")
        return
    console.print(f"rechecked {len(summary.results)}/{summary.targets}: "
                  + ", ".join(f"{k} {v}" for k, v in summary.outcomes.items())
                  + (" · status changes: " + ", ".join(f"{k} {v}" for k, v in summary.new_statuses.items())
                     if summary.new_statuses else ""))
    if len(summary.results) < summary.targets:
        fail(f"{summary.targets - len(summary.results)} items got no result; run again", code=Exit.FAILED_RECORDS)


# ---- accounts -----------------------------------------------------------------------------------


@click.group()
def accounts() -> None:
    """Alliance account lists: export, import, match phones, gang clusters, keys."""


def _key(key_file: str | None) -> bytes | None:
    from takedown.accounts import ListError, load_key

    if key_file is None:
        return None
    try:
        return load_key(key_file)
    except ListError as exc:
        fail(str(exc))


key_file_option = click.option("--key-file", type=click.Path(dir_okay=False),
                               help="Alliance HMAC key (hex or raw bytes); never stored in the database.")


@accounts.command("export")
@db_option
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "stix"]), default="json", show_default=True)
@click.option("--hashed", is_flag=True, help="Replace every identifier by its HMAC-SHA256 under --key-file.")
@key_file_option
@click.option("--producer", default="grayscan", show_default=True, help="Your organisation's name in the list.")
@click.option("--tlp", type=click.Choice(["white", "green", "amber", "red"]), default="amber", show_default=True,
              help="TLP marking of a STIX export.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), default="-", show_default=True)
def accounts_export(db_path: str, fmt: str, hashed: bool, key_file: str | None, producer: str, tlp: str,
                    output: str) -> None:
    """Export offending accounts (tier, hits, first/last seen, cluster, contacts) as CSV, JSON or STIX 2.1."""
    from takedown.accounts import export_list

    if hashed and not key_file:
        fail("--hashed needs --key-file (an alliance key; plain or salted hashes of phone numbers are reversible)")
    if key_file and not hashed:
        fail("--key-file is only used with --hashed")
    key = _key(key_file)
    text, exported = export_list(open_store(db_path), fmt, producer=producer, tlp=tlp, key=key)
    if output == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        Path(output).write_text(text, encoding="utf-8")
    console.print(f"{exported} accounts exported as {fmt}{' (hashed)' if hashed else ''} → {output}")


@accounts.command("import")
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", required=True, help="The member the list comes from (provenance).")
def accounts_import(db_path: str, file: str, source: str) -> None:
    """Merge another member's list (CSV, JSON or STIX, plain or hashed); re-importing adds nothing."""
    from takedown.accounts import ListError, import_list

    try:
        summary = import_list(open_store(db_path), file, source)
    except ListError as exc:
        fail(str(exc))
    console.print(f"{source}: {summary.added} added, {summary.updated} updated, {summary.unchanged} unchanged, "
                  f"{summary.contacts_added} contacts added")
    for problem in summary.skipped:
        console.print(f"[yellow]skipped[/yellow] {problem}")


@accounts.command("match")
@db_option
@click.option("--phones", "phones_file", required=True, type=click.File(encoding="utf-8-sig"),
              help="One phone number (or a hashed number from a hashed list) per line; '-' for stdin.")
@key_file_option
@format_option
def accounts_match(db_path: str, phones_file, key_file: str | None, fmt: str | None, as_json: bool) -> None:
    """Say which numbers (e.g. callers behind complaints) appear as contacts in ads or on shared lists."""
    from takedown.accounts import match_phones

    fmt = resolve_format(fmt, as_json)
    results = match_phones(open_store(db_path), phones_file, key=_key(key_file))
    rows = []
    for m in results:
        seen = sorted({f"{a['platform']}:{a['account_name'] or a['account_id']}" for a in m.ads}
                      | {f"{e['source']}/{e['platform']}" for e in m.lists})
        rows.append({**asdict(m), "found": m.found, "in_ads": len(m.ads), "on_lists": len(m.lists),
                     "seen": m.error or m.note or ", ".join(seen)})

    def table() -> Table:
        table = Table(title="phone matches", title_justify="left")
        for column in ("input", "E.164", "in ads", "on lists", "accounts / note"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(Text("" if row[c] is None else str(row[c])) for c in ("input", "e164", "in_ads", "on_lists",
                                                                                 "seen")),
                          style="bold red" if row["found"] else "")
        return table

    emit(rows, fmt, ["input", "e164", "found", "in_ads", "on_lists", "seen"], table=table)
    bad = sum(bool(m.error) for m in results)
    console.print(f"{sum(m.found for m in results)} of {len(results)} numbers found"
                  + (f"; {bad} unreadable" if bad else ""))


@accounts.command("clusters")
@db_option
@format_option
def accounts_clusters(db_path: str, fmt: str | None, as_json: bool) -> None:
    """Group offending accounts linked by shared contacts or near-duplicate ad templates."""
    from takedown.clusters import refresh_clusters

    fmt = resolve_format(fmt, as_json)
    clusters = refresh_clusters(open_store(db_path))
    rows = [asdict(c) for c in clusters]

    def table() -> Table:
        table = Table(title=f"{len(clusters)} clusters", title_justify="left")
        for column in ("cluster", "accounts", "shared contacts", "template links"):
            table.add_column(column, overflow="fold")
        for c in clusters:
            table.add_row(c.cluster_id, Text("\n".join(f"{p}:{a}" for p, a in c.accounts)),
                          Text("\n".join(f"{t} {v}" for t, v in c.shared_contacts)), str(c.template_links))
        return table

    emit(rows, fmt, ["cluster_id", "accounts", "shared_contacts", "template_links"], table=table)


@accounts.command("keygen")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False))
def accounts_keygen(output: str) -> None:
    """Create a random 32-byte alliance key file (hex, readable only by you)."""
    import os
    import secrets

    path = Path(output)
    if path.exists():
        fail(f"{path} exists; not overwriting a key")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    console.print(f"key written to {path} (share it with alliance members only, out of band)")


# ---- research: search, sql, db ------------------------------------------------------------------


@click.command()
@db_option
@click.argument("query")
@click.option("--platform", type=PLATFORM, help="Only this platform.")
@click.option("--tier", type=click.Choice(["level1", "level2", "none"]), help="Only posts tiered so.")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--raw", is_flag=True, help="Pass QUERY to SQLite FTS5 unchanged (OR, NOT, NEAR, prefix*).")
@format_option
def search(db_path: str, query: str, platform: str | None, tier: str | None, limit: int, raw: bool,
           fmt: str | None, as_json: bool) -> None:
    """Full-text search of stored posts; Chinese works (jieba-segmented index): grayscan search 贷款"""
    from takedown.search import search_posts

    fmt = resolve_format(fmt, as_json)
    try:
        rows = search_posts(open_store(db_path), query, platform=platform, tier=tier, limit=limit, raw=raw)
    except ValueError as exc:
        fail(str(exc))

    def table() -> Table:
        table = Table(title=f"{len(rows)} posts matching {query}", title_justify="left")
        for column in ("platform", "post", "tier", "queue", "account", "snippet"):
            table.add_column(column, overflow="fold")
        for row in rows:
            queue_state = f"#{row['queue_id']} {row['queue_status']}" if row["queue_id"] else ""
            table.add_row(row["platform"], Text(row["post_id"]), row["tier"] or "", queue_state,
                          Text(_one_line(row["author_name"], 16)), Text(row["snippet"]))
        return table

    emit(rows, fmt, ["platform", "post_id", "tier", "score", "queue_id", "queue_status", "author_name", "url",
                     "snippet"], table=table)
    if fmt != "table":
        console.print(f"{len(rows)} posts matching {query}" + (f" (--limit {limit} reached)" if len(rows) == limit
                                                                else ""), markup=False)


@click.command()
@db_option
@click.argument("statement")
@format_option
def sql(db_path: str, statement: str, fmt: str | None, as_json: bool) -> None:
    """Run one SQL statement on a read-only connection: grayscan sql "SELECT platform, count(*) FROM posts GROUP BY 1" """
    from takedown.search import run_sql
    from takedown.store import StoreError

    fmt = resolve_format(fmt, as_json)
    open_store(db_path, read_only=True).close()  # a missing file: the same message as every command
    try:
        columns, rows = run_sql(db_path, statement)
    except StoreError as exc:
        fail(str(exc))
    records = [dict(zip(columns, row, strict=True)) for row in rows]

    def table() -> Table:
        table = Table(title=f"{len(rows)} rows", title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(Text("" if v is None else _one_line(str(v), 80)) for v in row))
        return table

    emit(records, fmt, columns, table=table)


@click.group()
def db() -> None:
    """Inspect the database; serve it to researchers with Datasette."""


@db.command("stats")
@db_option
@format_option
def db_stats(db_path: str, fmt: str | None, as_json: bool) -> None:
    """Rows per table, posts per platform, tiers and queue states: one row per (section, name, count)."""
    from takedown.store import stats

    fmt = resolve_format(fmt, as_json)
    figures = stats(open_store(db_path))
    sections = ("tables", "posts_by_platform", "tiers", "queue")
    rows = [{"section": "schema", "name": "version", "count": figures["schema_version"]}]
    rows += [{"section": section, "name": name, "count": count}
             for section in sections for name, count in figures[section].items()]

    def table() -> Table:
        table = Table(title=f"{db_path}: schema version {figures['schema_version']}", title_justify="left")
        for column, justify in (("section", "left"), ("name", "left"), ("count", "right")):
            table.add_column(column, justify=justify)
        for section in sections:
            for name, count in figures[section].items():
                table.add_row(section, Text(str(name)), str(count))
            if figures[section]:
                table.add_section()
        return table

    emit(rows, fmt, ["section", "name", "count"], table=table)


@db.command("metadata")
@db_option
def db_metadata(db_path: str) -> None:
    """Print Datasette metadata (canned research queries) for this database:

    grayscan db metadata --db grayscan.db > metadata.yml && datasette grayscan.db -m metadata.yml
    """
    from takedown.datasette import metadata_yaml

    click.echo(metadata_yaml(Path(db_path).stem), nl=False)


COMMANDS = [queue, report, recheck, accounts, search, sql, db]
