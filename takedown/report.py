"""Takedown reports: one batch of queue items written as CSV, JSON and a self-contained HTML file.

Post text is hostile input: the HTML is rendered by Jinja2 with autoescaping, carries a
Content-Security-Policy that forbids scripts, and shows URLs as text rather than links.
"""

from __future__ import annotations

import base64
import importlib.metadata
import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from jinja2 import Environment, PackageLoader, select_autoescape

from .queue import items as queue_items
from .store import now_iso

EXCERPT_CHARS = 400
CSV_FIELDS = [
    "queue_id", "platform", "post_id", "tier", "score", "criterion", "matched_terms", "url", "author_name",
    "account_url", "published_at", "excerpt", "evidence_sha256",
]  # fmt: skip

def _version() -> str:
    try:
        return importlib.metadata.version("grayscan")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


_env = Environment(loader=PackageLoader("takedown", "templates"), autoescape=select_autoescape(["html"]))


@dataclass(frozen=True)
class ReportBatch:
    """What ``write_report`` produced."""

    batch_id: str
    platform: str | None
    count: int
    html: Path
    csv: Path
    json: Path
    item_ids: list[int]


def _marked_excerpt(text: str, matches: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    """``text`` cut to EXCERPT_CHARS, split into (part, is_match) pieces for highlighting."""
    text = text[:EXCERPT_CHARS]
    spans = sorted((m["start"], m["end"]) for m in matches if m.get("end", 0) <= len(text))
    parts, cursor = [], 0
    for start, end in spans:
        if start < cursor:
            continue
        parts += [(text[cursor:start], False), (text[start:end], True)]
        cursor = end
    parts.append((text[cursor:], False))
    return [p for p in parts if p[0]]


def _evidence(db: sqlite_utils.Database, platform: str, post_id: str, embed: bool) -> list[dict[str, Any]]:
    rows = list(
        db.query(
            "SELECT kind, path, sha256, captured_at FROM evidence WHERE platform = ? AND post_id = ? ORDER BY id",
            [platform, post_id],
        )
    )
    for row in rows:
        path = Path(row["path"]) if row["path"] else None
        if embed and row["kind"] == "screenshot" and path and path.is_file():
            row["data_uri"] = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
    return rows


def write_report(
    db: sqlite_utils.Database,
    out_dir: str | Path,
    *,
    platform: str | None = None,
    since: str | None = None,
    statuses: Iterable[str] = ("accepted",),
    embed_screenshots: bool = True,
) -> ReportBatch:
    """Write one report batch of the queue items in ``statuses`` (optionally one platform, since a date)."""
    rows = queue_items(db, status=list(statuses), platform=platform, since=since)
    rows.reverse()  # oldest first reads naturally in a report
    generated = datetime.now(UTC)
    batch_id = f"{platform or 'all'}-{generated:%Y%m%dT%H%M%SZ}"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    report_items = []
    for row in rows:
        matches = json.loads(row["matches"] or "[]")
        reasons = json.loads(row["reasons"] or "[]")
        evidence = _evidence(db, row["platform"], row["post_id"], embed_screenshots)
        report_items.append(
            {
                **row,
                "reasons": reasons,
                "matches": matches,
                "excerpt": _marked_excerpt(row["text"] or "", matches),
                "evidence": evidence,
            }
        )

    html_path = out / f"report-{batch_id}.html"
    html_path.write_text(
        _env.get_template("report.html").render(
            batch_id=batch_id,
            platform=platform,
            items=report_items,
            generated_at=now_iso(),
            version=_version(),
        ),
        encoding="utf-8",
    )

    csv_path = out / f"report-{batch_id}.csv"
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as f:  # BOM: Excel opens Chinese correctly
        writer = csv.DictWriter(f, CSV_FIELDS)
        writer.writeheader()
        for item in report_items:
            writer.writerow(
                {
                    "queue_id": item["id"],
                    "platform": item["platform"],
                    "post_id": item["post_id"],
                    "tier": item["tier"],
                    "score": item["score"],
                    "criterion": "; ".join(item["reasons"]),
                    "matched_terms": "; ".join(dict.fromkeys(m["term"] for m in item["matches"])),
                    "url": item["url"],
                    "author_name": item["author_name"],
                    "account_url": item["homepage_url"],
                    "published_at": item["published_at"],
                    "excerpt": (item["text"] or "")[:EXCERPT_CHARS],
                    "evidence_sha256": " ".join(e["sha256"] for e in item["evidence"] if e["sha256"]),
                }
            )

    json_path = out / f"report-{batch_id}.json"
    json_items = [{k: v for k, v in item.items() if k != "excerpt"} for item in report_items]
    for item in json_items:
        item["evidence"] = [{k: v for k, v in e.items() if k != "data_uri"} for e in item["evidence"]]
    json_path.write_text(
        json.dumps({"batch_id": batch_id, "platform": platform, "items": json_items}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    return ReportBatch(batch_id, platform, len(report_items), html_path, csv_path, json_path, [i["id"] for i in rows])
