"""Chromium launch settings shared by the page-JS signers and evidence capture.

Playwright cannot download its own browsers here, so Debian's Chromium is used through
``executable_path``; ``GRAYSCAN_CHROMIUM`` points elsewhere when needed.
"""

from __future__ import annotations

import os
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch_options() -> dict[str, Any]:
    """Keyword arguments for ``playwright.chromium.launch``."""
    return {"executable_path": os.environ.get("GRAYSCAN_CHROMIUM", CHROMIUM), "headless": True, "args": CHROMIUM_ARGS}
