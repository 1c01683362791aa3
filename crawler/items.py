"""What spiders yield: plain dicts with these keys, so items pickle cleanly for JOBDIR and Redis."""

from __future__ import annotations

from typing import Any, TypedDict


class PostItem(TypedDict, total=False):
    """A post or first-level comment in the store's shape."""

    platform: str
    post_id: str
    kind: str  # post | comment
    parent_id: str | None
    url: str
    title: str | None
    text: str
    author_id: str | None
    author_name: str | None
    author_url: str | None
    published_at: str | None  # ISO-8601 with offset
    keyword: str | None
    raw: dict[str, Any]
