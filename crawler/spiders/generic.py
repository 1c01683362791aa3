"""A spider for forums and sites, configured in YAML instead of code; items go through the same pipelines.

Example (``forum.yaml``)::

    platform: demo-forum              # the name posts are stored under
    hosts: [bbs.example.com]          # what --base-url maps onto a replica
    start_urls: ["https://bbs.example.com/forum?page=1"]
    item: "css:li.thread"             # one match per post
    fields:                           # relative to the item; "css:" or "xpath:" selectors
      post_id: "css:::attr(data-tid)"
      url: "css:a.title::attr(href)"
      title: "css:a.title::text"
      text: "xpath:string(.//div[@class='summary'])"
      author_name: "css:.author::text"
      published_at: "css:.time::text"  # ISO, epoch seconds or "3天前"-style
    next_page: "css:a.next::attr(href)"
    encoding: gb18030                 # optional: override a wrong charset declaration

Pages declared as GBK/GB2312 are decoded as GB18030 (a superset) by Scrapy itself.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from pathlib import Path
from typing import Any

import scrapy
import yaml
from scrapy.http import Request, Response, TextResponse

from ..parsing import iso_from_epoch, parse_fuzzy_time
from .base import post_item

REQUIRED = ("platform", "start_urls", "item", "fields")


class ConfigError(ValueError):
    """A generic-spider YAML file that cannot be used; the message says what to fix."""


def load_config(path: str | Path) -> dict[str, Any]:
    """The validated configuration in ``path``."""
    try:
        config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    missing = [k for k in REQUIRED if not config.get(k)]
    if missing:
        raise ConfigError(f"{path}: missing {', '.join(missing)}")
    for name, selector in {"item": config["item"], **config["fields"],
                           **({"next_page": config["next_page"]} if config.get("next_page") else {})}.items():
        if not str(selector).startswith(("css:", "xpath:")):
            raise ConfigError(f"{path}: {name} must start with 'css:' or 'xpath:' (got {selector!r})")
    if "text" not in config["fields"]:
        raise ConfigError(f"{path}: fields must include text")
    return config


def select(node: Any, selector: str) -> list[str]:
    """Strings matched by a ``css:...`` or ``xpath:...`` selector under ``node``."""
    kind, _, expression = selector.partition(":")
    matches = node.css(expression) if kind == "css" else node.xpath(expression)
    return [s.strip() for s in matches.getall() if s and s.strip()]


def parse_time(value: str | None) -> str | None:
    if not value:
        return None
    if value.isdigit():
        return iso_from_epoch(value)
    return parse_fuzzy_time(value) or (value if value[:4].isdigit() and "-" in value else None)


def parse_page(response: TextResponse, config: dict[str, Any], page_url: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Items of one listing page and the next page's absolute URL (None at the end); relative links
    resolve against ``page_url`` (the site's own URL when the page came from a replica)."""
    base = page_url or response.url
    items = []
    for node in _nodes(response, config["item"]):
        values = {name: " ".join(select(node, sel)) for name, sel in config["fields"].items()}
        if not values.get("text"):
            continue
        url = urllib.parse.urljoin(base, values["url"]) if values.get("url") else base
        post_id = values.get("post_id") or hashlib.sha1(url.encode()).hexdigest()[:16]
        items.append(post_item(
            config["platform"], post_id, url, values["text"],
            title=values.get("title") or None,
            author_id=values.get("author_id") or values.get("author_name") or None,
            author_name=values.get("author_name") or None,
            author_url=urllib.parse.urljoin(base, values["author_url"]) if values.get("author_url") else None,
            published_at=parse_time(values.get("published_at")),
            raw={k: v for k, v in values.items() if k != "text"},
        ))
    following = select(response, config["next_page"]) if config.get("next_page") else []
    return items, urllib.parse.urljoin(base, following[0]) if following else None


def _nodes(response: TextResponse, selector: str):
    kind, _, expression = selector.partition(":")
    return response.css(expression) if kind == "css" else response.xpath(expression)


class GenericSpider(scrapy.Spider):
    """Follows ``start_urls`` and ``next_page`` up to ``max_pages`` pages each."""

    name = "generic"

    def __init__(self, config: str | None = None, max_pages: int | str = 5, keywords: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not config:
            raise ConfigError("the generic spider needs --config FILE.yaml")
        self.config = load_config(config)
        self.platform = self.config["platform"]
        self.hosts = tuple(self.config.get("hosts") or ())
        self.max_pages = int(max_pages)

    async def start(self):
        for url in self.config["start_urls"]:
            yield Request(url, callback=self.parse, cb_kwargs={"page": 1})

    def parse(self, response: Response, page: int):
        if self.config.get("encoding"):
            response = response.replace(encoding=self.config["encoding"])
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("grayscan/malformed")
            self.logger.error("not an HTML page: %s", response.url)
            return
        items, following = parse_page(response, self.config, response.meta.get("platform_url"))
        if not items:
            self.crawler.stats.inc_value("grayscan/empty_pages")
            self.logger.warning("no items matched %s on %s", self.config["item"], response.url)
        yield from items
        if following and page < self.max_pages:
            yield Request(following, callback=self.parse, cb_kwargs={"page": page + 1})
