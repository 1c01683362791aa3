"""grayscan.crawler: Scrapy spiders for the platforms, pipelines into the store, local replicas.

Public API::

    from crawler.run import CrawlJob, crawl
    crawl([CrawlJob("weibo", ["征信修复"], base_url="http://127.0.0.1:8000")], "grayscan.db")
"""
