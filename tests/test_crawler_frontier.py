"""Several crawl workers on a shared Redis frontier (a real redis-server started here) against the
seven-platform replica: every post stored once, a SIGKILLed worker's requests re-queued, an ingest
consumer killed mid-batch restarted without losses or doubles, per-platform rates held across workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import redis
from conftest import ROOT
from test_crawler_crawl import replica_posts, rows

from crawler import distributed
from crawler.frontier import ITEM_STREAM, Frontier, decode_request, encode_request
from crawler.ratelimit import TokenBucket
from crawler.replica.redis_server import REDIS_SERVER, LocalRedis, free_port
from crawler.replica.server import SIGNER_PAGES, ReplicaServer
from crawler.spiders import PLATFORMS

#: Each platform's replica posts (7) and their comments (6), all comment pages followed.
PER_PLATFORM = 13
#: Platforms signed in Python (no Chromium): quick to start in every worker process.
NO_BROWSER = ["weibo", "bilibili", "tieba"]


@pytest.fixture(scope="module")
def redis_server():
    """A throwaway redis-server on a free loopback port: no persistence, killed at teardown."""
    if not os.path.exists(REDIS_SERVER):
        pytest.skip("redis-server is not installed (Debian package redis-server; .ci/run installs it)")
    with LocalRedis() as server:
        yield server.url


@pytest.fixture
def frontier_url(redis_server):
    url = f"{redis_server}/0"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(scope="module")
def replica():
    with ReplicaServer(replica_posts()) as server:
        yield server


def cli(*args: str) -> subprocess.Popen:
    """``grayscan ARGS`` started in the background (stderr captured)."""
    return subprocess.Popen([sys.executable, "-m", "grayscan", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8", cwd=ROOT)


def finish(proc: subprocess.Popen, timeout: float = 120) -> str:
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return err


def push(url: str, platforms: list[str], rate: float | None = None) -> None:
    """Seed each platform's job with the keyword 征信修复 and all comment pages (the API behind ``frontier push``)."""
    for platform in platforms:
        assert distributed.push(url, platform, distributed.JobArgs(comments=True, comment_pages=3, rate=rate),
                                keywords=["征信修复"]) == 1


def posts_per_platform(db_path) -> dict[str, int]:
    return dict(rows(db_path, "SELECT platform, count(*) FROM posts GROUP BY platform"))


def platform_of(server: ReplicaServer, path: str) -> str | None:
    """Which platform a replica path belongs to (its route's name); None for what Chromium loads to sign."""
    replica = server.replica
    route = replica.exact.get(path) or next((r for p, r in replica.patterns if p.fullmatch(path)), None)
    if path in SIGNER_PAGES or route is None:
        return None
    name = route.__name__.split("_")[0]
    return {"bili": "bilibili"}.get(name, name)


def test_request_entries_round_trip(replica):
    """A queue entry restores the request exactly: POST form bodies, non-ASCII headers, meta."""
    from crawler.spiders import spider_class

    spider = spider_class("tieba")()
    request = spider.request(spider.api.comments({"post_id": "42", "url": ""}))
    request.headers["X-Note"] = "征信".encode()
    restored = decode_request(json.loads(encode_request(request, spider))["request"], spider)
    assert (restored.url, restored.method, restored.body) == (request.url, request.method, request.body)
    assert restored.headers["X-Note"] == "征信".encode() and restored.meta == request.meta
    assert restored.callback == spider.on_response and type(restored) is type(request)


def test_token_bucket_spaces_takers(frontier_url):
    """Twelve takes at 20/s with a burst of 2: the first two now, the rest 50 ms apart (on Redis's clock)."""
    bucket = TokenBucket(Frontier(frontier_url).redis, "weibo", rate=20, burst=2)
    waits = [bucket.take() for _ in range(12)]
    assert waits[:2] == [0, 0]
    assert waits[-1] == pytest.approx(0.5, abs=0.05)
    assert all(b > a for a, b in zip(waits[2:], waits[3:], strict=False))


def test_worker_rate_limits_replace_per_worker_delays():
    """Against a real platform a worker gets one request per the platform's delay, shared, and no delay of
    its own (it would bunch the workers' requests); against a loopback replica nothing unless pushed."""
    from crawler.run import CrawlJob, crawl_settings

    def settings(base_url, rate):
        job = CrawlJob("weibo", [], base_url=base_url)
        return distributed.worker_settings(crawl_settings(), "redis://127.0.0.1:1/0", job, rate)

    real = settings(None, None)
    assert real.getdict("GRAYSCAN_RATE_LIMITS") == {"weibo": pytest.approx(1 / 3)}
    assert (real.getfloat("DOWNLOAD_DELAY"), real.getbool("AUTOTHROTTLE_ENABLED")) == (0, False)
    assert real["SCHEDULER"] == "crawler.frontier.FrontierScheduler" and real.getdict("ITEM_PIPELINES") == {}
    assert settings("http://127.0.0.1:8765", None).getdict("GRAYSCAN_RATE_LIMITS") == {}
    assert settings("http://127.0.0.1:8765", 5).getdict("GRAYSCAN_RATE_LIMITS") == {"weibo": 5}


def test_three_workers_store_every_post_once_within_rate_limits(frontier_url, replica, tmp_path):
    rate, window = 2.0, 2.0
    db_path = tmp_path / "grayscan.db"
    proc = cli("frontier", "push", "weibo", "-k", "征信修复", "--comments", "--comment-pages", "3", "--rate", str(rate),
               "--frontier", frontier_url)
    assert "pushed 1 seeds for weibo" in finish(proc)
    push(frontier_url, [p for p in PLATFORMS if p != "weibo"], rate)
    started = time.monotonic()
    del replica.replica.served[:]
    consumer = cli("ingest", "--from", frontier_url, "--db", str(db_path), "--lexicon-only", "--until-done",
                   "--batch-size", "20")
    workers = [cli("worker", "--frontier", frontier_url, "--base-url", replica.base_url) for _ in range(3)]
    logs = [finish(w) for w in workers]
    ingest_log = finish(consumer)
    elapsed = time.monotonic() - started

    assert posts_per_platform(db_path) == {p: PER_PLATFORM for p in PLATFORMS}
    assert f"ingested {7 * PER_PLATFORM} posts" in ingest_log and f"({7 * PER_PLATFORM} new" in ingest_log
    frontier = Frontier(frontier_url)
    for platform in PLATFORMS:
        snap = frontier.snapshot(platform)
        # Each post went to the stream exactly once: the seen set kept every request to one worker.
        assert (snap.items, snap.finished, snap.requeued) == (PER_PLATFORM, True, 0), snap
    assert frontier.redis.xlen(ITEM_STREAM) == 0
    pages = [sum(int(n) for n in _pages(log)) for log in logs]
    # The workers shared the crawl (one that starts seconds after the others may find little left).
    assert sum(1 for p in pages if p) >= 2, pages

    # The replica saw at most `rate` requests per second per platform, from all workers together.
    times: dict[str, list[float]] = {}
    for at, path in replica.replica.served:
        platform = platform_of(replica, path)
        if platform:
            times.setdefault(platform, []).append(at)
    assert set(times) == set(PLATFORMS)
    busiest = {}
    for platform, stamps in times.items():
        stamps.sort()
        busiest[platform] = max(sum(1 for t in stamps if s <= t < s + window) for s in stamps)
        # Tokens are granted at 2/s after a burst of 1: 5 in 2 s; two more allow for requests delayed on
        # their way by a loaded machine (unlimited, the workers send a platform's ~13 requests within 2 s).
        assert busiest[platform] <= rate * window + 1 + 2, (platform, busiest)
        # ... and the limit was what held them back: n requests need at least (n - 1) / rate seconds (less
        # the same two requests' worth of delay on the way).
        assert stamps[-1] - stamps[0] >= (len(stamps) - 1 - 2) / rate, platform
    print(f"3 workers, 7 platforms, {sum(map(len, times.values()))} requests in {elapsed:.1f}s; "
          f"busiest {window:.0f} s per platform: {busiest}")

    status = subprocess.run([sys.executable, "-m", "grayscan", "frontier", "status", "--json", "--frontier",
                             frontier_url], capture_output=True, text=True, cwd=ROOT, check=True)
    lines = [json.loads(line) for line in status.stdout.splitlines()]
    assert {line["platform"]: (line["state"], line["posts"]) for line in lines} == {
        p: ("finished", PER_PLATFORM) for p in PLATFORMS}
    assert "posts waiting for `grayscan ingest`: 0" in status.stderr


def _pages(log: str) -> list[str]:
    return [line.split(": ", 1)[1].split(" pages")[0] for line in log.splitlines() if " pages, " in line]


def inflight_entries(url: str) -> list[str]:
    client = redis.Redis.from_url(url, decode_responses=True)
    return [e for key in client.keys("grayscan:*:inflight:*") for e in client.lrange(key, 0, -1)]


def test_killed_worker_and_killed_consumer_lose_and_double_nothing(frontier_url, replica, tmp_path):
    """A worker SIGKILLed mid-crawl: its requests are re-queued and another worker completes the crawl.
    Then the ingest consumer is SIGKILLed after committing a batch but before acknowledging it: another
    consumer takes the batch over, and every post is stored exactly once."""
    db_path = tmp_path / "grayscan.db"
    push(frontier_url, NO_BROWSER, rate=4)
    doomed = cli("worker", "--frontier", frontier_url, "--base-url", replica.base_url, "--lease", "1.5")
    frontier = Frontier(frontier_url)
    deadline = time.monotonic() + 60
    while sum(frontier.snapshot(p).done for p in NO_BROWSER) < 8 or not inflight_entries(frontier_url):
        assert time.monotonic() < deadline and doomed.poll() is None, "the worker never got going"
        time.sleep(0.05)
    held = inflight_entries(frontier_url)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    assert held and sum(frontier.snapshot(p).done for p in NO_BROWSER) < 3 * PER_PLATFORM

    log = finish(cli("worker", "--frontier", frontier_url, "--base-url", replica.base_url, "--lease", "1.5"))
    assert "requests of dead workers re-queued" in log
    assert sum(frontier.snapshot(p).requeued for p in NO_BROWSER) >= len(held)
    assert not inflight_entries(frontier_url)
    total = len(NO_BROWSER) * PER_PLATFORM
    assert frontier.redis.xlen(ITEM_STREAM) == total  # every post once in the stream: nothing lost, no page twice

    # Consumer c1 commits batch 2 to SQLite and is SIGKILLed before acknowledging it.
    code = textwrap.dedent("""
        import os, signal, sys
        from crawler.stream import StreamIngest
        def die(batch):
            if batch == 2:
                os.kill(os.getpid(), signal.SIGKILL)
        StreamIngest(sys.argv[1], sys.argv[2], model="none", consumer="c1", batch_size=10, after_store=die).run()
    """)
    killed = subprocess.run([sys.executable, "-c", code, frontier_url, str(db_path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert rows(db_path, "SELECT count(*) FROM posts")[0][0] == 20
    pending = frontier.redis.xpending(ITEM_STREAM, "ingest")
    assert pending["pending"] == 10 and pending["consumers"][0]["name"] == "c1"

    # Another consumer takes c1's stale batch over (XAUTOCLAIM) and finishes the stream.
    log = finish(cli("ingest", "--from", frontier_url, "--db", str(db_path), "--lexicon-only", "--until-done",
                     "--batch-size", "10", "--consumer", "c2", "--claim-after", "0.3"))
    assert f"ingested {total - 10} posts" in log and f"({total - 20} new" in log
    assert posts_per_platform(db_path) == {p: PER_PLATFORM for p in NO_BROWSER}
    assert rows(db_path, "SELECT count(*) FROM queue")[0][0] == rows(
        db_path, "SELECT count(DISTINCT platform || post_id) FROM queue")[0][0] > 0
    assert rows(db_path, "SELECT count(*) FROM detections")[0][0] == total
    assert frontier.redis.xlen(ITEM_STREAM) == 0


def test_a_captcha_stops_its_platform_on_every_worker_and_pushed_seeds_crawl(frontier_url):
    """Weibo answers a captcha: both workers stop Weibo and keep its request for later. Bilibili, seeded
    from the command line with a creator and a post id, is crawled meanwhile."""
    with ReplicaServer(replica_posts(), faults={"验证码": "captcha"}) as server:
        assert distributed.push(frontier_url, "weibo", distributed.JobArgs(), keywords=["验证码"]) == 1
        proc = cli("frontier", "push", "bilibili", "--creator", "700", "--post", "100000001", "--comment-pages", "3",
                   "--frontier", frontier_url)
        assert "pushed 2 seeds for bilibili" in finish(proc)
        workers = [cli("worker", "--frontier", frontier_url, "--base-url", server.base_url, "--lease", "1.5")
                   for _ in range(2)]
        logs = [w.communicate(timeout=120)[1] for w in workers]
    assert [w.returncode for w in workers] == [3, 3], logs
    assert all("weibo: " in log and "finish: captcha" in log for log in logs)
    snap = Frontier(frontier_url).snapshot("weibo")
    assert (snap.stopped, snap.queued, snap.inflight, snap.workers) == ("captcha", 1, 0, 0)

    posts = [json.loads(fields["post"]) for _, fields in Frontier(frontier_url).redis.xrange(ITEM_STREAM)]
    assert {p["platform"] for p in posts} == {"bilibili"}
    # Creator 700's three videos (and their comments: --post turned comments on), post 100000001's comments.
    assert {p["post_id"] for p in posts if p["kind"] == "post"} == {
        p.id for p in replica_posts() if p.platform == "bilibili" and p.author_id == "700"}
    comments = [p for p in posts if p["kind"] == "comment"]
    assert len(comments) == 6 and {c["parent_id"] for c in comments} == {"100000000", "100000001"}


def test_crawl_on_the_frontier_and_again_when_it_has_nothing_new(frontier_url, replica):
    args = ("crawl", "weibo", "-k", "征信修复", "--max-pages", "1", "--frontier", frontier_url,
            "--base-url", replica.base_url)
    first = subprocess.run([sys.executable, "-m", "grayscan", *args], capture_output=True, text=True, cwd=ROOT)
    assert first.returncode == 0 and "weibo: 2 pages, 7 posts sent to the item stream" in first.stderr, first.stderr
    again = subprocess.run([sys.executable, "-m", "grayscan", *args], capture_output=True, text=True, cwd=ROOT)
    assert again.returncode == 2 and "nothing was fetched" in again.stderr, again.stderr
    # A worker joining the finished job fetches nothing and says so rather than "finished".
    idle = subprocess.run([sys.executable, "-m", "grayscan", "worker", "--frontier", frontier_url, "--base-url",
                           replica.base_url], capture_output=True, text=True, cwd=ROOT)
    assert idle.returncode == 0 and "nothing to do: no request was queued for weibo" in idle.stderr, idle.stderr
    assert Frontier(frontier_url).redis.xlen(ITEM_STREAM) == 7


def test_unreachable_frontier_and_misplaced_options_are_clear_errors(frontier_url):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    proc = subprocess.run([sys.executable, "-m", "grayscan", "worker", "--frontier", dead], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 2 and f"cannot reach the frontier at {dead}" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "grayscan", "crawl", "weibo", "-k", "x", "--limit", "3",
                           "--frontier", frontier_url], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "not with --frontier: --limit" in proc.stderr
    assert Frontier(frontier_url).jobs() == {}  # nothing was pushed


def stream_post_ids(url: str) -> list[str]:
    return [json.loads(fields["post"])["post_id"] for _, fields in Frontier(url).redis.xrange(ITEM_STREAM)]


def test_a_page_given_up_is_kept_lost_until_requeued(frontier_url):
    """Weibo's page 2 answers 503 until healed: the worker gives it up after every retry, keeps it in the
    frontier's lost list (not done), exits 4 saying how to get it back; once healed, `frontier push
    --requeue-lost` and a worker fetch it, and every post is in the stream once."""
    from test_crawler_faults import KEYWORD, POSTS_PER_PLATFORM, many_posts

    with ReplicaServer(many_posts(), faults={KEYWORD: "broken:2"}) as server:
        assert distributed.push(frontier_url, "weibo", distributed.JobArgs(max_pages=20), keywords=[KEYWORD]) == 1
        worker = ("worker", "--frontier", frontier_url, "--base-url", server.base_url)
        first = cli(*worker)
        _, err = first.communicate(timeout=120)
        assert first.returncode == 4, err[-3000:]
        assert "weibo: 1 request given up after every retry" in err and "frontier push weibo --requeue-lost" in err
        assert "weibo: gave up http://127.0.0.1" in err and "HTTP 503" in err
        snap = Frontier(frontier_url).snapshot("weibo")
        assert (snap.lost, snap.finished, snap.queued, snap.inflight) == (1, True, 0, 0), snap
        # Pages 3-5 came in past the lost page 2 (10 posts a page).
        assert len(stream_post_ids(frontier_url)) == POSTS_PER_PLATFORM - 10
        status = subprocess.run([sys.executable, "-m", "grayscan", "frontier", "status", "--json", "--frontier",
                                 frontier_url], capture_output=True, text=True, cwd=ROOT, check=True)
        row = json.loads(status.stdout)
        assert (row["lost"], row["state"]) == (1, "finished with losses"), row

        server.replica.healed = True
        requeue = cli("frontier", "push", "weibo", "--requeue-lost", "--frontier", frontier_url)
        assert "re-queued 1 lost weibo requests" in finish(requeue)
        assert Frontier(frontier_url).jobs()["weibo"]["max_pages"] == 20  # the job's settings are kept
        finish(cli(*worker))
    ids = stream_post_ids(frontier_url)
    assert len(ids) == len(set(ids)) == POSTS_PER_PLATFORM
    snap = Frontier(frontier_url).snapshot("weibo")
    assert (snap.lost, snap.finished) == (0, True), snap


def test_a_worker_without_a_route_keeps_the_request_queued(frontier_url):
    """Nothing answers at all (a wrong --base-url): the worker exits 2 saying so, and the request is
    neither done nor lost but queued again for a worker that can reach the platform."""
    assert distributed.push(frontier_url, "weibo", distributed.JobArgs(), keywords=["征信修复"]) == 1
    proc = subprocess.run([sys.executable, "-m", "grayscan", "worker", "--frontier", frontier_url, "--base-url",
                           f"http://127.0.0.1:{free_port()}"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "could not reach weibo" in proc.stderr and "its requests stay queued" in proc.stderr
    snap = Frontier(frontier_url).snapshot("weibo")
    # Done: only the seed, expanded into the search request that is queued again.
    assert (snap.queued, snap.inflight, snap.lost, snap.done) == (1, 0, 0, 1), snap
    assert json.loads(Frontier(frontier_url).redis.lindex("grayscan:weibo:queue", 0))["request"]["url"].startswith(
        "https://m.weibo.cn/api/container/getIndex")


def test_worker_without_chromium_exit_2_before_any_request(frontier_url, replica):
    """A page-signed platform's worker runs `grayscan crawl`'s preflight: no Chromium, no request sent,
    exit 2 with the same message, and the job's seed stays queued for a worker that has Chromium."""
    assert distributed.push(frontier_url, "xhs", distributed.JobArgs(), keywords=["征信修复"]) == 1
    before = sum(replica.replica.requests.values())
    proc = subprocess.run([sys.executable, "-m", "grayscan", "worker", "--frontier", frontier_url, "--base-url",
                           replica.base_url], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "GRAYSCAN_CHROMIUM": "/nonexistent/chromium"})
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Chromium not found at /nonexistent/chromium: install it (apt-get install chromium)" in proc.stderr
    assert "xhs: 0 pages" in proc.stderr and "finish: no_browser" in proc.stderr
    assert sum(replica.replica.requests.values()) == before  # not a single request
    snap = Frontier(frontier_url).snapshot("xhs")
    assert (snap.queued, snap.done, snap.workers) == (1, 0, 0), snap


def test_a_body_malformed_on_every_retry_is_kept_lost_with_its_retries_reset(frontier_url):
    """Weibo's page 2 is undecodable on every retry (each retry a queue entry of its own): the last one
    goes to the lost list without its retry count, so a re-queue gets every retry again."""
    from test_crawler_faults import KEYWORD, POSTS_PER_PLATFORM, many_posts

    with ReplicaServer(many_posts(), faults={KEYWORD: "malformed"}) as server:
        assert distributed.push(frontier_url, "weibo", distributed.JobArgs(max_pages=20), keywords=[KEYWORD]) == 1
        proc = subprocess.run([sys.executable, "-m", "grayscan", "worker", "--frontier", frontier_url, "--base-url",
                               server.base_url], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 4, proc.stderr[-3000:]
    assert "after 8 retries (undecodable answer" in proc.stderr and "weibo: 1 request given up" in proc.stderr
    frontier = Frontier(frontier_url)
    (lost,) = frontier.redis.lrange("grayscan:weibo:lost", 0, -1)
    request = json.loads(lost)["request"]
    assert "page=2" in request["url"] and "retry_times" not in request["meta"]
    assert frontier.snapshot("weibo").lost == 1 and len(stream_post_ids(frontier_url)) == POSTS_PER_PLATFORM - 10
