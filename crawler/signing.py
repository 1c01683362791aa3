"""Request signing, all in one place so a broken signature is fixed here and nowhere else.

- Bilibili WBI ``w_rid`` and Tieba's ``sign`` are computed in Python.
- Kuaishou (``__NS_hxfalcon``), Xiaohongshu (``X-s``/``X-t``), Douyin (``a_bogus``) and Zhihu (``x-zse-96``)
  are computed by the platform's own page JavaScript: ``PageJsSigner`` opens the platform's page in Chromium
  once per crawl and evaluates a small expression for each request. When a platform changes its signer,
  only the expression (or the page) in ``SIGNERS`` changes.

``crawler.middlewares.SigningMiddleware`` applies the platform's signer to requests whose meta has
``sign: True``; ``GRAYSCAN_SIGNERS`` (``{"platform": "none"}``) switches one off.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Bilibili's fixed permutation of img_key + sub_key (public: bilibili-API-collect, docs/misc/sign/wbi.md).
MIXIN_KEY_ENC_TAB = (
    46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35, 27, 43, 5, 49, 33, 9, 42, 19, 29, 28, 14, 39,
    12, 38, 41, 13, 37, 48, 7, 16, 24, 55, 40, 61, 26, 17, 0, 1, 60, 51, 30, 4, 22, 25, 54, 21, 56, 59, 6, 63,
    57, 62, 11, 36, 20, 34, 44, 52,
)  # fmt: skip

#: Query parameters that carry a signature or its timestamp; they are left out of request fingerprints
#: so a re-signed request still counts as the same request for dedup and resume.
SIGNATURE_PARAMS = frozenset({"wts", "w_rid", "__NS_hxfalcon", "a_bogus", "X-Bogus", "sign"})


def wbi_mixin_key(img_key: str, sub_key: str) -> str:
    """The 32-character mixin key derived from the two WBI keys."""
    raw = img_key + sub_key
    return "".join(raw[i] for i in MIXIN_KEY_ENC_TAB)[:32]


def wbi_keys_from_nav(nav: Mapping[str, Any]) -> tuple[str, str]:
    """img_key and sub_key from a ``/x/web-interface/nav`` answer (file stems of the two URLs)."""
    wbi = nav["data"]["wbi_img"]

    def stem(url: str) -> str:
        return url.rsplit("/", 1)[-1].split(".", 1)[0]

    return stem(wbi["img_url"]), stem(wbi["sub_url"])


def _encode(params: Mapping[str, str]) -> str:
    # WBI wants %20 for spaces and upper-case escapes (quote), not form encoding's "+" (quote_plus).
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="")


def wbi_sign(params: Mapping[str, Any], img_key: str, sub_key: str, wts: int | None = None) -> dict[str, str]:
    """``params`` plus ``wts`` and ``w_rid``: md5 of the sorted, filtered query and the mixin key."""
    signed = {k: re.sub(r"[!'()*]", "", str(v)) for k, v in params.items() if k not in ("w_rid", "wts")}
    signed["wts"] = str(int(time.time()) if wts is None else wts)
    signed = dict(sorted(signed.items()))
    signed["w_rid"] = hashlib.md5((_encode(signed) + wbi_mixin_key(img_key, sub_key)).encode()).hexdigest()
    return signed


def wbi_query(params: Mapping[str, Any], img_key: str, sub_key: str, wts: int | None = None) -> str:
    """The signed query string for ``params``."""
    return _encode(wbi_sign(params, img_key, sub_key, wts))


TIEBA_SALT = "tiebaclient!!!"


def tieba_sign(params: Mapping[str, Any]) -> str:
    """Tieba's ``sign``: md5 of every ``k=v`` (sorted by key, not URL-encoded, no separator) plus the client salt."""
    joined = "".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign")
    return hashlib.md5((joined + TIEBA_SALT).encode()).hexdigest()


@dataclass
class Signature:
    """What a signer adds to a request."""

    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class Signer(Protocol):
    """Signs one request. ``url`` is the platform URL (before any --base-url mapping)."""

    async def sign(self, method: str, url: str, body: str) -> Signature: ...

    async def close(self) -> None: ...


class TiebaSigner:
    """Tieba PC APIs: ``sign`` over the query (GET) or form (POST) parameters."""

    async def sign(self, method: str, url: str, body: str) -> Signature:
        params = dict(urllib.parse.parse_qsl(body if method == "POST" else urllib.parse.urlsplit(url).query))
        return Signature(params={"sign": tieba_sign(params)})

    async def close(self) -> None:
        return None


class PageJsSigner:
    """Signs with the platform's own JavaScript: opens ``page_url`` once in Chromium, then for each request
    evaluates ``expression`` — a JS function of ``{url, path, body}`` returning ``{params, headers}``.
    ``function`` names the page function the expression calls; the preflight checks that it exists.

    ``page_url`` is opened through ``map_url`` so that ``--base-url`` replicas serve the page too.
    """

    def __init__(self, page_url: str, expression: str, function: str):
        self.page_url = page_url
        self.expression = expression
        self.function = function
        self._playwright = None
        self._browser = None
        self._page = None
        self._opening: asyncio.Lock | None = None

    @property
    def probe(self) -> str:
        """A JS expression that is true when the page has the signing function."""
        path = self.function.split(".")
        checks = ["window." + ".".join(path[: i + 1]) for i in range(len(path))]
        return " && ".join(checks[:-1] + [f"typeof {checks[-1]} === 'function'"])

    async def _open(self, map_url) -> Any:
        # Concurrent requests must share one page: the first opens it, the others wait.
        self._opening = self._opening or asyncio.Lock()
        async with self._opening:
            if self._page is None:
                await self._launch(map_url)
        return self._page

    async def _launch(self, map_url) -> None:
        from playwright.async_api import async_playwright

        from .browser import launch_options

        self._playwright = await async_playwright().start()
        self._browser = await self._playwright.chromium.launch(**launch_options())
        self._page = await self._browser.new_page()
        await self._page.goto(map_url(self.page_url), wait_until="load")

    async def sign(self, method: str, url: str, body: str, map_url=lambda u: u) -> Signature:
        page = self._page or await self._open(map_url)
        parts = urllib.parse.urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        result = await page.evaluate(self.expression, {"url": url, "path": path, "body": body})
        if not isinstance(result, dict):
            raise RuntimeError(f"page signer returned {json.dumps(result)[:80]}; the page's JS may have changed")
        return Signature(params=dict(result.get("params") or {}), headers=dict(result.get("headers") or {}))

    async def close(self) -> None:
        if self._browser:
            await self._browser.close()
        if self._playwright:
            await self._playwright.stop()
        self._page = self._browser = self._playwright = None


def default_signers() -> dict[str, Signer]:
    """A fresh signer per platform (one crawl's browser state is never shared with another's)."""
    return {
        "tieba": TiebaSigner(),
        # XHS web: window._webmsxyw(path, body) -> {"X-s", "X-t"} (MediaCrawler's playwright_sign before 2025-11).
        "xhs": PageJsSigner(
            "https://www.xiaohongshu.com/explore",
            "a => ({headers: window._webmsxyw(a.path, a.body ? JSON.parse(a.body) : undefined)})",
            "_webmsxyw",
        ),
        # Kuaishou web: the page's signer realm encodes the path and body into __NS_hxfalcon.
        "kuaishou": PageJsSigner(
            "https://www.kuaishou.com/search/video",
            "a => ({params: {__NS_hxfalcon: window.__ks_realm.call('$encode', {url: a.path, body: a.body})}})",
            "__ks_realm.call",
        ),
        # Douyin web: a_bogus from the page's bdms SDK (general search itself is unsigned).
        "douyin": PageJsSigner(
            "https://www.douyin.com/",
            "a => ({params: {a_bogus: window.bdms.sign(a.path.split('?')[1] || '', a.body || '')}})",
            "bdms.sign",
        ),
        # Zhihu web: x-zse-96 over "101_3_3.0+path+d_c0", computed by the page's encrypt function.
        "zhihu": PageJsSigner(
            "https://www.zhihu.com/search",
            "a => ({headers: {'x-zse-93': '101_3_3.0', 'x-zse-96': window.__zse_sign(a.path)}})",
            "__zse_sign",
        ),
    }
