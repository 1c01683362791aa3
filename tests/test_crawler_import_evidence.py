"""``grayscan import`` of MediaCrawler exports and generic JSON Lines; evidence capture with real Chromium."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from conftest import run_cli

from crawler.evidence import capture
from crawler.importer import import_posts
from crawler.ingest import Ingestor, make_classifier
from crawler.replica.server import Post, ReplicaServer
from takedown import store

DATA = Path(__file__).parent / "data" / "crawler"
MEDIACRAWLER = DATA / "mediacrawler"


def ingest(db_path, path, platform=None):
    db = store.open_db(db_path)
    ingestor = Ingestor(db, make_classifier(model="none"))
    report = import_posts(path, platform, ingestor.add)
    ingestor.flush()
    rows = {r[0]: r for r in db.execute("SELECT post_id, platform, kind, parent_id, text, url, author_name, "
                                        "published_at, keyword FROM posts")}
    db.close()
    return report, ingestor.counts, rows


def test_mediacrawler_json_array_of_xhs_notes(db_path):
    report, counts, rows = ingest(db_path, MEDIACRAWLER / "xhs/json/search_contents_2025-01-01.json")
    assert report.read == 2 and [(p.line, "note_id" in p.message) for p in report.problems] == [(3, True)]
    note = rows["6512a0b1000000001e03c4d5"]
    assert note[1:4] == ("xhs", "post", None)  # platform from the export's path
    assert note[4] == "征信修复亲测\n找的团队三天修复，加V: zx_fix2024"
    assert note[7] == "2023-11-15T06:13:20+08:00" and note[8] == "征信修复"
    assert counts["enqueued"] == 1 and counts["new"] == 2


def test_mediacrawler_jsonl_comments_with_a_truncated_line(db_path):
    report, counts, rows = ingest(db_path, MEDIACRAWLER / "douyin/jsonl/search_comments_2025-01-01.jsonl")
    assert report.read == 2 and report.problems[0].line == 3 and "malformed JSON" in report.problems[0].message
    comment = rows["comment-7400000000000000001"]
    assert comment[1:4] == ("douyin", "comment", "7311111111111111111")
    assert counts["enqueued"] == 1


def test_mediacrawler_csv_with_bom_and_generic_jsonl(db_path):
    report, _, rows = ingest(db_path, MEDIACRAWLER / "weibo/csv/search_contents_2025-01-01.csv")
    assert report.read == 2 and not report.problems
    assert rows["4987654321000001"][6] == "退保顾问"
    report, _, rows = ingest(db_path, DATA / "generic_posts.jsonl")
    assert report.read == 2
    assert [p.line for p in report.problems] == [3, 4]  # not JSON; no platform
    assert rows["f-1"][1] == "forum" and rows["f-2"][4] == "普通帖子"


def test_import_command_is_idempotent(db_path):
    path = str(MEDIACRAWLER / "xhs/json/search_contents_2025-01-01.json")
    first = run_cli("import", path, "--lexicon-only", "--db", str(db_path))
    assert first.returncode == 1, first.stderr  # one record skipped: exit 1 (some records failed), the rest stored
    assert "imported 2 posts (2 new" in first.stderr and "1 newly queued" in first.stderr
    assert ":3: skipped: no note_id" in first.stderr
    second = run_cli("import", path, "--lexicon-only", "--db", str(db_path))
    assert "imported 2 posts (0 new" in second.stderr and "0 newly queued" in second.stderr
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM posts").fetchone()[0] == 2
    conn.close()
    empty = db_path.parent / "empty.jsonl"
    empty.write_text("{}\n", encoding="utf-8")
    assert run_cli("import", str(empty), "--platform", "xhs", "--db", str(db_path)).returncode == 1


def test_evidence_capture_of_a_js_rendered_page(db_path, tmp_path):
    post = Post("weibo", "5001", "7", "某人", "征信修复加V <script>alert(1)</script>", 1700000000)
    db = store.open_db(db_path)
    with ReplicaServer([post]) as server:
        results = capture(
            db, [("weibo", "5001", "https://m.weibo.cn/detail/5001"), ("weibo", "404", "https://m.weibo.cn/detail/404")],
            tmp_path / "evidence",
            map_url=lambda platform, url: f"{server.base_url}/evidence/{platform}/{url.rsplit('/', 1)[-1]}",
        )
        unreachable = capture(db, [("weibo", "x", "http://127.0.0.1:9/gone")], tmp_path / "evidence", timeout_ms=5000)
    rows = db.execute("SELECT platform, post_id, kind, path, sha256, captured_at, url FROM evidence ORDER BY id").fetchall()
    db.close()
    assert [r.error for r in results] == [None, None] and unreachable[0].error
    assert [(r[1], r[2]) for r in rows] == [("5001", "screenshot"), ("5001", "html"), ("404", "screenshot"), ("404", "html")]
    for _, _, kind, path, digest, captured_at, url in rows:
        data = Path(path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest and captured_at and url.startswith("https://m.weibo.cn/")
        if kind == "screenshot":
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
    snapshot = Path(rows[1][3]).read_text(encoding="utf-8")
    # The text was inserted by the page's JavaScript (as text, never as markup) before the snapshot.
    assert 'data-rendered="yes"' in snapshot and "征信修复加V &lt;script&gt;alert(1)&lt;/script&gt;" in snapshot
    assert json.dumps("loading") not in snapshot
