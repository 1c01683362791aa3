"""Crawling on several machines: ``grayscan worker``, ``grayscan frontier push/status/clear``, ``grayscan
ingest``, and ``grayscan crawl --frontier`` (crawler/frontier.py, crawler/distributed.py, crawler/stream.py)."""

from __future__ import annotations

import signal
import threading

import click

from .exitcodes import Exit
from .options import console, db_option, fail, lexicon_only_option, lexicon_option, model_option
from .output import emit, format_option, resolve_format

frontier_option = click.option(
    "--frontier", "frontier_url", envvar="GRAYSCAN_FRONTIER", required=True, metavar="redis://HOST:PORT/N",
    help="The shared Redis frontier (or $GRAYSCAN_FRONTIER).")
#: The platforms a frontier crawls (the YAML-configured generic spider runs single-process only).
FRONTIER_PLATFORMS = ("douyin", "kuaishou", "xhs", "weibo", "bilibili", "tieba", "zhihu")


def connect(frontier_url: str):
    """The frontier at ``frontier_url``, or a clear error when it cannot be reached."""
    import redis

    from crawler.frontier import Frontier

    try:
        frontier = Frontier(frontier_url)
        frontier.redis.ping()
    except (ValueError, redis.RedisError) as exc:
        fail(f"cannot reach the frontier at {frontier_url}: {exc}")
    return frontier


def run_workers(frontier_url: str, platforms: list[str] | None, base_url: str | None, cookies: dict[str, str],
                overrides: dict) -> list:
    """Work on the frontier until its jobs are done; print what each platform did; exit like ``crawl``
    (returns the results when every platform finished)."""
    from crawler.distributed import work
    from crawler.frontier import STOP_REASONS
    from crawler.run import NOT_STARTED_REASONS

    from .progress import crawl_progress

    jobs = connect(frontier_url).jobs()
    chosen = [p for p in jobs if platforms is None or p in platforms]
    if not chosen:
        fail(f"no crawl jobs{' for ' + ', '.join(platforms) if platforms else ''} in {frontier_url}; "
             "start one with `grayscan frontier push PLATFORM -k KEYWORD`", Exit.USAGE)
    with crawl_progress(chosen) as (on_item, on_response):
        results = work(frontier_url, chosen, base_url=base_url, cookies=cookies, overrides=overrides,
                       on_item=on_item, on_response=on_response)
    for result in results:
        stats = result.stats
        console.print(f"{result.platform}: {stats.get('response_received_count', 0)} pages, {result.pushed} posts "
                      f"sent to the item stream, {stats.get('frontier/requeued', 0)} requests of dead workers "
                      f"re-queued, {result.lost} lost, finish: {result.reason}")
        if result.reason in STOP_REASONS:
            console.print(f"[red]{result.platform} stopped the crawl ({result.reason}); every worker of "
                          f"{result.platform} stops. Fix it, then `grayscan frontier push {result.platform}` "
                          "to go on.[/red]")
        if result.stats.get("grayscan/preflight"):
            console.print(f"[red]{result.stats['grayscan/preflight']}[/red]")
        elif result.reason == "no_route":
            console.print(f"[red]could not reach {result.platform} (the cause is above); its requests stay queued: "
                          "check the network or --base-url, then start the worker again[/red]")
    if any(r.reason in STOP_REASONS for r in results):
        raise SystemExit(Exit.STOPPED)
    if any(r.reason in NOT_STARTED_REASONS for r in results):
        raise SystemExit(Exit.USAGE)
    for result in results:
        if result.lost:
            console.print(f"[red]{result.platform}: {result.lost} {'request' if result.lost == 1 else 'requests'} "
                          "given up after every retry (URLs above), kept in the frontier's lost list (`grayscan "
                          f"frontier status` counts them); once {result.platform} answers again, `grayscan frontier "
                          f"push {result.platform} --requeue-lost` queues them for the workers[/red]")
    if any(r.lost for r in results):
        raise SystemExit(Exit.LOSSES)
    return results


def crawl_on_frontier(frontier_url: str, platform: str, keywords: list[str], creators: list[str], args,
                      base_url: str | None, cookies_file: str | None, log_level: str, unsupported: dict) -> None:
    """``grayscan crawl --frontier``: push the job and its seeds, then work on it with the other workers."""
    from crawler.distributed import push

    if platform not in FRONTIER_PLATFORMS:
        fail(f"--frontier crawls {', '.join(FRONTIER_PLATFORMS)}; run {platform} without it")
    given = [option for option, value in unsupported.items() if value]
    if given:
        fail(f"not with --frontier: {', '.join(given)} (the frontier keeps the crawl's state itself — a stopped "
             f"job goes on after `grayscan frontier push`, its given-up requests after `grayscan frontier push "
             f"{platform} --requeue-lost` — and `grayscan ingest` stores the posts)")
    frontier_ = connect(frontier_url)
    seen = frontier_.snapshot(platform).seen
    seeds = push(frontier_url, platform, args, keywords=keywords, creators=creators)
    console.print(f"pushed {seeds} seeds for {platform} to {frontier_url}; posts go to the item stream "
                  "(store them with `grayscan ingest --from ...`)")
    run_workers(frontier_url, [platform], base_url, {platform: cookies_file} if cookies_file else {},
                {"LOG_LEVEL": log_level})
    if frontier_.snapshot(platform).seen == seen:
        fail(f"nothing was fetched: this {platform} job had already fetched these seeds' first pages "
             f"(`grayscan frontier clear {platform}` starts the job afresh)", Exit.USAGE)


def parse_cookies(values: tuple[str, ...]) -> dict[str, str]:
    cookies = {}
    for value in values:
        platform, sep, path = value.partition("=")
        if not sep or platform not in FRONTIER_PLATFORMS or not path:
            fail(f"--cookies takes PLATFORM=FILE (platform one of {', '.join(FRONTIER_PLATFORMS)}), not {value!r}")
        cookies[platform] = path
    return cookies


@click.command()
@frontier_option
@click.option("--platform", "platforms", multiple=True, type=click.Choice(FRONTIER_PLATFORMS),
              help="Work only on these platforms' jobs (repeatable; default: every job in the frontier).")
@click.option("--base-url", help="Map every host of the platforms onto this base URL (a local replica).")
@click.option("--cookies", "cookies", multiple=True, metavar="PLATFORM=FILE",
              help="Login cookies of a platform for this worker (repeatable).")
@click.option("--stay", is_flag=True, help="Keep waiting for pushes to the jobs after they are done (until Ctrl-C).")
@click.option("--lease", type=click.FloatRange(min=0.5), default=15.0, show_default=True,
              help="Seconds without a heartbeat after which this worker counts as dead and its requests are re-queued.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default="WARNING",
              show_default=True, help="Scrapy log level.")
def worker(frontier_url: str, platforms: tuple[str, ...], base_url: str | None, cookies: tuple[str, ...],
           stay: bool, lease: float, log_level: str) -> None:
    """Join the crawls in a Redis frontier: take requests from the shared queue, push the posts found to
    the item stream (never to SQLite), and stop when every job is done. Start any number of workers on
    any number of machines; a worker that dies has its unfinished requests re-queued for the others.

    \b
    Example:
      grayscan worker --frontier redis://10.0.0.5:6379/0
    """
    results = run_workers(frontier_url, list(platforms) or None, base_url, parse_cookies(cookies),
                          {"LOG_LEVEL": log_level, "GRAYSCAN_FRONTIER_LEASE": lease, "GRAYSCAN_FRONTIER_STAY": stay})
    if not any(r.stats.get("response_received_count") for r in results):
        # Not a failure (other workers finished the jobs), but no "finished" that hides an idle run either.
        names = ", ".join(r.platform for r in results)
        console.print(f"nothing to do: no request was queued for {names} (the jobs are done; `grayscan frontier "
                      "status` shows them, `grayscan frontier push PLATFORM -k KEYWORD` queues more)")


@click.group()
def frontier() -> None:
    """Seed and watch a Redis frontier shared by crawl workers (see `grayscan worker`, `grayscan ingest`)."""


@frontier.command()
@click.argument("platform", type=click.Choice(FRONTIER_PLATFORMS))
@frontier_option
@click.option("--keyword", "-k", "keywords", multiple=True, help="Search query (repeatable).")
@click.option("--creator", "creators", multiple=True, help="A creator's id on the platform (repeatable).")
@click.option("--post", "posts", multiple=True, help="A post id whose comments to fetch (repeatable).")
@click.option("--max-pages", type=click.IntRange(min=1), default=5, show_default=True,
              help="Listing pages per keyword or creator.")
@click.option("--comments/--no-comments", default=False, show_default=True,
              help="Also fetch the first-level comments of each post found.")
@click.option("--comment-pages", type=click.IntRange(min=1), default=1, show_default=True, help="Comment pages per post.")
@click.option("--refresh", is_flag=True, help="Re-fetch details and comments of posts seen before.")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True),
              help="Requests per second to PLATFORM across all workers (default: one per its politeness delay, "
              "e.g. 1/3 for weibo; none against a loopback --base-url).")
@click.option("--requeue-lost", is_flag=True,
              help="Queue again the requests of PLATFORM's job that workers gave up after every retry.")
def push(platform: str, frontier_url: str, keywords: tuple[str, ...], creators: tuple[str, ...],
         posts: tuple[str, ...], max_pages: int, comments: bool, comment_pages: int, refresh: bool,
         rate: float | None, requeue_lost: bool) -> None:
    """Queue keywords, creators and post ids for PLATFORM's workers (creating or updating its job), or
    with --requeue-lost alone, the requests its workers gave up (keeping the job's settings).

    A seed whose first request was already fetched in this job is not fetched again
    (`grayscan frontier clear PLATFORM` starts afresh).

    \b
    Examples:
      grayscan frontier push weibo -k 征信修复 -k 停息挂账 --comments --frontier redis://10.0.0.5:6379/0
      grayscan frontier push weibo --requeue-lost --frontier redis://10.0.0.5:6379/0
    """
    from crawler.distributed import JobArgs, push as push_seeds

    if not (keywords or creators or posts or requeue_lost):
        fail("nothing to push: give --keyword, --creator, --post or --requeue-lost")
    frontier_ = connect(frontier_url)
    if requeue_lost:
        job = frontier_.jobs().get(platform)
        if job is None:
            fail(f"no {platform} job in {frontier_url}: nothing to re-queue")
        frontier_.start_job(platform, job)  # keeps the job's settings; lifts a stop like every push
        console.print(f"re-queued {frontier_.requeue_lost(platform)} lost {platform} requests in {frontier_url}")
    if keywords or creators or posts:
        count = push_seeds(frontier_url, platform,
                           JobArgs(max_pages, comments or bool(posts), comment_pages, refresh, rate),
                           keywords=list(keywords), creators=list(creators), posts=list(posts))
        console.print(f"pushed {count} seeds for {platform} to {frontier_url}")


@frontier.command()
@frontier_option
@format_option
def status(frontier_url: str, fmt: str | None, as_json: bool) -> None:
    """Per platform: requests queued, in flight, fingerprints seen, requests done, posts found, requests of
    dead workers re-queued, requests given up (re-queue them with `frontier push --requeue-lost`), live
    workers and state (on stdout); the posts waiting in the item stream for
    `grayscan ingest` (on stderr)."""
    from crawler.frontier import ITEM_STREAM

    frontier_ = connect(frontier_url)
    rows = []
    for s in (frontier_.snapshot(p) for p in frontier_.jobs()):
        state = (f"stopped: {s.stopped}" if s.stopped else "finished with losses" if s.finished and s.lost
                 else "finished" if s.finished else "crawling" if s.workers else "waiting for workers")
        rows.append({"platform": s.platform, "queued": s.queued, "in_flight": s.inflight, "seen": s.seen,
                     "done": s.done, "posts": s.items, "requeued": s.requeued, "lost": s.lost, "workers": s.workers,
                     "state": state})
    emit(rows, resolve_format(fmt, as_json), ["platform", "queued", "in_flight", "seen", "done", "posts", "requeued",
                                               "lost", "workers", "state"], title=f"frontier {frontier_url}")
    console.print(f"posts waiting for `grayscan ingest`: {frontier_.redis.xlen(ITEM_STREAM)}")


@frontier.command()
@click.argument("platform", type=click.Choice(FRONTIER_PLATFORMS))
@frontier_option
def clear(platform: str, frontier_url: str) -> None:
    """Forget PLATFORM's job: queue, seen set, lost requests, counters (posts already in the item stream stay)."""
    connect(frontier_url).clear(platform)
    console.print(f"cleared the {platform} job in {frontier_url}")


@click.command()
@click.option("--from", "frontier_url", envvar="GRAYSCAN_FRONTIER", required=True, metavar="redis://HOST:PORT/N",
              help="The frontier whose item stream to read (or $GRAYSCAN_FRONTIER).")
@db_option
@lexicon_option
@model_option
@lexicon_only_option
@click.option("--batch-size", type=click.IntRange(min=1), default=250, show_default=True,
              help="Posts per batch (one transaction each).")
@click.option("--until-done", is_flag=True, help="Exit once every crawl job is done and the stream is empty "
              "(default: run until Ctrl-C).")
@click.option("--consumer", help="This consumer's name in the stream's group (default: ingest-HOSTNAME).")
@click.option("--claim-after", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Take over entries another consumer left unacknowledged this many seconds.")
def ingest(frontier_url: str, db_path: str, lexicon_files: tuple[str, ...], model_path: str | None,
           lexicon_only: bool, batch_size: int, until_done: bool, consumer: str | None, claim_after: float) -> None:
    """Classify and store the posts the workers send to the item stream: one consumer per database,
    batches in one transaction each, acknowledged only once committed (a consumer killed mid-batch
    loses nothing and stores nothing twice when restarted).

    \b
    Example:
      grayscan ingest --from redis://10.0.0.5:6379/0 --db grayscan.db
    """
    from crawler.stream import IngestError, StreamIngest

    from .cli_crawl import check_classifier_inputs, model_choice

    check_classifier_inputs(lexicon_files, model_path, lexicon_only)
    connect(frontier_url)
    consumer_ = StreamIngest(frontier_url, db_path, lexicon_files=lexicon_files,
                             model=model_choice(model_path, lexicon_only), consumer=consumer, batch_size=batch_size,
                             claim_after=claim_after)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # finish the batch in hand, then stop
        signal.signal(signum, lambda *_: stop.set())
    console.print(f"ingesting from {frontier_url} into {db_path} as {consumer_.consumer}")
    failed = False
    try:
        counts = consumer_.run(until_done=until_done, stop=stop,
                               on_batch=lambda c: console.print(f"batch: {c['stored']} posts stored "
                                                                f"({c['new']} new), {c['enqueued']} queued"))
    except IngestError as exc:
        console.print(f"[red]{exc}[/red]")
        counts, failed = consumer_.counts, True
    finally:
        consumer_.close()
    tiers = ", ".join(f"{k.split('/')[1]} {v}" for k, v in sorted(counts.items()) if k.startswith("tier/"))
    console.print(f"ingested {counts['stored']} posts in {consumer_.batches} batches ({counts['new']} new; "
                  f"{tiers or 'none'}), {counts['enqueued']} newly queued, {consumer_.bad} unreadable entries skipped")
    if failed or consumer_.bad:
        raise SystemExit(Exit.FAILED_RECORDS)
    if until_done and not counts["stored"]:
        console.print("[yellow]nothing was ingested: no worker sent posts to the stream[/yellow]")
        raise SystemExit(Exit.FAILED_RECORDS)


COMMANDS = [worker, frontier, ingest]
