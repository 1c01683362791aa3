"""``grayscan recheck``: Scrapy re-fetches submitted items from a local server and the queue follows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import run_cli

from crawler.recheck import recheck_outcome
from takedown import queue, store
from takedown.queue import items, transition

#: path -> (HTTP status, body) the way platforms answer for live and deleted content.
PAGES = {
    "/detail/1": (200, "<html><body>专业停息挂账，名额有限</body></html>"),
    "/detail/2": (404, "<html>404</html>"),
    "/detail/3": (200, "<html><body><p>抱歉，该微博已被删除</p></body></html>"),
    "/video/av4": (200, '<html><title>视频去哪了呢？_哔哩哔哩_bilibili</title></html>'),
    "/detail/5": (403, "<html>访问受限</html>"),
    "/detail/6": (200, "<html><body>代理退保</body></html>"),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        status, body = PAGES.get(self.path, (404, "missing"))
        payload = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def platform_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_recheck_outcome_reads_status_and_deleted_markers():
    assert recheck_outcome("weibo", 410, "") == ("removed", "HTTP 410")
    assert recheck_outcome("weibo", 200, "该微博已被删除") == ("removed", "该微博已被删除")
    assert recheck_outcome("weibo", 200, "视频去哪了呢") == ("up", "HTTP 200")  # another platform's marker
    assert recheck_outcome("bilibili", 429, "") == ("error", "HTTP 429")


def test_recheck_marks_removed_versus_still_up(platform_site, db_path):
    db = store.open_db(db_path)
    posts = [{"platform": "weibo", "post_id": str(i), "text": f"第{i}条 停息挂账", "author_id": "a",
              "url": f"https://m.weibo.cn/detail/{i}"} for i in (1, 2, 3, 5, 6)]
    posts.append({"platform": "bilibili", "post_id": "4", "text": "代理退保", "author_id": "b",
                  "url": "http://www.bilibili.com/video/av4"})
    store.upsert_posts(db, posts)
    queue.enqueue(db, [{"platform": p["platform"], "post_id": p["post_id"], "tier": "level1"} for p in posts])
    ids = {r["post_id"]: r["id"] for r in items(db)}
    for post_id, item_id in ids.items():
        transition(db, item_id, "accepted", actor="alice")
        queue.submit(db, item_id, channel="report-form", actor="alice")
    long_ago = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    db["queue"].update(ids["6"], {"submitted_at": long_ago})
    db.close()

    proc = run_cli("recheck", "--db", str(db_path), "--base-url", platform_site)
    assert proc.returncode == 0, proc.stderr
    assert "rechecked 6/6" in proc.stderr

    db = store.open_db(db_path)
    status = {r["post_id"]: r["status"] for r in items(db)}
    assert status == {"1": "submitted", "2": "removed", "3": "removed", "4": "removed", "5": "submitted",
                      "6": "no_response"}
    checks = {post_id: queue.rechecks(db, item_id) for post_id, item_id in ids.items()}
    assert all(len(c) == 1 for c in checks.values())
    assert [(c[0]["outcome"], c[0]["http_status"], c[0]["marker"]) for c in (checks["2"], checks["3"], checks["5"])] \
        == [("removed", 404, "HTTP 404"), ("removed", 200, "该微博已被删除"), ("error", 403, "HTTP 403")]
    assert all(len(c[0]["body_sha256"]) == 64 for c in checks.values())
    assert queue.history(db, ids["3"])[-1] | {"at": None, "id": None} == {
        "id": None, "queue_id": ids["3"], "from_status": "submitted", "to_status": "removed", "actor": "recheck",
        "at": None, "note": "该微博已被删除"}

    # Removed items are not fetched again; the rest are, and each recheck is kept.
    proc = run_cli("recheck", "--db", str(db_path), "--base-url", platform_site)
    assert "rechecked 3/3" in proc.stderr
    assert len(queue.rechecks(db, ids["1"])) == 2 and len(queue.rechecks(db, ids["2"])) == 1
    db.close()
