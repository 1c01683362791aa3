"""``grayscan crawl``: run a platform spider into the store."""

from __future__ import annotations

import click

from .options import console, db_option, fail, lexicon_option


def default_keywords(lexicon_files: tuple[str, ...] = ()) -> list[str]:
    """Without --keyword, search for the lexicon's level1 and level2 canonical terms."""
    from lexicon import Lexicon

    return [t.canonical for t in Lexicon.load(list(lexicon_files)).terms_in("level1_term", "level2_term")]


@click.command()
@click.argument("platform")
@click.option("--keyword", "-k", "keywords", multiple=True, help="Search query (repeatable). "
              "Default: the lexicon's level1 and level2 terms.")
@click.option("--max-pages", type=click.IntRange(min=1), default=5, show_default=True,
              help="Search result pages per keyword.")
@click.option("--base-url", help="Map every host of the platform onto this base URL (a local replica).")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default="WARNING",
              show_default=True, help="Scrapy log level.")
@db_option
@lexicon_option
def crawl(platform: str, keywords: tuple[str, ...], max_pages: int, base_url: str | None, log_level: str,
          db_path: str, lexicon_files: tuple[str, ...]) -> None:
    """Crawl PLATFORM's keyword search, classify each post, store it and queue the hits.

    \b
    Example (against the bundled replica started by `grayscan demo --serve`):
      grayscan crawl weibo -k 征信修复 --base-url http://127.0.0.1:8000
    """
    from crawler.run import CrawlJob, crawl as run_crawl
    from crawler.spiders import SPIDERS

    from .progress import crawl_progress

    if platform not in SPIDERS:
        fail(f"unknown platform {platform!r}; known: {', '.join(sorted(SPIDERS))}")
    queries = list(keywords) or default_keywords(lexicon_files)
    job = CrawlJob(platform, queries, max_pages=max_pages, base_url=base_url)
    overrides = {"LOG_LEVEL": log_level, "GRAYSCAN_LEXICON_FILES": list(lexicon_files)}
    with crawl_progress([platform]) as (on_item, on_response):
        (result,) = run_crawl([job], db_path, overrides=overrides, on_item=on_item, on_response=on_response)
    stats = result.stats
    console.print(
        f"run {result.run_id}: {stats.get('response_received_count', 0)} pages, {result.stored} posts stored, "
        f"{stats.get('grayscan/enqueued', 0)} newly queued, finish: {stats.get('finish_reason')}"
    )
    if stats.get("grayscan/malformed"):
        console.print(f"[yellow]{stats['grayscan/malformed']} malformed responses skipped (see log)[/yellow]")


COMMANDS = [crawl]
