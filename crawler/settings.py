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

DOWNLOADER_MIDDLEWARES = {"crawler.middlewares.BaseUrlMiddleware": 50}
ITEM_PIPELINES = {"crawler.pipelines.StorePipeline": 300}

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"

GRAYSCAN_BATCH_SIZE = 100
