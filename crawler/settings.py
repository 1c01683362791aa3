"""Scrapy settings for grayscan's crawler; ``crawler.run.crawl`` layers per-run values on top."""

BOT_NAME = "grayscan"
SPIDER_MODULES = ["crawler.spiders"]

# The platforms' JSON APIs are what we read; robots.txt of an API host says nothing useful.
ROBOTSTXT_OBEY = False
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)
DEFAULT_REQUEST_HEADERS = {"Accept": "application/json, text/plain, */*", "Accept-Language": "zh-CN,zh;q=0.9"}

# Politeness: the real cap is the platforms' risk control, not Scrapy.
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 2.0
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
#: Retries of a page (connection drops, timeouts, 5xx, truncated or undecodable bodies) before it is given
#: up, recorded in the job state and fetched again by --resume. Eight, over about a minute of back-off:
#: with every 3rd answer broken, 3 retries still lost ~1 request in 80 (a listing page loses every page
#: after it when its cursor is opaque); 8 lose ~1 in 20,000. Nothing answering at all fails fast instead.
RETRY_TIMES = 8
#: Back-off before retry n: min(GRAYSCAN_RETRY_BACKOFF * 2**(n-1), GRAYSCAN_RETRY_BACKOFF_MAX) seconds (+ jitter).
GRAYSCAN_RETRY_BACKOFF = 0.5
GRAYSCAN_RETRY_BACKOFF_MAX = 15.0
#: 429 is left out: it is a platform's rate limit, which the spiders back off from (GRAYSCAN_BACKOFF_*).
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
#: The spider logs each page it gives up (with how to get it back); Scrapy's own line would repeat it.
RETRY_GIVE_UP_LOG_LEVEL = "INFO"
#: Spiders retry undecodable answers with get_retry_request, whose requests carry retry_times on purpose.
META_COPY_WARN_SKIP_KEYS = ["retry_times"]
DOWNLOAD_TIMEOUT = 30

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SigningMiddleware": 40,
    "crawler.middlewares.BaseUrlMiddleware": 50,
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "crawler.middlewares.LoginCookiesMiddleware": 700,
}
# Signatures carry timestamps; dedup and --resume must see through them.
REQUEST_FINGERPRINTER_CLASS = "crawler.middlewares.SignatureBlindFingerprinter"
ITEM_PIPELINES = {"crawler.pipelines.StorePipeline": 300}
LOG_FORMATTER = "crawler.logformat.PostLogFormatter"
#: Outputs of one response handled in parallel: a page holds 10-20 posts and the pipeline only buffers
#: them, while Scrapy's default of 100 starts 100 tasks for every response.
CONCURRENT_ITEMS = 16

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"

#: Posts per batch sent to the pipeline worker (one model pass and one transaction each): fewer, larger
#: batches cost the crawl less than 100-post ones did (crawl_bench).
GRAYSCAN_BATCH_SIZE = 250
#: Back-off on a platform's rate-limit answer: GRAYSCAN_BACKOFF_BASE * 2**attempt seconds (+ jitter).
GRAYSCAN_BACKOFF_BASE = 5.0
GRAYSCAN_BACKOFF_RETRIES = 4

#: Browser route (--via browser): seconds to wait for the platform's page to make its next API call.
GRAYSCAN_BROWSER_IDLE = 20.0

#: Per-platform politeness (seconds between requests to one host; AutoThrottle adapts from there).
#: From what the platforms tolerate per account (platform-apis.md §3-5): XHS and Douyin are strictest.
PLATFORM_DOWNLOAD_DELAY = {
    "xhs": 4.0,
    "douyin": 3.0,
    "kuaishou": 3.0,
    "weibo": 3.0,
    "bilibili": 2.0,
    "tieba": 2.0,
    "zhihu": 2.0,
}
#: Full batches waiting for the worker before the pipeline holds Scrapy back.
GRAYSCAN_PENDING_BATCHES = 2
#: Where batches are classified and stored while Scrapy crawls: "process" or "thread" (crawler/pipelines.py).
GRAYSCAN_WORKER = "process"
#: Torch threads for model inference in a worker process (0: torch's default, one per core). One: the
#: worker shares the cores with Scrapy, and a second inference thread slowed the crawl instead (crawl_bench).
GRAYSCAN_WORKER_TORCH_THREADS = 1

# -- Shared Redis frontier (crawler/frontier.py; crawler.distributed sets the scheduler and middlewares) --
#: redis://HOST:PORT/N of the frontier; None: a single-process crawl.
GRAYSCAN_FRONTIER = None
#: Seconds a worker's requests stay its own without a heartbeat; then live workers re-queue them.
GRAYSCAN_FRONTIER_LEASE = 15.0
#: Seconds between asks for requests while this worker has none (Scrapy's own heartbeat is 5 s).
GRAYSCAN_FRONTIER_POLL = 0.2
#: Keep the worker waiting for pushes after its jobs are done.
GRAYSCAN_FRONTIER_STAY = False
#: Requests per second per platform across all workers (a token bucket in Redis; crawler/ratelimit.py).
GRAYSCAN_RATE_LIMITS: dict[str, float] = {}
#: Requests a platform's bucket lets through at once after a quiet spell.
GRAYSCAN_RATE_BURST = 1.0
