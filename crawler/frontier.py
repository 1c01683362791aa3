"""A crawl frontier in Redis shared by crawl workers on several machines.

Not scrapy-redis: its 0.9.1 release (and master) seed spiders through ``start_requests()``, which Scrapy
2.16 removed (grayscan runs Scrapy 2.19), and its scheduler pops requests, so a worker killed between
taking a request and finishing it loses that request. This module is a small Scrapy scheduler of its own:

- ``<platform>:queue`` (a list) holds serialized requests (``Request.to_dict`` as JSON) and *seeds*
  pushed by ``grayscan frontier push`` (a keyword, creator or post id the worker turns into requests);
- a worker takes an entry with ``LMOVE`` onto its own ``<platform>:inflight:<worker>`` list (a reliable
  queue) and keeps a heartbeat key alive; an entry leaves that list only when the response it asked for
  has been handled, in one Lua script that also queues the requests found (deduplicated through the
  ``<platform>:seen`` set of request fingerprints) and appends the posts found to the item stream
  (``crawler/stream.py``). A worker that dies (SIGKILL, lost machine) stops renewing its heartbeat;
  the next live worker that looks moves its in-flight entries back to the front of the queue;
- a request given up after every retry leaves the in-flight list for ``<platform>:lost`` in that same
  script (never counted done): ``grayscan frontier push PLATFORM --requeue-lost`` queues it again, the
  way ``grayscan crawl --resume`` asks a single-process crawl's lost pages again. A request that met
  no route (nothing answered at all) stays leased and goes back to the queue when its worker leaves;
- ``jobs`` holds each platform's crawl arguments (page limits, comments), ``<platform>:stats`` its
  counters and, once a worker was stopped by the platform (captcha, login), the reason, which stops
  every other worker of the platform too.

A crawl is done (possibly with losses) when its queue and every in-flight list are empty: because
handling a response and queueing what it found is one atomic step, that state cannot change again
except by a new push.
Keys assume one Redis server (no cluster): the scripts touch keys they derive from their arguments.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any

import redis
from scrapy.exceptions import CloseSpider
from scrapy.http import Request
from scrapy.utils.request import request_from_dict
from twisted.internet import task

logger = logging.getLogger(__name__)

#: Prefix of every key grayscan keeps in Redis.
PREFIX = "grayscan"
#: The stream every worker appends posts to; ``grayscan ingest`` reads it (crawler/stream.py).
ITEM_STREAM = f"{PREFIX}:items"
#: What ``grayscan frontier push`` can seed a crawl with.
SEED_KINDS = ("keyword", "creator", "post")
#: Finish reasons that mean the platform stopped the crawl: every worker of that platform stops.
STOP_REASONS = ("captcha", "login_expired", "login", "signature", "rate_limited", "error")
#: Call steps a worker runs itself, never through the shared queue: the login check also sets up
#: per-process state (e.g. Bilibili's WBI keys) that this worker's later requests need.
LOCAL_STEPS = ("login_check",)

# KEYS: queue, seen, inflight, stream, stats, lost. ARGV: entry to acknowledge ('' = none), what to keep
# of it in the lost list ('' = it is done), n, then n (fingerprint or '' for dont_filter, entry) pairs,
# then serialized posts. Returns how many were queued.
_COMMIT = """
local n = tonumber(ARGV[3])
local queued = 0
for i = 0, n - 1 do
  local fingerprint, entry = ARGV[4 + 2 * i], ARGV[5 + 2 * i]
  if fingerprint == '' or redis.call('SADD', KEYS[2], fingerprint) == 1 then
    redis.call('RPUSH', KEYS[1], entry)
    queued = queued + 1
  end
end
local items = 0
for j = 4 + 2 * n, #ARGV do
  redis.call('XADD', KEYS[4], '*', 'post', ARGV[j])
  items = items + 1
end
if items > 0 then redis.call('HINCRBY', KEYS[5], 'items', items) end
if ARGV[1] ~= '' and redis.call('LREM', KEYS[3], 1, ARGV[1]) == 1 then
  if ARGV[2] == '' then
    redis.call('HINCRBY', KEYS[5], 'done', 1)
  else
    redis.call('RPUSH', KEYS[6], ARGV[2])
  end
end
return queued
"""

# KEYS: workers set, queue, stats. ARGV: in-flight key prefix, heartbeat key prefix, a worker to
# release even if alive ('' = none). Moves every in-flight entry of dead (and the released) workers
# back to the front of the queue; returns how many.
_REQUEUE = """
local moved = 0
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if worker == ARGV[3] or redis.call('EXISTS', ARGV[2] .. worker) == 0 then
    while redis.call('LMOVE', ARGV[1] .. worker, KEYS[2], 'RIGHT', 'LEFT') do moved = moved + 1 end
    redis.call('SREM', KEYS[1], worker)
  end
end
if moved > 0 and ARGV[3] == '' then redis.call('HINCRBY', KEYS[3], 'requeued', moved) end
return moved
"""

# KEYS: lost, queue. Moves every lost entry to the end of the queue; returns how many.
_REQUEUE_LOST = """
local moved = 0
while redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') do moved = moved + 1 end
return moved
"""

# KEYS: queue, workers set. ARGV: in-flight key prefix, heartbeat key prefix.
# Returns {queued, in flight, live workers}: one consistent snapshot.
_SNAPSHOT = """
local inflight, alive = 0, 0
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  inflight = inflight + redis.call('LLEN', ARGV[1] .. worker)
  alive = alive + redis.call('EXISTS', ARGV[2] .. worker)
end
return {redis.call('LLEN', KEYS[1]), inflight, alive}
"""


class PlatformKeys:
    """The Redis keys of one platform's crawl."""

    def __init__(self, platform: str):
        base = f"{PREFIX}:{platform}:"
        self.queue = base + "queue"
        self.seen = base + "seen"
        self.workers = base + "workers"
        self.stats = base + "stats"
        self.rate = base + "rate"
        self.lost = base + "lost"
        self.inflight_prefix = base + "inflight:"


def heartbeat_key(worker: str) -> str:
    return f"{PREFIX}:worker:{worker}"


def new_worker_id() -> str:
    """A worker's name: host, pid and a random suffix (a restarted process is a new worker)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class Snapshot:
    """What one platform's crawl looks like right now (``grayscan frontier status``)."""

    platform: str
    queued: int
    inflight: int
    workers: int
    seen: int
    done: int
    items: int
    requeued: int
    stopped: str | None
    #: Requests given up after every retry, waiting for ``frontier push --requeue-lost``.
    lost: int

    @property
    def finished(self) -> bool:
        return self.queued == 0 and self.inflight == 0

    @property
    def settled(self) -> bool:
        """Finished, or stopped by the platform with no worker left: nothing more will come."""
        return self.finished or (self.stopped is not None and self.workers == 0)


class Frontier:
    """The shared frontier at a ``redis://HOST:PORT/N`` URL: jobs, seeds, queue, leases, counters."""

    def __init__(self, url: str):
        self.url = url
        self.redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=30,
                                          socket_connect_timeout=10, retry_on_timeout=True)
        self._commit = self.redis.register_script(_COMMIT)
        self._requeue = self.redis.register_script(_REQUEUE)
        self._snapshot = self.redis.register_script(_SNAPSHOT)
        self._requeue_lost = self.redis.register_script(_REQUEUE_LOST)

    # -- jobs ------------------------------------------------------------------------------
    def start_job(self, platform: str, args: dict[str, Any]) -> None:
        """Create or update ``platform``'s crawl arguments; a push also lifts an earlier stop."""
        self.redis.hset(f"{PREFIX}:jobs", platform, json.dumps(args))
        self.redis.hdel(PlatformKeys(platform).stats, "stopped")

    def jobs(self) -> dict[str, dict[str, Any]]:
        """Every platform with a crawl job, and its arguments."""
        return {p: json.loads(a) for p, a in sorted(self.redis.hgetall(f"{PREFIX}:jobs").items())}

    def push_seeds(self, platform: str, kind: str, values: list[str]) -> int:
        """Queue keywords, creators or post ids for ``platform``'s workers to expand into requests."""
        if kind not in SEED_KINDS:
            raise ValueError(f"seed kind must be one of {', '.join(SEED_KINDS)}, not {kind!r}")
        if not values:
            return 0
        self.redis.rpush(PlatformKeys(platform).queue,
                         *(json.dumps({"seed": kind, "value": v}, ensure_ascii=False) for v in values))
        return len(values)

    def requeue_lost(self, platform: str) -> int:
        """Queue again the requests of ``platform`` given up after every retry; returns how many."""
        keys = PlatformKeys(platform)
        return int(self._requeue_lost(keys=[keys.lost, keys.queue]))

    def stop(self, platform: str, reason: str) -> None:
        """Record that the platform stopped the crawl: the other workers stop too."""
        self.redis.hset(PlatformKeys(platform).stats, "stopped", reason)

    def stopped(self, platform: str) -> str | None:
        return self.redis.hget(PlatformKeys(platform).stats, "stopped")

    def clear(self, platform: str) -> None:
        """Forget ``platform``'s crawl: job, queue, seen set, lost requests, counters, leases (not the item stream)."""
        keys = PlatformKeys(platform)
        workers = self.redis.smembers(keys.workers)
        self.redis.delete(keys.queue, keys.seen, keys.workers, keys.stats, keys.rate, keys.lost,
                          *(keys.inflight_prefix + w for w in workers))
        self.redis.hdel(f"{PREFIX}:jobs", platform)

    # -- workers ---------------------------------------------------------------------------
    def join(self, platform: str, worker: str, lease: float) -> None:
        self.beat(worker, lease)
        self.redis.sadd(PlatformKeys(platform).workers, worker)

    def beat(self, worker: str, lease: float) -> None:
        """Renew ``worker``'s heartbeat: its in-flight entries stay its own for ``lease`` seconds."""
        self.redis.set(heartbeat_key(worker), str(time.time()), px=max(1, int(lease * 1000)))

    def requeue_dead(self, platform: str, release: str = "") -> int:
        """Move in-flight entries of workers without a heartbeat (and of ``release``) back to the queue."""
        keys = PlatformKeys(platform)
        return int(self._requeue(keys=[keys.workers, keys.queue, keys.stats],
                                 args=[keys.inflight_prefix, f"{PREFIX}:worker:", release]))

    def leave(self, platform: str, worker: str) -> int:
        """``worker`` stops: what it holds goes back to the queue for the others."""
        moved = self.requeue_dead(platform, release=worker)
        self.redis.delete(heartbeat_key(worker))
        return moved

    # -- entries ---------------------------------------------------------------------------
    def take(self, platform: str, worker: str) -> str | None:
        """The next queue entry, now held in ``worker``'s in-flight list."""
        keys = PlatformKeys(platform)
        return self.redis.lmove(keys.queue, keys.inflight_prefix + worker, "LEFT", "RIGHT")

    def commit(self, platform: str, worker: str, ack: str | None, requests: list[tuple[str, str]],
               posts: list[str], lost: str | None = None) -> int:
        """Atomically: queue ``requests`` ((fingerprint or '' for dont_filter, entry) pairs) whose
        fingerprint is new, append ``posts`` to the item stream, and drop ``ack`` from ``worker``'s
        in-flight list — counted done, or, when ``lost`` is given (``ack`` was given up), keeping
        ``lost`` in the platform's lost list. Returns how many requests were queued."""
        keys = PlatformKeys(platform)
        args: list[str] = [ack or "", lost or "", str(len(requests))]
        for fingerprint, entry in requests:
            args += [fingerprint, entry]
        return int(self._commit(keys=[keys.queue, keys.seen, keys.inflight_prefix + worker, ITEM_STREAM, keys.stats,
                                      keys.lost], args=args + posts))

    def snapshot(self, platform: str) -> Snapshot:
        keys = PlatformKeys(platform)
        queued, inflight, alive = self._snapshot(keys=[keys.queue, keys.workers],
                                                 args=[keys.inflight_prefix, f"{PREFIX}:worker:"])
        stats = self.redis.hgetall(keys.stats)
        return Snapshot(platform, int(queued), int(inflight), int(alive), int(self.redis.scard(keys.seen)),
                        int(stats.get("done", 0)), int(stats.get("items", 0)), int(stats.get("requeued", 0)),
                        stats.get("stopped"), int(self.redis.llen(keys.lost)))


# -- requests as queue entries --------------------------------------------------------------
def encode_request(request: Request, spider) -> str:
    """A request as a JSON queue entry: ``Request.to_dict`` with bytes as latin-1 text (lossless)."""
    errback = request.errback
    if isinstance(errback, _FinishOnError):
        request = request.replace(errback=errback.errback)
    data = request.to_dict(spider=spider)
    data["body"] = data["body"].decode("latin-1")
    # Login cookies live in each worker's jar only: never in Redis (crawler/middlewares.py).
    data["headers"] = {k.decode("latin-1"): [v.decode("latin-1") for v in vs] for k, vs in data["headers"].items()
                       if k.lower() != b"cookie"}
    return json.dumps({"request": data}, ensure_ascii=False, separators=(",", ":"))


def decode_request(data: dict[str, Any], spider) -> Request:
    data = dict(data)
    data["body"] = data["body"].encode("latin-1")
    data["headers"] = {k.encode("latin-1"): [v.encode("latin-1") for v in vs] for k, vs in data["headers"].items()}
    return request_from_dict(data, spider=spider)


def retry_afresh(raw: str) -> str:
    """A given-up request's queue entry as it goes to the lost list: without its retry count, so that
    when it is queued again it gets every retry again."""
    data = json.loads(raw)
    data["request"]["meta"].pop("retry_times", None)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def is_local(request: Request) -> bool:
    return (request.meta.get("call") or {}).get("step") in LOCAL_STEPS


_schedulers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class FrontierScheduler:
    """Scrapy's scheduler interface over a ``Frontier`` (``SCHEDULER`` when ``GRAYSCAN_FRONTIER`` is set).

    Requests taken from Redis carry their queue entry in ``meta["frontier_entry"]``; when Scrapy
    reschedules such a request itself (signing, base-URL mapping, retries, redirects), it stays in
    this worker's local queue and keeps its lease. Login checks stay local too, and until they are
    answered nothing is taken from Redis (later requests may need what they set up).
    """

    def __init__(self, crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.frontier = Frontier(settings["GRAYSCAN_FRONTIER"])
        self.worker = settings.get("GRAYSCAN_WORKER_ID") or new_worker_id()
        self.lease = settings.getfloat("GRAYSCAN_FRONTIER_LEASE", 15.0)
        #: Keep waiting for pushes when the crawl is done (``grayscan worker --stay``).
        self.stay = settings.getbool("GRAYSCAN_FRONTIER_STAY")
        self.local: deque[Request] = deque()
        self.preflight = 0  # local requests without a lease, taken and not yet answered
        self.done_checked = (0.0, False)
        self.stopping = False
        _schedulers[crawler] = self

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open(self, spider) -> None:
        self.spider = spider
        self.platform = spider.platform
        self.frontier.join(self.platform, self.worker, self.lease)
        # An empty local queue otherwise waits for Scrapy's 5 s heartbeat before asking again.
        self.crawler.engine._SLOT_HEARTBEAT_INTERVAL = self.crawler.settings.getfloat("GRAYSCAN_FRONTIER_POLL", 0.2)
        self.ticker = task.LoopingCall(self.tick)
        self.ticker.start(self.lease / 3, now=False)
        logger.info("worker %s joined the %s crawl at %s", self.worker, self.platform, self.frontier.url)

    def tick(self) -> None:
        """Renew the lease, hand back dead workers' entries, and stop when the platform stopped another worker."""
        try:
            self.frontier.beat(self.worker, self.lease)
            moved = self.frontier.requeue_dead(self.platform)
            stopped = self.frontier.stopped(self.platform)
        except redis.RedisError as exc:
            logger.warning("frontier unreachable (%s); retrying", exc)
            return
        if moved:
            logger.warning("%d %s requests of dead workers re-queued", moved, self.platform)
            self.crawler.stats.inc_value("frontier/requeued", moved)
        if stopped and not self.stopping:
            self.stopping = True
            logger.error("%s stopped the crawl on another worker (%s); stopping", self.platform, stopped)
            asyncio.ensure_future(self.crawler.engine.close_spider_async(reason=stopped))

    def close(self, reason: str) -> None:
        if self.ticker.running:
            self.ticker.stop()
        try:
            if reason in STOP_REASONS:
                self.frontier.stop(self.platform, reason)
            moved = self.frontier.leave(self.platform, self.worker)
        except redis.RedisError as exc:  # the lease runs out instead: the live workers re-queue them
            logger.warning("frontier unreachable at close (%s); this worker's requests return after its lease", exc)
            return
        if moved:
            logger.info("%d unfinished %s requests handed back to the frontier", moved, self.platform)

    # -- Scrapy's scheduler interface ------------------------------------------------------
    def has_pending_requests(self) -> bool:
        return bool(self.local) or self.preflight > 0 or self.stay or not self.crawl_done()

    def crawl_done(self) -> bool:
        """Whether the whole crawl (every worker) is done, asked at most every 0.1 s."""
        at, done = self.done_checked
        if time.monotonic() - at > 0.1:
            try:
                done = self.frontier.snapshot(self.platform).finished
            except redis.RedisError as exc:
                logger.warning("frontier unreachable (%s); retrying", exc)
                done = False
            self.done_checked = (time.monotonic(), done)
        return done

    def enqueue_request(self, request: Request) -> bool:
        if request.meta.get("frontier_entry") or is_local(request):
            self.local.append(request)
            return True
        return self.frontier.commit(self.platform, self.worker, None, [self.entry(request)], []) == 1

    def next_request(self) -> Request | None:
        if self.local:
            request = self.local.popleft()
            if not request.meta.get("frontier_entry") and not request.meta.get("frontier_preflight"):
                self.preflight += 1  # (a rescheduled copy keeps the mark and is not counted again)
                request.meta["frontier_preflight"] = True
            return request
        if self.preflight:
            return None
        while (raw := self.take()) is not None:
            request = self.unpack(raw)
            if request is not None:
                self.crawler.stats.inc_value("frontier/taken")
                return request
        return None

    # -- entries ---------------------------------------------------------------------------
    def take(self) -> str | None:
        """The next entry, now leased to this worker; None also while Redis is unreachable (asked again soon)."""
        try:
            return self.frontier.take(self.platform, self.worker)
        except redis.RedisError as exc:
            logger.warning("frontier unreachable (%s); retrying", exc)
            return None

    def entry(self, request: Request) -> tuple[str, str]:
        fingerprint = "" if request.dont_filter else self.crawler.request_fingerprinter.fingerprint(request).hex()
        return fingerprint, encode_request(request, self.spider)

    def unpack(self, raw: str) -> Request | None:
        """The request of a queue entry; a seed is expanded into its requests (queued, then acknowledged)."""
        try:
            data = json.loads(raw)
            if "seed" in data:
                self.finish_entry(raw, self.expand(data["seed"], data["value"]), [])
                return None
            request = decode_request(data["request"], self.spider)
        except (ValueError, KeyError, TypeError, AttributeError, NotImplementedError) as exc:
            logger.error("dropping a %s frontier entry that cannot be read (%s): %.200s", self.platform, exc, raw)
            self.crawler.stats.inc_value("frontier/bad_entries")
            self.finish_entry(raw, [], [])
            return None
        request.meta["frontier_entry"] = raw
        request.errback = _FinishOnError(self, raw, request.errback)
        return request

    def expand(self, kind: str, value: str) -> list[Request]:
        """The first requests of a pushed keyword, creator or post id (its comments)."""
        from .spiders.base import post_item

        api = self.spider.api
        if kind == "keyword":
            call = api.search(value)
        elif kind == "creator":
            call = api.creator(value)
        else:
            call = api.comments(post_item(self.platform, value, "", ""))
        return [self.spider.request(call)] if call is not None else []

    def finish(self, request: Request, outputs: list[Request], posts: list[dict[str, Any]]) -> None:
        """``request`` was handled: queue what it found, stream its posts, release its lease — at once.
        A request the spider gave up (``meta["given_up"]``, crawler/spiders/base.py) goes to the lost list."""
        if request.meta.get("frontier_finished"):  # an HTTP error reaches both the errback and the middleware
            return
        request.meta["frontier_finished"] = True
        if request.meta.get("frontier_preflight"):
            self.preflight -= 1
        self.finish_entry(request.meta.get("frontier_entry"), outputs, posts, lost=bool(request.meta.get("given_up")))

    def finish_entry(self, raw: str | None, outputs: list[Request], posts: list[dict[str, Any]],
                     lost: bool = False) -> None:
        shared = []
        for output in outputs:
            if is_local(output):
                self.local.append(output)
            else:
                shared.append(self.entry(output))
        lines = [json.dumps(p, ensure_ascii=False, default=str) for p in posts]
        kept = retry_afresh(raw) if lost and raw else None
        queued = self.frontier.commit(self.platform, self.worker, raw, shared, lines, kept)
        self.crawler.stats.inc_value("frontier/queued", queued)
        self.crawler.stats.inc_value("frontier/pushed_items", len(lines))
        self.done_checked = (0.0, False)


class _FinishOnError:
    """A taken request's errback: the spider's own errback runs (it gives the request up: the commit
    keeps it in the lost list), then the request is finished with the requests the errback asked for,
    in one commit (else the crawl would wait for it forever). When the errback stops the spider (no
    route at all), the request stays leased: it goes back to the queue when this worker leaves."""

    def __init__(self, scheduler: FrontierScheduler, raw: str, errback):
        self.scheduler = scheduler
        self.raw = raw
        self.errback = errback

    def __call__(self, failure):
        # A generator: Scrapy iterates it, so a CloseSpider from the spider's errback closes the spider cleanly.
        outputs = list(self.errback(failure) or ()) if self.errback else []
        requests = [o for o in outputs if isinstance(o, Request)]
        request = getattr(failure, "request", None)
        if request is not None:
            request.meta.setdefault("given_up", True)
            self.scheduler.finish(request, requests, [])
        else:
            self.scheduler.finish_entry(self.raw, requests, [], lost=True)
        yield from (o for o in outputs if not isinstance(o, Request))


class FrontierCommitMiddleware:
    """Spider middleware (outermost): collects what a response's callback yields and hands it to the
    scheduler in one commit — requests queued, posts streamed, the lease released — then passes the
    posts on (for stats and progress; no item pipeline runs on a frontier worker)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_spider_output(self, response, result):
        requests, posts = [], []
        scheduler = _schedulers[self.crawler]
        try:
            async for output in result:
                (requests if isinstance(output, Request) else posts).append(output)
        except CloseSpider:
            raise  # the platform stopped us: the request stays leased and goes back to the queue at close
        except Exception:
            # A parser bug: keep what came out, and do not leave the crawl waiting for this request.
            scheduler.finish(response.request, requests, [dict(p) for p in posts])
            raise
        scheduler.finish(response.request, requests, [dict(p) for p in posts])
        for post in posts:
            yield post
