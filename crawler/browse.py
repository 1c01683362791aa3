"""The browser route (``--via browser``) for page-signed platforms: no page-JS function names needed.

The platform's own search page is opened in Chromium with the user's login cookies; the keyword is
typed into its search box and the page scrolled for more, so the page's own JavaScript makes its
signed API calls. Their JSON answers are captured (``page.on("response")``) and go through the
platform's pure parsers and fault checks like answers fetched by the API route. Calls the parsers
ask for next (e.g. XHS note bodies) go through Scrapy when they need no signature
(``Api.unsigned``); the others are skipped and counted (``grayscan/browser_skipped``).
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .browser import launch_options
from .cookies import load_cookies
from .middlewares import map_url
from .spiders.base import LISTING_STEPS, Call, Fault

if TYPE_CHECKING:
    from .spiders.base import PlatformSpider

#: The search box of a platform's search page (its first text input when none is marked as search).
SEARCH_BOX = "input[type=search], input[placeholder*='搜索'], input[type=text], input:not([type])"


def browser_cookies(cookie_file: str | None, base_url: str | None, hosts: tuple[str, ...]) -> list[dict[str, Any]]:
    """The login cookies as Playwright cookies; with --base-url they go to the replica's host."""
    if not cookie_file:
        return []
    cookies = []
    for cookie in load_cookies(cookie_file):
        where = {"url": base_url} if base_url else {"domain": cookie.domain or f".{hosts[-1]}", "path": cookie.path or "/"}
        cookies.append({"name": cookie.name, "value": cookie.value, **where})
    return cookies


async def browse(spider: PlatformSpider) -> AsyncIterator[Any]:
    """Items and follow-up requests from the platform's search page, one keyword after another."""
    api, settings = spider.api, spider.settings
    base_url = settings.get("GRAYSCAN_BASE_URL")
    if spider.creators:
        spider.logger.warning("%s: the browser route searches keywords only; creators need --via api", spider.platform)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**launch_options())
        try:
            context = await browser.new_context(locale="zh-CN")
            await context.add_cookies(browser_cookies(settings.get("GRAYSCAN_COOKIES_FILE"), base_url, api.hosts))
            for keyword in spider.keywords:
                page = await context.new_page()
                try:
                    async for output in search_in_page(spider, page, keyword, map_url(api.browser_page, base_url, api.hosts)):
                        yield output
                finally:
                    await page.close()
        finally:
            await browser.close()


async def search_in_page(spider: PlatformSpider, page, keyword: str, page_url: str) -> AsyncIterator[Any]:
    """Type ``keyword`` into the search page, then take its API answers page by page, scrolling for the next
    while the parser says there is more (up to --max-pages)."""
    api, stats = spider.api, spider.crawler.stats
    idle = spider.settings.getfloat("GRAYSCAN_BROWSER_IDLE", 20.0)
    answers: asyncio.Queue[asyncio.Future] = asyncio.Queue()

    def on_response(response) -> None:
        step = api.browser_steps.get(urllib.parse.urlsplit(response.url).path)
        if step:
            answers.put_nowait(asyncio.ensure_future(read_answer(response, step)))

    page.on("response", on_response)
    await page.goto(page_url, wait_until="load")
    box = page.locator(SEARCH_BOX).first
    await box.fill(keyword)
    await box.press("Enter")
    ctx = api.search(keyword).ctx
    pages, attempt = 0, 0
    while pages < spider.max_pages:
        try:
            answer = await (await asyncio.wait_for(answers.get(), idle))
        except TimeoutError:
            stats.inc_value("grayscan/lost")
            spider.logger.error("%s: the search page %s made no call for page %d of %r within %.0fs; rerun to get it",
                                spider.platform, page_url, pages + 1, keyword, idle)
            return
        payload = decoded(api, answer)
        fault = api.fault(answer["status"], answer["headers"], answer["text"], payload)
        if fault is None and payload is None:
            fault = Fault("throttle", "undecodable answer")  # the page asks again when scrolled, like after a limit
        if fault is not None:
            await spider.back_off(fault, answer["url"], attempt)  # raises CloseSpider to stop
            attempt += 1
            await ask_again(page, box, pages)
            continue
        attempt, pages, more = 0, pages + 1, False
        stats.inc_value("grayscan/pages")
        for output in getattr(api, f"parse_{answer['step']}")(payload, {**ctx, "page": pages}):
            if not isinstance(output, Call):
                yield output
                if output.get("kind", "post") == "post" and spider.with_comments and api.comments(output):
                    stats.inc_value("grayscan/browser_skipped")  # comment listings are signed calls
                continue
            if output.step in LISTING_STEPS:
                more = True  # the page asks for its next page itself, when scrolled
                continue
            follow = api.unsigned(output) if output.sign else output
            if follow is None:
                stats.inc_value("grayscan/browser_skipped")
            elif spider.wanted(follow):
                yield spider.request(follow)
        if not more:
            return
        await ask_again(page, box, pages)


async def read_answer(response, step: str) -> dict[str, Any]:
    return {"step": step, "url": response.url, "status": response.status, "headers": await response.all_headers(),
            "text": await response.text()}


def decoded(api, answer: dict[str, Any]) -> Any:
    try:
        return api.decode(answer["step"], answer["text"]) if answer["text"].strip() else None
    except ValueError:
        return None


async def ask_again(page, box, pages: int) -> None:
    """Make the page ask for its next results: scroll to the end (or search again before the first page)."""
    if pages == 0:
        await box.press("Enter")
    else:
        await page.mouse.move(300, 300)
        await page.mouse.wheel(0, 100_000)
