"""``grayscan doctor``: one table saying whether this machine is ready to crawl, and what to fix."""

from __future__ import annotations

import click
from rich.table import Table

from .exitcodes import Exit
from .options import console, db_option

STATUS_STYLE = {"ok": "[green]ok[/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}


@click.command()
@db_option
@click.option("--cookies", "cookie_args", multiple=True, metavar="PLATFORM=FILE",
              help="A platform's login cookie file to check (repeatable).")
@click.option("--model", "model_path", type=click.Path(file_okay=False), help="Model directory to check "
              "(default: the bundled model).")
@click.option("--lexicon-only", is_flag=True, help="Skip the model check (crawls with --lexicon-only).")
@click.option("--base-url", help="Check the page-signed platforms' pages on this base URL (a replica).")
@click.option("--online", is_flag=True, help="Open the page-signed platforms' real pages to check their signers.")
def doctor(db_path: str, cookie_args: tuple[str, ...], model_path: str | None, lexicon_only: bool,
           base_url: str | None, online: bool) -> None:
    """Check Chromium, CJK fonts, the classifier model, the database and each platform's cookies and page
    signer. Exit status 2 when something a crawl needs is broken.

    \b
    Example:
      grayscan doctor --cookies xhs=xhs-cookies.json --online
    """
    from crawler.doctor import run_checks
    from crawler.run import BaseUrlError, check_base_url
    from crawler.spiders import PLATFORMS

    cookies = {}
    for arg in cookie_args:
        platform, sep, path = arg.partition("=")
        if not sep or platform not in PLATFORMS:
            raise click.BadParameter(f"{arg!r}: expected PLATFORM=FILE, PLATFORM one of {', '.join(PLATFORMS)}",
                                     param_hint="--cookies")
        cookies[platform] = path
    if base_url:
        try:
            check_base_url(base_url)
        except BaseUrlError as exc:
            raise click.BadParameter(str(exc), param_hint="--base-url") from None
    checks = run_checks(db_path, model_path=model_path, with_model=not lexicon_only, cookies=cookies,
                        base_url=base_url, online=online)
    table = Table(title="grayscan doctor")
    for column in ("check", "status", "detail"):
        table.add_column(column, overflow="fold")
    for check in checks:
        table.add_row(check.name, STATUS_STYLE[check.status], check.detail)
    console.print(table)
    for check in checks:
        if check.status != "ok":
            fix = f" — fix: {check.fix}" if check.fix else ""
            console.print(f"{STATUS_STYLE[check.status]} {check.name}: {check.detail}{fix}")
    failed = [c for c in checks if c.status == "fail"]
    console.print(f"{len(failed)} blocking problem{'s' if len(failed) > 1 else ''}" if failed else "ready to crawl")
    if failed:
        raise SystemExit(Exit.USAGE)


COMMANDS = [doctor]
