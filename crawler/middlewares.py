"""Transport concerns: request signing, login cookies, ``--base-url`` mapping, signature-blind fingerprints,
retries with back-off.

Order in ``process_request`` (see settings): signing (40) sees the platform URL, base-URL mapping (50)
then moves it onto the replica, and the login cookies middleware (700, replacing Scrapy's) adds cookies last.
"""

from __future__ import annotations

import asyncio
import random
import time
import urllib.parse
from http.cookiejar import Cookie

from scrapy import signals
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
from scrapy.http import Request
from scrapy.utils.request import RequestFingerprinter

from .cookies import load_cookies
from .signing import SIGNATURE_PARAMS, Signer, default_signers

#: A signature older than this is recomputed (e.g. for requests restored from JOBDIR by --resume).
SIGNATURE_TTL = 120.0


def map_url(url: str, base_url: str | None, hosts: tuple[str, ...] | set[str]) -> str:
    """``url`` moved onto ``base_url`` (scheme, host, path prefix) when its host is one of ``hosts``."""
    if not base_url:
        return url
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in hosts:
        return url
    base = urllib.parse.urlsplit(base_url)
    mapped = parts._replace(scheme=base.scheme, netloc=base.netloc, path=base.path.rstrip("/") + parts.path)
    return urllib.parse.urlunsplit(mapped)


class BaseUrlMiddleware:
    """Rewrites requests to any of the spider's ``hosts`` onto ``GRAYSCAN_BASE_URL``.

    Path and query are preserved, so a spider written against the real endpoints runs unchanged
    against a local replica on 127.0.0.1.
    """

    def __init__(self, base_url: str | None):
        self.base_url = base_url
        self.hosts: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler.settings.get("GRAYSCAN_BASE_URL"))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider):
        self.hosts = set(getattr(spider, "hosts", ()))

    def process_request(self, request: Request, spider=None):
        mapped = map_url(request.url, self.base_url, self.hosts)
        if mapped == request.url:
            return None
        # The platform URL stays in meta: links on replica pages resolve against it, not the replica.
        return request.replace(url=mapped, meta={**request.meta, "platform_url": request.url}, dont_filter=True)


class SigningMiddleware:
    """Signs requests marked ``meta["sign"]`` with the platform's signer from crawler/signing.py."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.signer: Signer | None = None

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider):
        platform = getattr(spider, "platform", "")
        choice = (self.crawler.settings.getdict("GRAYSCAN_SIGNERS") or {}).get(platform)
        self.signer = None if choice == "none" else default_signers().get(platform)
        self.base_url = self.crawler.settings.get("GRAYSCAN_BASE_URL")
        self.hosts = tuple(getattr(spider, "hosts", ()))

    async def spider_closed(self, spider):
        if self.signer is not None:
            await self.signer.close()

    async def process_request(self, request: Request, spider=None):
        if not request.meta.get("sign") or self.signer is None:
            return None
        if time.time() - request.meta.get("signed_at", 0) < SIGNATURE_TTL:
            return None
        url = strip_signature(request.url)
        form = b"x-www-form-urlencoded" in (request.headers.get("Content-Type") or b"")
        body = request.body.decode("utf-8")
        if form:
            body = strip_signature("?" + body)[1:]
        kwargs = {"map_url": lambda u: map_url(u, self.base_url, self.hosts)} if hasattr(self.signer, "page_url") else {}
        signature = await self.signer.sign(request.method, url, body, **kwargs)
        extra = urllib.parse.urlencode(signature.params)
        if extra and form:
            body = f"{body}&{extra}" if body else extra
        elif extra:
            url += ("&" if "?" in url else "?") + extra
        self.crawler.stats.inc_value("grayscan/signed")
        signed = request.replace(url=url, body=body, meta={**request.meta, "signed_at": time.time()}, dont_filter=True)
        for name, value in signature.headers.items():
            signed.headers[name] = value
        return signed


def strip_signature(url: str) -> str:
    """``url`` without the query parameters that hold a signature."""
    parts = urllib.parse.urlsplit(url)
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in pairs if k not in SIGNATURE_PARAMS]
    if len(query) == len(pairs):
        return url
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class SignatureBlindFingerprinter(RequestFingerprinter):
    """Request fingerprints that ignore signature parameters, so dedup and --resume treat a re-signed
    request (new ``wts``/``w_rid``) as the request it is. An unsigned request (the usual case when it is
    scheduled) is fingerprinted as itself, so Scrapy's per-request cache answers the repeated asks."""

    def fingerprint(self, request: Request) -> bytes:
        url = strip_signature(request.url)
        return super().fingerprint(request if url == request.url else request.replace(url=url))


class LoginCookiesMiddleware(CookiesMiddleware):
    """Scrapy's cookie handling, with the jar seeded from ``GRAYSCAN_COOKIES_FILE``.

    Cookies live only in this in-memory jar: they are not part of any request's meta or headers
    while it waits in the scheduler, so JOBDIR never holds them, and they are never logged.
    """

    @classmethod
    def from_crawler(cls, crawler):
        middleware = super().from_crawler(crawler)
        middleware.cookie_file = crawler.settings.get("GRAYSCAN_COOKIES_FILE")
        middleware.base_url = crawler.settings.get("GRAYSCAN_BASE_URL")
        crawler.signals.connect(middleware.seed_jar, signal=signals.spider_opened)
        return middleware

    def seed_jar(self, spider):
        if not self.cookie_file:
            return
        hosts = [urllib.parse.urlsplit(self.base_url).hostname] if self.base_url else list(spider.hosts)
        jar = self.jars[None]
        count = 0
        for cookie in load_cookies(self.cookie_file):
            domains = hosts if self.base_url or not cookie.domain else [cookie.domain]
            for domain in domains:
                jar.set_cookie(_jar_cookie(cookie.name, cookie.value, domain, cookie.path))
                count += 1
        spider.logger.info("loaded %d login cookies from %s", count, self.cookie_file)


def _jar_cookie(name: str, value: str, domain: str, path: str) -> Cookie:
    return Cookie(
        version=0, name=name, value=value, port=None, port_specified=False, domain=domain,
        domain_specified=domain.startswith("."), domain_initial_dot=domain.startswith("."), path=path or "/",
        path_specified=True, secure=False, expires=None, discard=True, comment=None, comment_url=None,
        rest={}, rfc2109=False,
    )


#: Failures that mean nothing can be reached (as opposed to one page failing).
NO_ROUTE_ERRORS = (CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError)


def retry_delay(settings, retry_times: int) -> float:
    """Seconds to wait before retry number ``retry_times`` (1, 2, ...): ``GRAYSCAN_RETRY_BACKOFF * 2**(n-1)``,
    at most ``GRAYSCAN_RETRY_BACKOFF_MAX``, plus jitter."""
    base = settings.getfloat("GRAYSCAN_RETRY_BACKOFF", 0.5)
    delay = min(base * 2 ** max(retry_times - 1, 0), settings.getfloat("GRAYSCAN_RETRY_BACKOFF_MAX", 15.0))
    return delay + random.uniform(0, base / 2)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware (``RETRY_TIMES``, ``RETRY_HTTP_CODES``, ``RETRY_EXCEPTIONS``: connection
    drops, timeouts, DNS failures, 5xx) with a back-off before each retry (``retry_delay``): a platform's
    server that is failing gets time to recover. While nothing at all has answered yet, a DNS failure or
    refused connection is retried once only: it is a wrong address or no network, not a flaky page."""

    async def process_response(self, request: Request, response, spider=None):
        return await self._after_backoff(super().process_response(request, response))

    async def process_exception(self, request: Request, exception: Exception, spider=None):
        if isinstance(exception, NO_ROUTE_ERRORS) and not self.crawler.stats.get_value("response_received_count"):
            request.meta.setdefault("max_retry_times", 1)
        return await self._after_backoff(super().process_exception(request, exception))

    async def _after_backoff(self, result):
        if isinstance(result, Request):
            await asyncio.sleep(retry_delay(self.crawler.settings, result.meta.get("retry_times", 1)))
        return result
