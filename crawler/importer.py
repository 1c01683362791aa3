"""Posts collected elsewhere, loaded through the crawl pipeline (classify, store, enqueue).

Reads MediaCrawler's exports (JSON arrays, JSON Lines and CSV, one file per platform and kind,
e.g. ``data/xhs/json/search_contents_2025-01-01.json`` or ``.../search_comments_...``) and generic
JSON Lines (``{"platform", "post_id", "text", "url", ...}`` in grayscan's own post shape).
A record that cannot be used is reported with its line and skipped; the rest are kept.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .items import PostItem
from .parsing import CHINA_TZ, iso_from_epoch, utc_now
from .spiders import PLATFORMS

#: MediaCrawler's column names per platform: (post id, text columns, url, author id, author name,
#: author homepage, time, comment's parent id).
MEDIACRAWLER_FIELDS: dict[str, dict[str, Any]] = {
    "xhs": {"id": "note_id", "text": ("title", "desc"), "url": "note_url", "author_id": "user_id",
            "author_name": "nickname", "time": ("time", "create_time"), "parent": "note_id"},
    "douyin": {"id": "aweme_id", "text": ("title", "desc"), "url": "aweme_url", "author_id": "user_id",
               "author_name": "nickname", "time": ("create_time",), "parent": "aweme_id"},
    "kuaishou": {"id": "video_id", "text": ("title", "desc"), "url": "video_url", "author_id": "user_id",
                 "author_name": "nickname", "time": ("create_time",), "parent": "video_id"},
    "bilibili": {"id": "video_id", "text": ("title", "desc"), "url": "video_url", "author_id": "user_id",
                 "author_name": "nickname", "time": ("create_time",), "parent": "video_id"},
    "weibo": {"id": "note_id", "text": ("content",), "url": "note_url", "author_id": "user_id",
              "author_name": "nickname", "author_url": "profile_url", "time": ("create_time", "create_date_time"),
              "parent": "note_id"},
    "tieba": {"id": "note_id", "text": ("title", "desc"), "url": "note_url", "author_id": "user_link",
              "author_name": "user_nickname", "author_url": "user_link", "time": ("publish_time",), "parent": "note_id"},
    "zhihu": {"id": "content_id", "text": ("title", "content_text"), "url": "content_url", "author_id": "user_id",
              "author_name": "user_nickname", "author_url": "user_link", "time": ("created_time", "publish_time"),
              "parent": "content_id"},
}  # fmt: skip
#: Columns that only one platform's export has: used to recognise a file without --platform.
SIGNATURE_COLUMNS = [
    ("aweme_id", "douyin"), ("xsec_token", "xhs"), ("content_id", "zhihu"), ("tieba_name", "tieba"),
    ("video_play_count", "bilibili"), ("viewd_count", "kuaishou"), ("video_play_url", "kuaishou"),
    ("shared_count", "weibo"), ("profile_url", "weibo"),
]  # fmt: skip


@dataclass
class ImportProblem:
    line: int
    message: str


@dataclass
class ImportReport:
    read: int = 0
    problems: list[ImportProblem] = field(default_factory=list)


def read_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """``(line, record)`` for every record of a JSON array, JSON Lines or CSV file; a record that
    cannot be decoded comes as ``(line, ValueError)``."""
    suffix = path.suffix.lower()
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        if suffix == ".csv":
            reader = csv.DictReader(f)
            for row in reader:
                yield reader.line_num, ValueError("row has more fields than the header") if None in row else row
            return
        text = f.read()
    if suffix == ".json" and text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except ValueError as exc:
            yield getattr(exc, "lineno", 1), ValueError(f"malformed JSON array: {exc}")
            return
        yield from enumerate(records, 1)
        return
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except ValueError as exc:
                yield number, ValueError(f"malformed JSON: {exc}")


def guess_platform(path: Path, record: dict[str, Any]) -> str | None:
    """The platform of a MediaCrawler record: its ``platform`` key, a path segment, or a telltale column."""
    if record.get("platform") in PLATFORMS:
        return record["platform"]
    for part in reversed(path.parts[:-1]):
        if part in PLATFORMS:
            return part
    for column, platform in SIGNATURE_COLUMNS:
        if column in record:
            return platform
    return None


def parse_time(value: Any) -> str | None:
    """Epoch seconds/ms (numbers or digit strings) or ``YYYY-MM-DD[ HH:MM[:SS]]`` (China time) as ISO-8601."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) or re.fullmatch(r"\d{9,13}", str(value)):
        return iso_from_epoch(value)
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(str(value), fmt).replace(tzinfo=CHINA_TZ).isoformat()
        except ValueError:
            continue
    return None


def mediacrawler_post(record: dict[str, Any], platform: str, path: Path) -> PostItem:
    """One MediaCrawler content or comment record as a post; raises ValueError saying what is missing."""
    fields = MEDIACRAWLER_FIELDS[platform]
    is_comment = "comment_id" in record or "comments" in path.stem
    post_id = record.get("comment_id") if is_comment else record.get(fields["id"])
    if post_id in (None, ""):
        raise ValueError(f"no {'comment_id' if is_comment else fields['id']} (is this a {platform} export?)")
    texts = ("content",) if is_comment else fields["text"]
    text = "\n".join(str(record[k]).strip() for k in texts if record.get(k) not in (None, ""))
    if not text:
        raise ValueError(f"empty text ({', '.join(texts)})")
    parent = str(record.get(fields["parent"]) or "") or None if is_comment else None
    url = record.get(fields["url"]) or record.get("note_url") or ""
    return PostItem(
        platform=platform,
        post_id=f"comment-{post_id}" if is_comment else str(post_id),
        kind="comment" if is_comment else "post",
        parent_id=parent,
        url=url,
        title=None if is_comment else (record.get("title") or None),
        text=text,
        author_id=str(record.get(fields["author_id"]) or "") or None,
        author_name=record.get(fields["author_name"]) or None,
        author_url=record.get(fields.get("author_url", "")) or None,
        published_at=next((t for k in fields["time"] if (t := parse_time(record.get(k)))), None),
        crawled_at=utc_now(),
        keyword=record.get("source_keyword") or None,
        raw=record,
    )


def generic_post(record: dict[str, Any], platform: str) -> PostItem:
    """A record already in grayscan's post shape (``post_id`` or ``id``, ``text``)."""
    post_id = record.get("post_id") or record.get("id")
    if post_id in (None, "") or not isinstance(record.get("text"), str) or not record["text"].strip():
        raise ValueError("a generic record needs post_id (or id) and a non-empty text")
    known = set(PostItem.__annotations__)
    item = {k: v for k, v in record.items() if k in known}
    return PostItem(**{**item, "platform": platform, "post_id": str(post_id), "kind": record.get("kind") or "post",
                       "url": record.get("url") or "", "crawled_at": utc_now(), "raw": record})


def import_posts(path: str | Path, platform: str | None, add: Callable[[PostItem], None]) -> ImportReport:
    """Feed every usable record of ``path`` to ``add``; returns counts and the skipped records' problems."""
    path = Path(path)
    report = ImportReport()
    for line, record in read_rows(path):
        if isinstance(record, ValueError):
            report.problems.append(ImportProblem(line, str(record)))
            continue
        if not isinstance(record, dict):
            report.problems.append(ImportProblem(line, f"expected an object, got {type(record).__name__}"))
            continue
        source = platform or guess_platform(path, record)
        try:
            if "text" in record and ("post_id" in record or "id" in record):
                post = generic_post(record, source or str(record.get("platform") or ""))
                if not post["platform"]:
                    raise ValueError("no platform: give --platform or a 'platform' field")
            elif source in MEDIACRAWLER_FIELDS:
                post = mediacrawler_post(record, source, path)
            else:
                raise ValueError("cannot tell the platform; pass --platform")
        except ValueError as exc:
            report.problems.append(ImportProblem(line, str(exc)))
            continue
        add(post)
        report.read += 1
    return report
