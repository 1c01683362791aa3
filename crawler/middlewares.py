"""Transport concerns: mapping a platform's hosts onto a local replica (``--base-url``)."""

from __future__ import annotations

import urllib.parse

from scrapy import signals
from scrapy.http import Request


class BaseUrlMiddleware:
    """Rewrites requests to any of the spider's ``hosts`` onto ``GRAYSCAN_BASE_URL``.

    Path and query are preserved, so a spider written against the real endpoints runs unchanged
    against a local replica on 127.0.0.1.
    """

    def __init__(self, base_url: str | None):
        self.base = urllib.parse.urlsplit(base_url) if base_url else None

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler.settings.get("GRAYSCAN_BASE_URL"))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider):
        self.hosts = set(getattr(spider, "hosts", ()))

    def process_request(self, request: Request, spider=None):
        if self.base is None:
            return None
        url = urllib.parse.urlsplit(request.url)
        if url.hostname not in self.hosts:
            return None
        prefix = self.base.path.rstrip("/")
        mapped = url._replace(scheme=self.base.scheme, netloc=self.base.netloc, path=prefix + url.path)
        return request.replace(url=urllib.parse.urlunsplit(mapped))
