"""Chromium for the page-JS signers, the browser route and evidence capture: launch settings and the
preflight that runs before a crawl's first request.

Playwright cannot download its own browsers here, so Debian's Chromium is used through
``executable_path``; ``GRAYSCAN_CHROMIUM`` points elsewhere when needed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

CHROMIUM = "/usr/bin/chromium"
#: What to install when Chromium is missing (Debian/Ubuntu).
CHROMIUM_PACKAGE = "chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: How long the preflight waits for a platform page to load.
PAGE_TIMEOUT_MS = 30_000


def chromium_path() -> str:
    return os.environ.get("GRAYSCAN_CHROMIUM", CHROMIUM)


def launch_options() -> dict[str, Any]:
    """Keyword arguments for ``playwright.chromium.launch``."""
    return {"executable_path": chromium_path(), "headless": True, "args": CHROMIUM_ARGS}


@dataclass
class Problem:
    """Why a browser-based crawl cannot go ahead as asked: ``no_browser`` (Chromium missing or broken),
    ``no_page`` (the platform's page does not open) or ``no_signer`` (the page lacks its signing function)."""

    kind: str
    message: str


def missing_chromium() -> Problem | None:
    """A Problem when the Chromium executable is not there (checked without starting it)."""
    path = chromium_path()
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return None
    return Problem("no_browser", f"Chromium not found at {path}: install it (apt-get install {CHROMIUM_PACKAGE}) "
                                 "or point GRAYSCAN_CHROMIUM at a Chromium executable")


async def check_page(url: str, probe: str | None = None, *, what: str = "page") -> Problem | None:
    """Start Chromium, open ``url`` and, with ``probe`` (a JS expression), check the page defines what it should."""
    problem = missing_chromium()
    if problem:
        return problem
    from playwright.async_api import Error, async_playwright

    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(**launch_options())
        except Error as exc:
            first = str(exc).strip().splitlines()[0]
            return Problem("no_browser", f"Chromium at {chromium_path()} does not start ({first}): reinstall it "
                                         f"(apt-get install --reinstall {CHROMIUM_PACKAGE})")
        try:
            page = await browser.new_page()
            try:
                response = await page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
            except Error as exc:
                return Problem("no_page", f"the {what} {url} does not open ({str(exc).strip().splitlines()[0]}); "
                                          "check the network connection or --base-url")
            if response is not None and response.status >= 400:
                return Problem("no_page", f"the {what} {url} answered HTTP {response.status}; check --base-url")
            if probe and not await page.evaluate(f"() => Boolean({probe})"):
                return Problem("no_signer", f"the {what} {url} has no {probe.rsplit('typeof ', 1)[-1].split(' ')[0]} "
                                            "(the platform changed its page JS)")
        finally:
            await browser.close()
    return None


def run_isolated(check: Callable[[], Any]) -> Any:
    """Run the coroutine ``check()`` on an event loop of its own thread: callable while Scrapy's asyncio
    reactor owns this thread's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(check())).result()
