"""The engine every platform spider shares.

A platform is described by an ``Api`` object of pure functions: which ``Call`` starts a keyword
search, a creator's post list or a post's comments, how each answer parses into items and further
calls, and which answers are faults (rate limit, captcha, expired login, rejected signature).
``PlatformSpider`` turns calls into Scrapy requests and applies the same policy to every platform:
page limits, back-off and retries on rate limits, stopping on a captcha, retrying truncated or
undecodable bodies (Scrapy's ``get_retry_request``, ``RETRY_TIMES``) and accounting for every page
given up: it is logged, counted (``grayscan/lost``), kept in the job state for ``--resume``, and the
listing goes on past it where the cursor is a page number. Details of posts already in the database
are not fetched again.
"""

from __future__ import annotations

import asyncio
import json
import random
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import CloseSpider
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError

from ..items import PostItem
from ..middlewares import NO_ROUTE_ERRORS, retry_delay
from ..parsing import utc_now

#: Steps whose pages count against ``max_pages`` (the others against ``comment_pages``).
LISTING_STEPS = ("search", "creator")
#: Request meta that a request asked again keeps: its retry count, and which lost page it is (--resume).
KEPT_META = ("retry_times", "lost_key")
#: HTTP answers the platforms use for blocks; they reach the parsers' fault checks instead of being dropped.
FAULT_STATUSES = [401, 403, 406, 412, 429, 432, 461, 471]


@dataclass
class Call:
    """A request a parser asks for, in plain values so it pickles into JOBDIR."""

    step: str  # the Api method that parses the answer: parse_<step>
    url: str
    method: str = "GET"
    json: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    ctx: dict[str, Any] = field(default_factory=dict)  # keyword, post id, cursors, a pending item...
    page: int = 1
    sign: bool = False  # pass through the platform's signer before download
    post_id: str | None = None  # the post a detail/comments call is about (skipped when already stored)


@dataclass
class Fault:
    """An answer that is not data: ``throttle`` backs off and retries; the rest stop the platform."""

    kind: str  # throttle | captcha | login | signature | error
    message: str


class Api:
    """A platform's endpoints and parsers. Subclasses override what the platform has."""

    platform = ""
    hosts: tuple[str, ...] = ()
    #: Cookies that prove a login; named in the message when the preflight check fails.
    login_cookies: tuple[str, ...] = ()

    def login_check(self) -> Call | None:
        """A cheap authenticated call whose answer says whether the login is valid."""
        return None

    def logged_in(self, payload: Any) -> bool:
        return True

    #: Whether the login check must run even without a cookie file (it also fetches state, e.g. keys).
    always_check = False

    def setup(self, payload: Any) -> None:
        """Keep what the login check's answer carries besides the login state (e.g. signing keys)."""

    def search(self, keyword: str) -> Call:
        raise NotImplementedError(f"{self.platform} has no keyword search")

    def creator(self, creator_id: str) -> Call:
        raise NotImplementedError(f"{self.platform} has no creator listing")

    def comments(self, post: PostItem) -> Call | None:
        return None

    #: The browser route (--via browser): the platform's search page, whose own JS makes the signed API
    #: calls, and which step parses the answer of each API path it calls.
    browser_page: str | None = None
    browser_steps: dict[str, str] = {}

    def unsigned(self, call: Call) -> Call | None:
        """A call that gets the same data without a signature (the browser route cannot sign), or None."""
        return None

    #: Listing steps whose cursor is the page number (``search(keyword, page)``, ``creator(id, page=)``).
    numbered_steps: tuple[str, ...] = ()

    def next_page(self, call: Call) -> Call | None:
        """The listing call after ``call`` when its answer was lost, if the cursor allows: a page number
        can be counted on; an opaque cursor that only the lost answer held cannot (None)."""
        if call.step not in self.numbered_steps:
            return None
        if call.step == "search":
            return self.search(call.ctx["keyword"], call.page + 1)
        return self.creator(call.ctx["creator"], page=call.page + 1)

    def fault(self, status: int, headers: dict[str, str], text: str, payload: Any) -> Fault | None:
        """Classify an answer; ``payload`` is the decoded JSON or None when it was not JSON."""
        return None

    def decode(self, step: str, text: str) -> Any:
        """The answer's payload; JSON unless a step reads HTML. Raises ValueError when malformed."""
        return json.loads(text)


def header_dict(response: Response) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v[0].decode("latin-1") for k, v in response.headers.items() if v}


class PlatformSpider(scrapy.Spider):
    """Runs an ``Api``: keyword search, creator listings and first-level comments.

    Arguments (from ``grayscan crawl``): ``keywords``, ``creators``, ``max_pages`` (listing pages
    per query), ``comments`` (also fetch first-level comments of each new post),
    ``comment_pages``, ``refresh`` (re-fetch details/comments of posts already stored).
    """

    api_class: type[Api] = Api
    handle_httpstatus_list = FAULT_STATUSES

    def __init__(
        self,
        keywords: list[str] | str | None = None,
        max_pages: int | str = 5,
        creators: list[str] | str | None = None,
        comments: bool | str = False,
        comment_pages: int | str = 1,
        refresh: bool | str = False,
        known_ids: Iterable[str] = (),
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.api = self.api_class()
        self.keywords = _as_list(keywords)
        self.creators = _as_list(creators)
        self.max_pages = int(max_pages)
        self.with_comments = _as_bool(comments)
        self.comment_pages = int(comment_pages)
        self.refresh = _as_bool(refresh)
        self.known_ids = set(known_ids)

    @property
    def platform(self) -> str:
        return self.api.platform

    @property
    def hosts(self) -> tuple[str, ...]:
        return self.api.hosts

    # -- requests -------------------------------------------------------------------------
    async def start(self):
        if self.settings.get("GRAYSCAN_VIA") == "browser":
            from ..browse import browse

            async for output in browse(self):
                yield output
            return
        check = self.api.login_check()
        if check and (self.settings.get("GRAYSCAN_COOKIES_FILE") or self.api.always_check):
            yield self.request(check, dont_filter=True)
            return
        for request in self.first_calls():
            yield request

    def first_calls(self) -> Iterator[Request]:
        for keyword in self.keywords:
            yield self.request(self.api.search(keyword))
        for creator in self.creators:
            yield self.request(self.api.creator(creator))
        # Pages given up by an earlier run of this job (--resume): asked again past the duplicate filter.
        for key, entry in list(self.lost_pages.items()):
            request = self.request(Call(**entry["call"]), dont_filter=True)
            request.meta["lost_key"] = key
            yield request

    @property
    def lost_pages(self) -> dict[str, dict[str, Any]]:
        """Pages given up, by call key; kept in the job state (JOBDIR ``spider.state``) across runs."""
        state = getattr(self, "state", None)
        return state.setdefault("lost", {}) if state is not None else {}

    def request(self, call: Call, *, attempt: int = 0, dont_filter: bool = False) -> Request:
        headers = dict(call.headers)
        body: str | None = None
        if call.json is not None:
            body = json.dumps(call.json, ensure_ascii=False, separators=(",", ":"))
            headers.setdefault("Content-Type", "application/json;charset=UTF-8")
        elif call.form is not None:
            return scrapy.FormRequest(
                call.url, formdata=call.form, headers=headers, callback=self.on_response, errback=self.on_error,
                meta={"call": asdict(call), "attempt": attempt, "sign": call.sign}, dont_filter=dont_filter,
            )
        return Request(
            call.url,
            method=call.method if body is None else "POST",
            body=body,
            headers=headers,
            callback=self.on_response,
            errback=self.on_error,
            meta={"call": asdict(call), "attempt": attempt, "sign": call.sign},
            dont_filter=dont_filter,
        )

    def wanted(self, call: Call) -> bool:
        """Whether to follow ``call``: page limits, and no detail/comments for already stored posts."""
        if call.step in LISTING_STEPS:
            return call.page <= self.max_pages
        if call.step == "comments":
            if not self.with_comments or call.page > self.comment_pages:
                return False
        # Only the first call about a stored post is skipped: later pages continue a resumed listing.
        if call.page == 1 and call.post_id in self.known_ids and not self.refresh:
            self.crawler.stats.inc_value("grayscan/known_skipped")
            return False
        return True

    # -- responses ------------------------------------------------------------------------
    async def on_response(self, response: Response):
        call = Call(**response.meta["call"])
        stats = self.crawler.stats
        text = response.text if hasattr(response, "text") else response.body.decode("utf-8", "replace")
        payload, error = None, None
        try:
            payload = self.api.decode(call.step, text) if text.strip() else None
        except ValueError as exc:
            error = exc
        fault = self.api.fault(response.status, header_dict(response), text, payload)
        if fault is not None:
            async for retry in self.handle_fault(fault, call, response):
                yield retry
            return
        if payload is None:
            async for output in self.retry_malformed(response, f"undecodable answer ({error or 'empty body'})"):
                yield output
            return
        if call.step == "login_check":
            for output in self.after_login_check(payload):
                yield output
            return
        parser = getattr(self.api, f"parse_{call.step}")
        try:
            outputs = list(parser(payload, {**call.ctx, "page": call.page}))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            async for output in self.retry_malformed(response, f"unexpected {call.step} answer shape ({exc})"):
                yield output
            return
        stats.inc_value("grayscan/pages")
        self.lost_pages.pop(response.meta.get("lost_key", ""), None)
        for output in outputs:
            if isinstance(output, Call):
                if self.wanted(output):
                    yield self.request(output)
                continue
            yield output
            if output.get("kind", "post") == "post" and self.with_comments:
                follow = self.api.comments(output)
                if follow and self.wanted(follow):
                    yield self.request(follow)

    def after_login_check(self, payload: Any) -> Iterator[Request | PostItem]:
        self.api.setup(payload)
        cookie_file = self.settings.get("GRAYSCAN_COOKIES_FILE")
        if cookie_file and not self.api.logged_in(payload):
            message = (
                f"{self.platform}: the login has expired or is missing (cookies: {cookie_file}). Log in to "
                f"{self.platform} in a browser, export its cookies ({', '.join(self.api.login_cookies)}) and pass "
                "them with --cookies."
            )
            self.logger.error(message)
            raise CloseSpider("login_expired")
        self.logger.info("%s: login valid", self.platform)
        yield from self.first_calls()

    async def handle_fault(self, fault: Fault, call: Call, response: Response):
        attempt = response.meta.get("attempt", 0)
        await self.back_off(fault, response.url, attempt)
        again = self.request(call, attempt=attempt + 1, dont_filter=True)
        again.meta.update({k: response.meta[k] for k in KEPT_META if k in response.meta})
        yield again

    async def back_off(self, fault: Fault, url: str, attempt: int) -> None:
        """Wait out a rate limit (attempt 0, 1, ...); stop the platform (CloseSpider) on any other fault, or
        when the rate limit outlasts GRAYSCAN_BACKOFF_RETRIES back-offs."""
        stats = self.crawler.stats
        stats.inc_value(f"grayscan/fault/{fault.kind}")
        if fault.kind != "throttle":
            advice = {
                "captcha": "solve the verification in a browser logged in with the same account, export the "
                "cookies again, then rerun with --resume",
                "login": "log in again in a browser and export fresh cookies with --cookies",
                "signature": "the platform rejected our request signature: fix its signer in crawler/signing.py",
            }.get(fault.kind, "see the log")
            self.logger.error("%s stopped at %s: %s; %s", self.platform, url, fault.message, advice)
            raise CloseSpider(fault.kind)
        limit = self.settings.getint("GRAYSCAN_BACKOFF_RETRIES", 4)
        if attempt >= limit:
            self.logger.error("%s still rate-limited after %d back-offs at %s (%s); stopping %s",
                              self.platform, attempt, url, fault.message, self.platform)
            raise CloseSpider("rate_limited")
        base = self.settings.getfloat("GRAYSCAN_BACKOFF_BASE", 5.0)
        delay = base * 2**attempt + random.uniform(0, base / 2)
        self.logger.warning("%s rate limit at %s (%s); backing off %.1fs", self.platform, url, fault.message, delay)
        stats.inc_value("grayscan/backoff")
        await asyncio.sleep(delay)

    async def retry_malformed(self, response: Response, reason: str):
        """Ask a truncated or undecodable answer again after a back-off; give the page up after RETRY_TIMES."""
        self.crawler.stats.inc_value("grayscan/malformed")
        # Asked again from its call (not a copy of the downloaded request: that holds download-time meta).
        again = self.request(Call(**response.meta["call"]))
        again.meta.update({k: response.meta[k] for k in KEPT_META if k in response.meta})
        retry = get_retry_request(again, spider=self, reason="malformed_answer")
        if retry is None:
            for output in self.give_up(response.request, f"{reason}: {response.body[:60]!r}"):
                yield output
            return
        self.logger.warning("%s from %s; retrying", reason, response.url)
        await asyncio.sleep(retry_delay(self.settings, retry.meta["retry_times"]))
        yield retry

    def on_error(self, failure):
        """A request that failed after Scrapy's retries (connection drops, DNS, timeouts, 5xx)."""
        request = failure.request
        if failure.check(HttpError):
            reason = f"HTTP {failure.value.response.status}"
        else:
            reason = f"{type(failure.value).__name__}: {failure.value}"
        no_route = failure.check(*NO_ROUTE_ERRORS) and not self.crawler.stats.get_value("response_received_count")
        following = list(self.give_up(request, reason, log=not no_route))
        if no_route:
            self.logger.error("%s: cannot reach %s (%s); check the network connection or --base-url",
                              self.platform, urllib.parse.urlsplit(request.url).netloc, reason)
            raise CloseSpider("no_route")  # raised while Scrapy iterates this errback's output: a clean close
        yield from following

    def give_up(self, request: Request, reason: str, *, log: bool = True) -> Iterator[Request]:
        """Account for a page given up: log and count it, keep it in the job state so that --resume asks
        again, and go on with the listing past it when its cursor allows."""
        call = Call(**request.meta["call"])
        request.meta["given_up"] = reason  # a frontier worker keeps the request in the lost list (crawler/frontier.py)
        self.crawler.stats.inc_value("grayscan/lost")
        if log:
            frontier = self.settings.get("GRAYSCAN_FRONTIER")
            again = f"`grayscan frontier push {self.platform} --requeue-lost`" if frontier else "--resume"
            self.logger.error("%s: gave up %s after %d retries (%s); %s fetches it again",
                              self.platform, request.url, request.meta.get("retry_times", 0), reason, again)
        if call.step != "login_check":  # a resumed crawl checks the login anyway
            self.lost_pages[call_key(call)] = {"call": asdict(call), "reason": reason}
        following = self.api.next_page(call) if call.step in LISTING_STEPS else None
        if following is not None and self.wanted(following):
            yield self.request(following)


def call_key(call: Call) -> str:
    """What identifies a call across runs (its signature parameters are added later, at download time)."""
    return json.dumps([call.step, call.method, call.url, call.json, call.form], ensure_ascii=False, sort_keys=True)


def _as_list(value: list[str] | str | None) -> list[str]:
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    return list(value or [])


def _as_bool(value: bool | str) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")


def post_item(platform: str, post_id: Any, url: str, text: str, **fields: Any) -> PostItem:
    """A PostItem with the fields every platform fills; ``fields`` adds or overrides the rest."""
    item = PostItem(
        platform=platform,
        post_id=str(post_id),
        kind="post",
        parent_id=None,
        url=url,
        title=None,
        text=text,
        author_id=None,
        author_name=None,
        author_url=None,
        published_at=None,
        crawled_at=utc_now(),
        keyword=None,
        raw={},
    )
    item.update(fields)  # type: ignore[typeddict-item]
    return item
