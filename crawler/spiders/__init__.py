"""One module per platform: a spider plus the pure functions that parse its responses."""

from __future__ import annotations

from importlib import import_module

#: platform name -> "module:Class"
SPIDERS = {
    "weibo": "crawler.spiders.weibo:WeiboSpider",
    "bilibili": "crawler.spiders.bilibili:BilibiliSpider",
}


def spider_class(platform: str):
    """The spider class of ``platform``; raises KeyError naming the known platforms."""
    try:
        module, name = SPIDERS[platform].split(":")
    except KeyError:
        raise KeyError(f"unknown platform {platform!r}; known: {', '.join(sorted(SPIDERS))}") from None
    return getattr(import_module(module), name)
