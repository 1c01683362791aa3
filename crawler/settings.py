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
RETRY_TIMES = 3
DOWNLOAD_TIMEOUT = 30

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SigningMiddleware": 40,
    "crawler.middlewares.BaseUrlMiddleware": 50,
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
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
