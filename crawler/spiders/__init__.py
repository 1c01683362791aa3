"""One module per platform: an ``Api`` of pure parsing functions plus a thin spider class."""

from __future__ import annotations

from importlib import import_module

#: platform name -> "module:Class"
SPIDERS = {
    "douyin": "crawler.spiders.douyin:DouyinSpider",
    "kuaishou": "crawler.spiders.kuaishou:KuaishouSpider",
    "xhs": "crawler.spiders.xhs:XhsSpider",
    "weibo": "crawler.spiders.weibo:WeiboSpider",
    "bilibili": "crawler.spiders.bilibili:BilibiliSpider",
    "tieba": "crawler.spiders.tieba:TiebaSpider",
    "zhihu": "crawler.spiders.zhihu:ZhihuSpider",
    "generic": "crawler.spiders.generic:GenericSpider",
}
#: The seven social platforms (``generic`` is configured by a YAML file instead).
PLATFORMS = tuple(p for p in SPIDERS if p != "generic")


def spider_class(platform: str):
    """The spider class of ``platform``; raises KeyError naming the known platforms."""
    try:
        module, name = SPIDERS[platform].split(":")
    except KeyError:
        raise KeyError(f"unknown platform {platform!r}; known: {', '.join(sorted(SPIDERS))}") from None
    return getattr(import_module(module), name)
