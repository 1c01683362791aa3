"""``grayscan crawl`` (platform spiders into the store) and ``grayscan import`` (posts collected elsewhere)."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from .exitcodes import Exit
from .options import PLATFORM, SPIDER, console, db_option, fail, lexicon_only_option, lexicon_option, model_option

#: Exit status per crawl outcome (crawler.run.CrawlResult.outcome).
OUTCOME_EXIT = {"complete": Exit.OK, "failed_records": Exit.FAILED_RECORDS, "losses": Exit.LOSSES,
                "stopped": Exit.STOPPED, "not_started": Exit.USAGE}


def default_keywords(lexicon_files: tuple[str, ...] = ()) -> list[str]:
    """Without --keyword, search for the lexicon's level1 and level2 canonical terms."""
    from lexicon import Lexicon

    return [t.canonical for t in Lexicon.load(list(lexicon_files)).terms_in("level1_term", "level2_term")]


def model_choice(model_path: str | None, lexicon_only: bool) -> str | None:
    """The ``make_classifier`` model argument for the --model/--lexicon-only options."""
    from crawler.ingest import LEXICON_ONLY

    return LEXICON_ONLY if lexicon_only else model_path


def check_classifier_inputs(lexicon_files: tuple[str, ...], model_path: str | None, lexicon_only: bool) -> None:
    """Fail now, with the reason, on a lexicon file or model directory the pipeline could not load;
    found only inside the crawl's worker, it would leave the crawl fetching pages it cannot store."""
    from lexicon import LexiconError, load_terms

    try:
        load_terms(list(lexicon_files))
    except LexiconError as exc:
        fail(str(exc))
    if model_path and not lexicon_only:
        from classifier import ModelError, TextModel

        try:
            TextModel.load(model_path)
        except ModelError as exc:
            fail(str(exc))


def job_dir(db_path: str, platform: str, config: str | None) -> Path:
    """Where a crawl keeps its resumable scheduler state: next to the database, one per platform."""
    name = platform if not config else f"{platform}-{Path(config).stem}"
    return Path(db_path).with_name(Path(db_path).name + ".jobs") / name


@click.command()
@click.argument("platform", type=SPIDER)
@click.option("--keyword", "-k", "keywords", multiple=True, help="Search query (repeatable). "
              "Default: the lexicon's level1 and level2 terms (unless --creator is given).")
@click.option("--creator", "creators", multiple=True, help="Crawl this creator's posts (repeatable): Weibo uid, "
              "Bilibili mid, Douyin sec_uid, Kuaishou user id, XHS user_id, Tieba portrait, Zhihu url_token.")
@click.option("--comments/--no-comments", default=False, show_default=True,
              help="Also fetch the first-level comments of each new post (ads hide there too).")
@click.option("--comment-pages", type=click.IntRange(min=1), default=1, show_default=True,
              help="Comment pages per post.")
@click.option("--max-pages", type=click.IntRange(min=1), default=5, show_default=True,
              help="Listing pages per keyword or creator.")
@click.option("--cookies", "cookies_file", type=click.Path(exists=True, dir_okay=False),
              help="Login cookies: a browser-export JSON or a Netscape cookies.txt. The login is checked first.")
@click.option("--resume", is_flag=True, help="Continue the last interrupted crawl of PLATFORM instead of starting over.")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many items (continue later with --resume).")
@click.option("--refresh", is_flag=True, help="Re-fetch details and comments of posts already in the database.")
@click.option("--base-url", help="Map every host of the platform onto this base URL (a local replica).")
@click.option("--via", type=click.Choice(["api", "browser"]), default="api", show_default=True,
              help="Page-signed platforms (douyin, kuaishou, xhs, zhihu): 'browser' opens the platform's own search "
                   "page with your cookies and reads the answers to the calls its JS makes (used anyway when the "
                   "page's signing function is missing).")
@click.option("--config", "config", type=click.Path(exists=True, dir_okay=False),
              help="YAML file of the generic spider (PLATFORM = generic).")
@click.option("--evidence", "evidence_dir", type=click.Path(file_okay=False),
              help="Capture a screenshot and HTML snapshot of every level1/level2 hit into this directory.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default="WARNING",
              show_default=True, help="Scrapy log level.")
@db_option
@lexicon_option
@model_option
@lexicon_only_option
@click.option("--frontier", "frontier_url", metavar="redis://HOST:PORT/N",
              help="Crawl on a shared Redis frontier with other workers; posts go to its item stream for "
              "`grayscan ingest` (see `grayscan worker`).")
def crawl(platform: str, keywords: tuple[str, ...], creators: tuple[str, ...], comments: bool, comment_pages: int,
          max_pages: int, cookies_file: str | None, resume: bool, limit: int | None, refresh: bool,
          base_url: str | None, via: str, config: str | None, evidence_dir: str | None, log_level: str, db_path: str,
          lexicon_files: tuple[str, ...], model_path: str | None, lexicon_only: bool,
          frontier_url: str | None) -> None:
    """Crawl PLATFORM (douyin, kuaishou, xhs, weibo, bilibili, tieba, zhihu, or generic with --config):
    keyword search and/or creators' posts, optionally their comments; classify each post, store it and
    queue the hits.

    \b
    Examples:
      grayscan crawl weibo -k 征信修复 --comments --cookies weibo-cookies.json
      grayscan crawl bilibili --creator 12345 --max-pages 2
      grayscan crawl weibo --resume                  # after Ctrl-C or --limit
      grayscan crawl generic --config forum.yaml
    """
    from crawler.cookies import CookieFileError, load_cookies
    from crawler.run import BaseUrlError, CrawlJob, check_base_url, crawl as run_crawl
    from crawler.spiders import spider_class
    from crawler.spiders.generic import ConfigError, load_config

    from .progress import crawl_progress

    if platform == "generic":
        if not config:
            fail("the generic spider needs --config FILE.yaml")
        try:
            load_config(config)
        except ConfigError as exc:
            fail(str(exc))
    if via == "browser" and (platform == "generic" or not spider_class(platform).api_class.browser_page):
        fail(f"--via browser: {platform} has no browser route (douyin, kuaishou, xhs and zhihu have one)")
    if base_url:
        try:
            check_base_url(base_url)
        except BaseUrlError as exc:
            fail(str(exc))
    if cookies_file:
        try:
            load_cookies(cookies_file)
        except CookieFileError as exc:
            fail(str(exc))
    queries = list(keywords) or ([] if creators or platform == "generic" else default_keywords(lexicon_files))
    if frontier_url:
        from crawler.distributed import JobArgs

        from .cli_frontier import crawl_on_frontier

        crawl_on_frontier(frontier_url, platform, queries, list(creators),
                          JobArgs(max_pages, comments, comment_pages, refresh), base_url, cookies_file, log_level,
                          unsupported={"--resume": resume, "--limit": limit, "--evidence": evidence_dir,
                                       "--via browser": via == "browser"})
        return
    jobdir = job_dir(db_path, platform, config)
    if resume and not jobdir.exists():
        console.print(f"[yellow]nothing to resume in {jobdir}; starting a new crawl[/yellow]")
    if not resume and jobdir.exists():
        shutil.rmtree(jobdir)
    job = CrawlJob(platform, queries, max_pages=max_pages, base_url=base_url, creators=list(creators),
                   comments=comments, comment_pages=comment_pages, refresh=refresh, cookies_file=cookies_file,
                   jobdir=str(jobdir), limit=limit, config=config, via=via)
    check_classifier_inputs(lexicon_files, model_path, lexicon_only)
    overrides = {"LOG_LEVEL": log_level, "GRAYSCAN_LEXICON_FILES": list(lexicon_files),
                 "GRAYSCAN_MODEL": model_choice(model_path, lexicon_only)}
    with crawl_progress([platform]) as (on_item, on_response):
        (result,) = run_crawl([job], db_path, overrides=overrides, on_item=on_item, on_response=on_response)
    stats = result.stats
    reason = str(stats.get("finish_reason"))
    console.print(
        f"run {result.run_id}: {result.pages} pages fetched, {result.retried} retried, {result.lost} lost; "
        f"{result.stored} items stored ({stats.get('grayscan/new', 0)} new), {stats.get('grayscan/enqueued', 0)} "
        f"newly queued, finish: {reason}"
    )
    if reason == "finished" and result.outcome == "complete":
        shutil.rmtree(jobdir, ignore_errors=True)  # a crawl with lost pages keeps them there for --resume
    if result.note:
        colour = "yellow" if result.outcome == "complete" else "red"
        console.print(f"[{colour}]{result.note}[/{colour}]")
    if evidence_dir:
        capture_evidence(db_path, platform, stats.get("grayscan/hits") or [], evidence_dir, base_url, config)
    if result.outcome != "complete":
        raise SystemExit(OUTCOME_EXIT[result.outcome])


def capture_evidence(db_path: str, platform: str, hits: list, out_dir: str, base_url: str | None,
                     config: str | None) -> None:
    """Screenshot + HTML of each hit of this run, recorded in the evidence table."""
    from crawler.evidence import capture
    from crawler.middlewares import map_url
    from crawler.spiders import spider_class
    from crawler.spiders.generic import load_config
    from takedown import store

    if not hits:
        console.print("no level1/level2 hits in this run: no evidence to capture")
        return
    hosts = tuple(load_config(config).get("hosts") or ()) if config else spider_class(platform).api_class.hosts
    db = store.open_db(db_path)
    try:
        results = capture(db, [tuple(h) for h in hits], out_dir, map_url=lambda _p, url: map_url(url, base_url, hosts),
                          on_done=lambda c: console.print(f"evidence {c.platform}/{c.post_id}: "
                                                          + (f"[red]{c.error}[/red]" if c.error else "ok")))
    finally:
        db.close()
    ok = sum(1 for r in results if not r.error)
    console.print(f"evidence: {ok}/{len(results)} pages captured into {out_dir}")


@click.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--platform", type=PLATFORM,
              help="Platform of the records (default: from a 'platform' field, the file's path, or its columns).")
@db_option
@lexicon_option
@model_option
@lexicon_only_option
def import_(file: str, platform: str | None, db_path: str, lexicon_files: tuple[str, ...], model_path: str | None,
            lexicon_only: bool) -> None:
    """Load posts collected elsewhere into the database through the crawl pipeline (classify, store, queue).

    FILE is a MediaCrawler export (JSON, JSONL or CSV of contents or comments) or JSON Lines in
    grayscan's post shape ({"platform", "post_id", "text", "url", "author_name", ...}).

    \b
    Example:
      grayscan import MediaCrawler/data/xhs/json/search_contents_2025-01-01.json
    """
    from crawler.importer import import_posts
    from crawler.ingest import Ingestor, make_classifier
    from takedown import store

    check_classifier_inputs(lexicon_files, model_path, lexicon_only)
    db = store.open_db(db_path)
    try:
        ingestor = Ingestor(db, make_classifier(lexicon_files, model_choice(model_path, lexicon_only)))
        report = import_posts(file, platform, ingestor.add)
        ingestor.flush()
    finally:
        db.close()
    for problem in report.problems[:20]:
        console.print(f"[yellow]{file}:{problem.line}: skipped: {problem.message}[/yellow]")
    if len(report.problems) > 20:
        console.print(f"[yellow]... and {len(report.problems) - 20} more skipped records[/yellow]")
    counts = ingestor.counts
    tiers = ", ".join(f"{k.split('/')[1]} {v}" for k, v in sorted(counts.items()) if k.startswith("tier/"))
    console.print(f"imported {counts['stored']} posts ({counts['new']} new; {tiers or 'none'}), "
                  f"{counts['enqueued']} newly queued, {len(report.problems)} skipped")
    if report.read == 0 or report.problems:
        raise SystemExit(Exit.FAILED_RECORDS)


COMMANDS = [crawl, import_]
