"""The grayscan command line: one front door for every job. Each command is a thin layer over
the Python API of its package."""

from __future__ import annotations

import click
from rich.table import Table

from . import __version__, cli_classify, cli_crawl, cli_doctor, cli_lexicon, cli_takedown
from .options import console, db_option


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="grayscan")
def main() -> None:
    """grayscan finds gray-industry "illegal rights-defense" finance ads (停息挂账, 征信修复,
    反催收, 代理退保, 债务优化, fake 法务 teams), tiers them level1 / level2 per the NIFA
    guideline, and drives their takedown.

    \b
    Start here:   grayscan demo
    Data flow:    crawl → classify → store → queue → report
    """


@main.command()
@db_option
@click.option("--out", "out_dir", default="grayscan-out", show_default=True, type=click.Path(file_okay=False),
              help="Directory for the demo report.")
@click.option("--serve", is_flag=True, help="Only serve the demo replica site until Ctrl-C, for your own crawls.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port of the replica with --serve (0 = any free port).")
def demo(db_path: str, out_dir: str, serve: bool, port: int) -> None:
    """Run the whole pipeline offline on the bundled demo site.

    Starts a replica of Weibo's and Bilibili's search APIs on 127.0.0.1, crawls it with Scrapy,
    classifies every post, stores it, queues level1/level2 hits and writes a draft takedown
    report (HTML, CSV, JSON). Nothing leaves the machine.

    With --serve it only starts the replica and waits, so you can point `grayscan crawl
    PLATFORM --base-url http://127.0.0.1:PORT` at it.
    """
    from .demo import DEMO_QUERIES, run_demo, serve_replica
    from .progress import crawl_progress

    if serve:
        serve_replica(port)
        return

    console.print(f"[bold]grayscan demo[/bold]: crawling the bundled replica site into {db_path}")
    with crawl_progress(list(DEMO_QUERIES)) as (on_item, on_response):
        result = run_demo(db_path, out_dir, on_item=on_item, on_response=on_response)
    table = Table(title="grayscan demo")
    table.add_column("what")
    table.add_column("result", overflow="fold")
    table.add_row("replica site", result.base_url + " (stopped)")
    table.add_row("posts stored", ", ".join(f"{p}: {n}" for p, n in result.stats["posts_by_platform"].items()))
    table.add_row("tiers", ", ".join(f"{t}: {n}" for t, n in result.stats["tiers"].items()))
    table.add_row("takedown queue", ", ".join(f"{s}: {n}" for s, n in result.stats["queue"].items()))
    table.add_row("database", str(result.db_path))
    table.add_row("report (HTML)", str(result.report.html))
    table.add_row("report (CSV)", str(result.report.csv))
    table.add_row("report (JSON)", str(result.report.json))
    console.print(table)
    console.print(f"Next: [bold]grayscan queue list --db {db_path}[/bold] to review the hits.")


# Each area's module lists its commands in COMMANDS; adding a command never touches this file.
for module in (cli_crawl, cli_doctor, cli_lexicon, cli_classify, cli_takedown):
    for command in module.COMMANDS:
        main.add_command(command)
