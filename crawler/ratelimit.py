"""Per-platform request rates that hold across every worker: a token bucket in Redis.

Each platform's bucket (``grayscan:<platform>:rate``) refills at ``GRAYSCAN_RATE_LIMITS[platform]``
requests per second up to ``GRAYSCAN_RATE_BURST`` tokens. Taking a token is one Lua script on the
Redis clock (no skew between machines); a caller that finds the bucket empty still takes its token
(the bucket goes into debt) and is told how long to wait, so waiting requests leave in order and each
request costs one round trip. However many workers run, a platform sees at most
``burst + rate × seconds`` requests in any span of time.
"""

from __future__ import annotations

import asyncio

import redis
from scrapy import signals
from scrapy.exceptions import NotConfigured

from .frontier import PlatformKeys

# KEYS: bucket. ARGV: rate (tokens/s), burst. Returns the wait in microseconds before the taken token is due.
_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 60)
if tokens >= 0 then return 0 end
return math.ceil(-tokens / rate * 1000000)
"""


class TokenBucket:
    """One platform's shared bucket."""

    def __init__(self, client: redis.Redis, platform: str, rate: float, burst: float = 1.0):
        if rate <= 0:
            raise ValueError(f"the {platform} rate limit must be positive, not {rate}")
        self.key = PlatformKeys(platform).rate
        self.rate = rate
        self.burst = max(1.0, burst)
        self._take = client.register_script(_TAKE)

    def take(self) -> float:
        """Take one token; the seconds to wait before using it (0: now)."""
        return int(self._take(keys=[self.key], args=[repr(self.rate), repr(self.burst)])) / 1_000_000


class SharedRateLimitMiddleware:
    """Downloader middleware: every request of a platform with a limit waits for a token of its shared
    bucket. It runs after signing and base-URL mapping (which reschedule the request), so each download
    attempt — retries included — takes exactly one token."""

    def __init__(self, crawler):
        from .frontier import Frontier

        settings = crawler.settings
        url = settings.get("GRAYSCAN_FRONTIER")
        self.rates = settings.getdict("GRAYSCAN_RATE_LIMITS")
        if not url or not self.rates:
            raise NotConfigured  # no frontier, or no limits (a loopback replica): nothing to say in the log
        self.client = Frontier(url).redis
        self.burst = settings.getfloat("GRAYSCAN_RATE_BURST", 1.0)
        self.crawler = crawler
        self.bucket: TokenBucket | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        rate = self.rates.get(getattr(spider, "platform", ""))
        self.bucket = TokenBucket(self.client, spider.platform, float(rate), self.burst) if rate else None

    async def process_request(self, request, spider=None):
        if self.bucket is None:
            return None
        wait = self.bucket.take()
        if wait > 0:
            self.crawler.stats.inc_value("frontier/rate_waits")
            await asyncio.sleep(wait)
        return None
