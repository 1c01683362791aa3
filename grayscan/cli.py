"""The grayscan command line: one front door for every job. Each command is a thin layer over
the Python API of its package."""

from __future__ import annotations

import click

from . import __version__, cli_classify, cli_crawl, cli_doctor, cli_frontier, cli_lexicon, cli_serve, cli_takedown
from .exitcodes import MEANINGS
from .options import DEFAULT_OUT_DIR, console, db_option
from .output import emit, format_option, resolve_format

EXIT_CODES_HELP = "\b\nExit codes (every command):\n" + "\n".join(
    f"  {int(code)}  {meaning}" for code, meaning in MEANINGS.items()
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
             epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="grayscan")
def main() -> None:
    """grayscan finds gray-industry "illegal rights-defense" finance ads (停息挂账, 征信修复,
    反催收, 代理退保, 债务优化, fake 法务 teams), tiers them level1 / level2 per the NIFA
    guideline, and drives their takedown.

    \b
    Start here:   grayscan demo
    Data flow:    crawl → classify → store → queue → report
    Output:       data on stdout (a table on a terminal, TSV when piped, --format to choose);
                  messages and progress on stderr. Only crawl, import and demo create a database
                  (--db, default $GRAYSCAN_DB or grayscan.db).
    """


@main.command()
@db_option
@click.option("--out", "out_dir", default=DEFAULT_OUT_DIR, show_default=True, type=click.Path(file_okay=False),
              help="Directory for the demo report.")
@click.option("--serve", is_flag=True, help="Only serve the demo replica site until Ctrl-C, for your own crawls.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port of the replica with --serve (0 = any free port).")
@format_option
def demo(db_path: str, out_dir: str, serve: bool, port: int, fmt: str | None, as_json: bool) -> None:
    """Run the whole pipeline offline on the bundled demo site.

    Starts a replica of Weibo's and Bilibili's search APIs on 127.0.0.1, crawls it with Scrapy,
    classifies every post, stores it, queues level1/level2 hits and writes a draft takedown
    report (HTML, CSV, JSON). Nothing leaves the machine. Progress goes to stderr, the summary
    (what / result) to stdout.

    With --serve it only starts the replica and waits, so you can point `grayscan crawl
    PLATFORM --base-url http://127.0.0.1:PORT` at it.
    """
    from .demo import DEMO_QUERIES, run_demo, serve_replica
    from .progress import crawl_progress

    if serve:
        serve_replica(port)
        return
    fmt = resolve_format(fmt, as_json)
    console.print(f"[bold]grayscan demo[/bold]: crawling the bundled replica site into {db_path}")
    with crawl_progress(list(DEMO_QUERIES)) as (on_item, on_response):
        result = run_demo(db_path, out_dir, on_item=on_item, on_response=on_response)
    for platform, found in result.found.items():
        stored = result.crawled[platform]
        console.print(f"  {platform}: {found} items found, {stored} distinct posts stored"
                      + (f" ({found - stored} were posts found again by another keyword)" if found > stored else ""))
    rows = [
        {"what": "replica site", "result": result.base_url + " (stopped)"},
        {"what": "posts stored", "result": _listing(result.stats["posts_by_platform"])},
        {"what": "tiers", "result": _listing(result.stats["tiers"])},
        {"what": "takedown queue", "result": _listing(result.stats["queue"])},
        {"what": "database", "result": str(result.db_path)},
        {"what": "report (HTML)", "result": str(result.report.html)},
        {"what": "report (CSV)", "result": str(result.report.csv)},
        {"what": "report (JSON)", "result": str(result.report.json)},
    ]
    emit(rows, fmt, ["what", "result"], title="grayscan demo")
    console.print(f"Next: [bold]grayscan queue list --db {db_path}[/bold] to review the hits.")


def _listing(counts: dict[str, int]) -> str:
    return ", ".join(f"{name}: {n}" for name, n in counts.items())


# Each area's module lists its commands in COMMANDS; adding a command never touches this file.
for module in (cli_crawl, cli_frontier, cli_doctor, cli_lexicon, cli_classify, cli_takedown, cli_serve):
    for command in module.COMMANDS:
        main.add_command(command)
