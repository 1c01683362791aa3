"""How a crawl logs: Scrapy's messages, minus the line per scraped item."""

from __future__ import annotations

from scrapy.logformatter import LogFormatter


class PostLogFormatter(LogFormatter):
    """A crawl scrapes thousands of posts: they are counted in the stats and kept in the database,
    not repeated in the log (Scrapy builds each DEBUG record even when the log level drops it, a few
    percent of the crawl process's time)."""

    def scraped(self, item, response, spider):
        return None
