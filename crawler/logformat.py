"""How a crawl logs: Scrapy's messages, minus the line per scraped item."""

from __future__ import annotations

from scrapy.logformatter import LogFormatter


class PostLogFormatter(LogFormatter):
    """A crawl scrapes thousands of posts: they are counted in the stats and kept in the database,
    not repeated in the log (building each of those DEBUG records costs more than parsing the post)."""

    def scraped(self, item, response, spider):
        return None
