"""Takedown reports: one batch of queue items written as CSV, JSON, a self-contained HTML file
and optionally PDF.

A real batch covers one platform's accepted items and moves them to ``submitted`` with the
batch id and channel; a draft (``draft=True``) may include unreviewed items and changes nothing.

Post text is hostile input: the HTML is rendered by Jinja2 with autoescaping, carries a
Content-Security-Policy that forbids scripts, links only http(s) URLs (``rel="noopener noreferrer"``,
anything else stays text), and embeds screenshots only as ``data:`` URIs of recognised image types.
Every CSV cell goes through ``csvsafe`` so a spreadsheet cannot run post text as a formula.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from jinja2 import Environment, PackageLoader, select_autoescape

from . import csvsafe
from .queue import Filters, as_json_list, evidence, select, submit
from .store import now_iso

EXCERPT_CHARS = 400
#: Screenshots larger than this are referenced by hash only, not embedded.
MAX_EMBED_BYTES = 5_000_000
CSV_FIELDS = [
    "queue_id", "platform", "post_id", "tier", "score", "criterion", "matched_terms", "url", "author_name",
    "account_id", "account_url", "published_at", "excerpt", "evidence_sha256",
]  # fmt: skip
#: Where each platform takes reports by default (its own in-app/web report form).
DEFAULT_CHANNELS = {
    "weibo": "weibo-report (kefu.weibo.com / in-app 举报)",
    "bilibili": "bilibili-report (in-app 举报)",
    "douyin": "douyin-report (in-app 举报)",
    "kuaishou": "kuaishou-report (in-app 举报)",
    "xhs": "xiaohongshu-report (in-app 举报)",
    "tieba": "tieba-report (in-app 举报)",
    "zhihu": "zhihu-report (in-app 举报)",
}
#: What a draft report covers: items not yet reviewed and those accepted (a draft submits nothing).
DRAFT_STATUSES = ("detected", "accepted")
_IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


def _version() -> str:
    try:
        return importlib.metadata.version("grayscan")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


_env = Environment(loader=PackageLoader("takedown", "templates"), autoescape=select_autoescape(["html"]))


class ReportError(ValueError):
    """A report that cannot be written as asked."""


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
    draft: bool = False
    channel: str | None = None
    pdf: Path | None = None


def default_channel(platform: str | None) -> str:
    return DEFAULT_CHANNELS.get(platform or "", f"{platform or 'platform'}-report")


def marked_parts(text: str, spans: Iterable[tuple[int, int, str]]) -> list[tuple[str, str | None]]:
    """``text`` split into (part, kind) pieces for highlighting: ``kind`` of the (start, end, kind)
    span a piece is, None between spans. Spans outside the text, and those overlapping an earlier
    one, are left unmarked."""
    parts: list[tuple[str, str | None]] = []
    cursor = 0
    for start, end, kind in sorted(s for s in spans if isinstance(s[0], int) and isinstance(s[1], int)):
        if start < cursor or end > len(text) or end <= start:
            continue
        parts += [(text[cursor:start], None), (text[start:end], kind)]
        cursor = end
    parts.append((text[cursor:], None))
    return [p for p in parts if p[0]]


def _marked_excerpt(text: str, matches: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    """``text`` cut to EXCERPT_CHARS, split into (part, is_match) pieces for highlighting."""
    spans = [(m["start"], m.get("end"), "term") for m in matches if "start" in m]
    return [(part, kind is not None) for part, kind in marked_parts(text[:EXCERPT_CHARS], spans)]


def _data_uri(path: Path) -> str | None:
    """The image at ``path`` as a data: URI, or None when missing, too big or not an image."""
    if not path.is_file() or path.stat().st_size > MAX_EMBED_BYTES:
        return None
    data = path.read_bytes()
    mime = image_type(data)
    return f"data:{mime};base64,{base64.b64encode(data).decode()}" if mime else None


def image_type(data: bytes) -> str | None:
    """The MIME type of PNG, JPEG or WebP ``data`` by its magic bytes; None for anything else."""
    if data.startswith(b"RIFF") and data[8:12] != b"WEBP":
        return None
    return next((m for magic, m in _IMAGE_TYPES.items() if data.startswith(magic)), None)


def _evidence(db: sqlite_utils.Database, platform: str, post_id: str, embed: bool) -> list[dict[str, Any]]:
    rows = [{k: row[k] for k in ("kind", "path", "sha256", "captured_at")} for row in evidence(db, platform, post_id)]
    for row in rows:
        if embed and row["kind"] == "screenshot" and row["path"]:
            row["data_uri"] = _data_uri(Path(row["path"]))
    return rows


def web_link(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL a report may link to; None for anything else (javascript:, data:, ...)."""
    if not url:
        return None
    scheme, sep, rest = url.strip().partition(":")
    return url.strip() if sep and scheme.lower() in ("http", "https") and rest.startswith("//") else None


def _report_item(db: sqlite_utils.Database, row: dict[str, Any], embed: bool) -> dict[str, Any]:
    matches = as_json_list(row["matches"])
    return {
        **row,
        "link": web_link(row["url"]),
        "homepage_link": web_link(row["homepage_url"]),
        "reasons": as_json_list(row["reasons"]),
        "matches": matches,
        "terms": list(dict.fromkeys(m["term"] for m in matches if m.get("term"))),
        "excerpt": _marked_excerpt(row["text"] or "", matches),
        "evidence": _evidence(db, row["platform"], row["post_id"], embed),
    }


def _csv_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "queue_id": item["id"],
        "platform": item["platform"],
        "post_id": item["post_id"],
        "tier": item["tier"],
        "score": item["score"],
        "criterion": "; ".join(item["reasons"]),
        "matched_terms": "; ".join(item["terms"]),
        "url": item["url"],
        "author_name": item["author_name"],
        "account_id": item["author_id"],
        "account_url": item["homepage_url"],
        "published_at": item["published_at"],
        "excerpt": (item["text"] or "")[:EXCERPT_CHARS],
        "evidence_sha256": " ".join(e["sha256"] for e in item["evidence"] if e["sha256"]),
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_pdf(html_path: Path, pdf_path: Path) -> Path:
    """Render the report HTML to PDF with WeasyPrint, fetching nothing but embedded data: URIs."""
    from weasyprint import HTML, URLFetcher

    HTML(filename=str(html_path), url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf(str(pdf_path))
    return pdf_path


def write_report(
    db: sqlite_utils.Database,
    out_dir: str | Path,
    *,
    platform: str | None = None,
    since: str | None = None,
    statuses: Iterable[str] = ("accepted",),
    embed_screenshots: bool = True,
    draft: bool = False,
    channel: str | None = None,
    actor: str = "grayscan",
    pdf: bool = False,
) -> ReportBatch:
    """Write one report batch of the queue items in ``statuses`` (optionally one platform, since a date).

    Unless ``draft``, the batch must be one platform's ``accepted`` items, which become
    ``submitted`` with the batch id and ``channel`` (the platform's report form by default).
    An empty non-draft batch writes no files and returns ``count == 0``.
    """
    statuses = tuple(statuses)
    if not draft:
        if set(statuses) != {"accepted"}:
            raise ReportError(f"only accepted items can be submitted (asked for {', '.join(statuses)}); "
                              "review them first, or write a draft")
        if not platform:
            raise ReportError("a submitted batch covers one platform: pass platform (see write_reports)")
    rows = select(db, Filters(status=statuses, platform=platform, since=since))
    rows.reverse()  # oldest first reads naturally in a report
    generated = datetime.now(UTC)
    prefix = "draft-" if draft else ""
    batch_id = f"{prefix}{platform or 'all'}-{generated:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"
    channel = None if draft else (channel or default_channel(platform))
    out = Path(out_dir)
    paths = {ext: out / f"report-{batch_id}.{ext}" for ext in ("html", "csv", "json")}
    if not rows and not draft:
        return ReportBatch(batch_id, platform, 0, paths["html"], paths["csv"], paths["json"], [], draft, channel)
    out.mkdir(parents=True, exist_ok=True)
    generated_at = now_iso()
    if not draft:  # the files describe the items as this batch leaves them: submitted with it
        rows = [{**row, "status": "submitted", "batch_id": batch_id, "channel": channel, "submitted_at": generated_at,
                 "updated_at": generated_at} for row in rows]
    report_items = [_report_item(db, row, embed_screenshots) for row in rows]

    paths["html"].write_text(
        _env.get_template("report.html").render(
            batch_id=batch_id,
            platform=platform,
            channel=channel,
            draft=draft,
            items=report_items,
            generated_at=generated_at,
            version=_version(),
        ),
        encoding="utf-8",
    )
    with open(paths["csv"], "w", encoding="utf-8-sig", newline="") as f:  # BOM: Excel opens Chinese correctly
        writer = csvsafe.DictWriter(f, CSV_FIELDS)
        writer.writeheader()
        writer.writerows(_csv_row(item) for item in report_items)
    json_items = []
    for item in report_items:
        plain = {k: v for k, v in item.items() if k not in ("excerpt", "link", "homepage_link")}
        plain["evidence"] = [{k: v for k, v in e.items() if k != "data_uri"} for e in item["evidence"]]
        json_items.append(plain)
    paths["json"].write_text(
        json.dumps(
            {"batch_id": batch_id, "platform": platform, "channel": channel, "draft": draft,
             "generated_at": generated_at, "items": json_items},
            ensure_ascii=False, indent=1,
        ),
        encoding="utf-8",
    )
    pdf_path = write_pdf(paths["html"], out / f"report-{batch_id}.pdf") if pdf else None

    item_ids = [row["id"] for row in rows]
    with db.atomic():
        if not draft:
            for item_id in item_ids:
                submit(db, item_id, channel=channel, actor=actor, batch_id=batch_id, note=f"report batch {batch_id}",
                       at=generated_at)
        db["report_batches"].insert(
            {
                "batch_id": batch_id,
                "platform": platform,
                "channel": channel,
                "draft": int(draft),
                "created_at": generated_at,
                "created_by": actor,
                "items": len(rows),
                "html_path": str(paths["html"]),
                "html_sha256": _sha256(paths["html"]),
                "csv_path": str(paths["csv"]),
                "json_path": str(paths["json"]),
                "pdf_path": str(pdf_path) if pdf_path else None,
            }
        )
    return ReportBatch(batch_id, platform, len(rows), paths["html"], paths["csv"], paths["json"], item_ids, draft,
                       channel, pdf_path)


def write_reports(
    db: sqlite_utils.Database,
    out_dir: str | Path,
    *,
    platform: str | None = None,
    since: str | None = None,
    channel: str | None = None,
    actor: str = "grayscan",
    pdf: bool = False,
) -> list[ReportBatch]:
    """Submit accepted items as one batch per platform (just ``platform`` when given)."""
    where = "status = 'accepted'" + (" AND created_at >= ?" if since else "")
    platforms = [platform] if platform else [
        r[0] for r in db.execute(f"SELECT DISTINCT platform FROM queue WHERE {where} ORDER BY 1",
                                 [since] if since else []).fetchall()
    ]
    return [
        write_report(db, out_dir, platform=p, since=since, channel=channel, actor=actor, pdf=pdf)
        for p in platforms
    ]
