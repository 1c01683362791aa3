"""Evidence for hits: a full-page screenshot and the rendered HTML of each post's page, captured with
Debian Chromium through Playwright, hashed (SHA-256) and referenced from the ``evidence`` table.

Pages are rendered (JavaScript runs) before capture, so what is kept is what a reviewer would see.
A page that fails to load is reported and skipped; the rest are still captured.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from takedown.store import now_iso

from .browser import launch_options

#: How long to let a page's scripts run after ``load`` before capturing (ms).
SETTLE_MS = 500


@dataclass
class Captured:
    platform: str
    post_id: str
    url: str
    files: list[tuple[str, Path, str]]  # (kind, path, sha256)
    error: str | None = None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]", "_", name)[:80]


def capture(
    db: sqlite_utils.Database,
    targets: Iterable[tuple[str, str, str]],
    out_dir: str | Path,
    *,
    map_url: Callable[[str, str], str] = lambda platform, url: url,
    timeout_ms: int = 30_000,
    on_done: Callable[[Captured], None] | None = None,
) -> list[Captured]:
    """Capture each ``(platform, post_id, url)``: screenshot + HTML files in ``out_dir``, rows in ``evidence``.

    ``map_url(platform, url)`` lets --base-url replicas serve the pages; the stored ``url`` is the
    platform's own. Returns what was captured, including failures (``error`` set).
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results: list[Captured] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options())
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            for platform, post_id, url in targets:
                captured = Captured(platform, post_id, url, [])
                page = context.new_page()
                try:
                    page.goto(map_url(platform, url), wait_until="load", timeout=timeout_ms)
                    page.wait_for_timeout(SETTLE_MS)
                    at = now_iso()
                    stem = out / f"{_safe(platform)}-{_safe(post_id)}-{at[:19].replace(':', '')}"
                    shot, snapshot = stem.with_suffix(".png"), stem.with_suffix(".html")
                    page.screenshot(path=str(shot), full_page=True)
                    snapshot.write_text(page.content(), encoding="utf-8")
                    for kind, path in (("screenshot", shot), ("html", snapshot)):
                        digest = sha256_file(path)
                        captured.files.append((kind, path, digest))
                        db["evidence"].insert({"platform": platform, "post_id": post_id, "kind": kind,
                                               "path": str(path), "sha256": digest, "captured_at": at, "url": url})
                except PlaywrightError as exc:
                    captured.error = str(exc).splitlines()[0]
                finally:
                    page.close()
                results.append(captured)
                if on_done:
                    on_done(captured)
        finally:
            browser.close()
    return results
