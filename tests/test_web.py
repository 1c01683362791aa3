"""``grayscan serve`` driven as a real subprocess, through Debian Chromium (Playwright), on real SQLite files."""

from __future__ import annotations

import http.client
import os
import re
import sqlite3
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from test_takedown import HOSTILE, TEMPLATE, add_hits

from crawler.browser import launch_options
from crawler.evidence import sha256_file
from takedown import store
from takedown.queue import transition



def _png(path: Path, width: int = 4, height: int = 3) -> None:
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Server:
    """``grayscan serve`` on a free loopback port, until stopped."""

    def __init__(self, db_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "grayscan", "serve", "--db", str(db_path), "--port", "0",
                                      *args], stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
        said = []
        for line in self.proc.stderr:  # warnings may come first; the address line says it listens
            said.append(line)
            found = re.search(r"http://127\.0\.0\.1:\d+", line)
            if found:
                self.url = found.group(0)
                return
        self.stop()
        raise AssertionError(f"server did not start: {''.join(said)}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.proc.stderr.close()


HOSTILE_TITLE = "<img src=/x onerror=\"document.title='PWNED'\">退保<svg onload=alert(4)>"


@pytest.fixture
def seeded(db_path: Path) -> Path:
    """25 hits by three accounts (with phone contacts at their offsets) and one hostile post."""
    db = store.open_db(db_path)
    posts = []
    for i in range(1, 26):
        text = TEMPLATE.format(phone=f"1380013{i:04d}")
        start = text.index("1380013")
        posts.append({"post_id": str(i), "text": text, "author_id": f"a{i % 3}", "author_name": f"修复{i % 3}",
                      "tier": "level1" if i % 2 else "level2",
                      "contacts": [{"type": "phone", "value": f"+861380013{i:04d}", "start": start, "end": start + 11}]})
    add_hits(db, posts)
    add_hits(db, [{"post_id": "666", "text": HOSTILE, "author_id": "evil", "title": HOSTILE_TITLE,
                   "author_name": "<b onmouseover=alert(3)>律师</b>", "url": "javascript:alert(1)"}])
    db.close()
    return db_path


@pytest.fixture
def server(seeded: Path) -> Iterator[Server]:
    running = Server(seeded, "--user", "alice")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def chromium():
    options = launch_options()  # Debian's Chromium, --no-sandbox --disable-gpu --disable-background-networking ...
    if not os.path.exists(options["executable_path"]):
        pytest.skip(f"no Chromium at {options['executable_path']}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**options)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def events(db_path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.mark.browser
def test_keyboard_review_of_20_items_lands_in_queue_events_with_the_reviewer(server, page, seeded):
    page.goto(server.url + "/queue?status=detected&platform=weibo")
    rows = page.locator("#queue tbody tr")
    ids = [int(i) for i in rows.evaluate_all("rows => rows.map(r => r.dataset.item)")][:20]
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert rows.nth(2).get_attribute("class") == "current"
    page.keyboard.press("k")
    page.keyboard.press("k")
    assert rows.nth(0).get_attribute("class") == "current"
    expected = {}
    for n, item_id in enumerate(ids):
        if n % 5 == 4:
            page.keyboard.press("r")
            page.locator("#reason-note").fill(f"news, not an ad {n}")
            page.keyboard.press("Enter")
            expected[item_id] = "rejected"
        else:
            page.keyboard.press("a")
            expected[item_id] = "accepted"
    for item_id, status in expected.items():
        page.locator(f"#item-{item_id} td.status").filter(has_text=status).wait_for(timeout=10_000)
    page.keyboard.press("u")  # takes back the last decision (a reject)
    page.locator(f"#item-{ids[-1]} td.status").filter(has_text="detected").wait_for(timeout=10_000)
    assert page.dialogs == []

    decided = events(seeded, "SELECT queue_id, from_status, to_status, actor, note FROM queue_events "
                             "WHERE actor = 'alice' ORDER BY id")
    assert [(e[0], e[2]) for e in decided[:20]] == list(expected.items())
    assert all(e[1] == "detected" for e in decided[:20])
    assert decided[4][4] == "news, not an ad 4"
    undo_event = decided[20]
    assert undo_event[:4] == (ids[-1], "rejected", "detected", "alice") and undo_event[4].startswith("undo of event")
    states = dict(events(seeded, "SELECT id, status FROM queue"))
    assert {i: states[i] for i in ids[:-1]} == {i: expected[i] for i in ids[:-1]}
    assert states[ids[-1]] == "detected"


@pytest.mark.browser
def test_hostile_post_renders_inert_on_the_queue_and_item_pages(server, page, seeded):
    hostile_id = events(seeded, "SELECT id FROM queue WHERE post_id = '666'")[0][0]
    for url in (f"/queue?account=evil", f"/items/{hostile_id}"):
        page.goto(server.url + url)
        page.wait_for_load_state("load")
        page.hover("text=律师")  # the author's onmouseover must stay text
        assert page.title() != "PWNED" and "grayscan" in page.title()
        assert page.evaluate("document.body.getAttribute('data-pwned')") is None
        assert page.locator("a[href^='javascript:']").count() == 0
        assert page.locator("[onerror], [onclick], [onmouseover], [onload]").count() == 0
        scripts = page.locator("script").evaluate_all("s => s.map(e => e.getAttribute('src'))")
        assert scripts in ([], ["/static/keys.js"])
    assert page.dialogs == []
    post = page.locator("#post-text").inner_text()
    assert '<script>document.title="PWNED"</script>' in post and 'href="javascript:alert(1)"' in post
    assert page.get_by_text("<b onmouseover=alert(3)>律师</b>", exact=True).count() == 1
    assert page.locator(".post-title").inner_text() == HOSTILE_TITLE
    assert page.locator("main img, main svg").count() == 0  # the post brought no element of its own


@pytest.mark.browser
def test_a_post_without_the_csrf_token_is_refused(server, page, seeded):
    page.goto(server.url + "/queue?status=detected")
    token = page.locator("meta[name=csrf-token]").get_attribute("content")
    item_id = int(page.locator("#queue tbody tr").first.get_attribute("data-item"))
    review = f"{server.url}/items/{item_id}/review"
    for form in ({"decision": "accepted"}, {"decision": "accepted", "csrf": "forged"}):
        response = page.request.post(review, form=form, max_redirects=0)  # same cookies as the page
        assert response.status == 403 and "CSRF" in response.text()
    assert page.request.post(f"{server.url}/bulk", form={"decision": "accepted", "tier": "level1"}).status == 403
    assert events(seeded, "SELECT status FROM queue WHERE id = ?", (item_id,)) == [("detected",)]
    response = page.request.post(review, form={"decision": "accepted", "csrf": token},
                                 headers={"Accept": "application/json"})
    assert response.status == 200 and response.json() == {"id": item_id, "status": "accepted"}
    # A plain form goes back where it came from, but never off the site.
    undo = f"{server.url}/items/{item_id}/undo"
    for url, target, landing in ((undo, "/\t/evil.example", f"/items/{item_id}"),
                                 (review, "//evil.example", f"/items/{item_id}"),
                                 (undo, "/queue?status=accepted", "/queue?status=accepted")):
        response = page.request.post(url, form={"decision": "accepted", "csrf": token, "next": target},
                                     max_redirects=0)
        assert (response.status, response.headers["location"]) == (303, landing)
    assert events(seeded, "SELECT status FROM queue WHERE id = ?", (item_id,)) == [("detected",)]
    # Another site's page (a DNS-rebinding name for 127.0.0.1) gets nothing.
    conn = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=10)
    conn.request("GET", "/queue", headers={"Host": "evil.example"})
    assert conn.getresponse().status == 403
    conn.close()
    headers = page.request.get(server.url + "/queue").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_serve_on_a_public_address_without_a_password_exits_2(seeded):
    env_without_password = {k: v for k, v in os.environ.items() if k != "GRAYSCAN_PASSWORD"}
    proc = subprocess.run([sys.executable, "-m", "grayscan", "serve", "--db", str(seeded), "--host", "0.0.0.0"],
                          capture_output=True, text=True, timeout=60, env=env_without_password)
    assert proc.returncode == 2
    assert "refusing to serve on 0.0.0.0 without a password" in proc.stderr and "GRAYSCAN_PASSWORD" in proc.stderr
    proc = run_cli("serve", "--db", str(seeded.parent / "missing.db"))
    assert proc.returncode == 2 and "no database at" in proc.stderr


@pytest.mark.browser
def test_with_a_password_the_login_names_the_reviewer(seeded, page):
    running = Server(seeded, env={"GRAYSCAN_PASSWORD": "s3cret-review"})
    try:
        assert page.request.post(running.url + "/items/1/review", form={"decision": "accepted"}).status == 403
        page.goto(running.url + "/queue")
        assert page.url.endswith("/login")
        page.fill("input[name=name]", "bob")
        page.fill("input[name=password]", "wrong")
        page.click("button:has-text('log in')")
        assert page.locator(".error").inner_text() == "wrong password"
        page.fill("input[name=password]", "s3cret-review")
        page.click("button:has-text('log in')")
        assert page.locator("nav .who").inner_text() == "reviewer: bob"
        item_id = page.locator("#queue tbody tr").first.get_attribute("data-item")
        with page.expect_navigation():  # the plain form: back to the unreviewed items, this one gone
            page.locator(f"#item-{item_id} button[value=accepted]").click()
        assert page.locator(f"#item-{item_id}").count() == 0
        assert events(seeded, "SELECT actor, to_status FROM queue_events WHERE queue_id = ? ORDER BY id DESC LIMIT 1",
                      (int(item_id),)) == [("bob", "accepted")]
    finally:
        running.stop()


@pytest.mark.browser
def test_bulk_accept_by_filter_with_count_and_confirmation_then_undo(server, page, seeded):
    page.goto(server.url + "/queue?status=detected")
    page.fill("input[name=account]", "修复1")
    page.fill("input[name=term]", "停息挂账")
    page.click("text=accept all matching…")
    expected = [r[0] for r in events(seeded, "SELECT q.id FROM queue q JOIN posts p USING (platform, post_id) "
                                             "WHERE p.author_name = '修复1' ORDER BY q.id")]
    assert len(expected) == 9
    assert page.locator("#bulk-count").inner_text() == "9"
    assert events(seeded, "SELECT count(*) FROM queue WHERE status != 'detected'") == [(0,)]  # nothing yet
    page.fill("input[name=note]", "same gang template")
    page.click("#confirm")
    assert page.locator("#bulk-result").inner_text() == "accepted 9 items"
    rows = events(seeded, "SELECT q.id, q.status, e.actor, e.note FROM queue q JOIN queue_events e ON e.queue_id = q.id "
                          "AND e.to_status = 'accepted' ORDER BY q.id")
    assert rows == [(i, "accepted", "alice", "same gang template") for i in expected]
    # A filter of nothing but a status is refused: a bulk change must be narrowed.
    page.goto(server.url + "/bulk?decision=rejected&status=detected")
    assert "give filters" in page.locator(".error").inner_text()

    page.goto(f"{server.url}/items/{expected[0]}")
    page.click("text=undo last decision")
    assert page.locator("#item-status").inner_text() == "detected"
    page.click("text=undo last decision")  # nothing left to undo: refused, says why
    assert "not a review decision to undo" in page.locator(".error").inner_text()
    assert events(seeded, "SELECT status FROM queue WHERE id = ?", (expected[0],)) == [("detected",)]


@pytest.mark.browser
def test_item_page_marks_offsets_and_serves_evidence_reports_lists_and_dashboard(seeded, page, tmp_path):
    db = store.open_db(seeded)
    shot, html = tmp_path / "shot.png", tmp_path / "page.html"
    _png(shot)
    html.write_text("<script>alert(1)</script>", encoding="utf-8")
    for kind, path in (("screenshot", shot), ("html", html)):
        db["evidence"].insert({"platform": "weibo", "post_id": "3", "kind": kind, "path": str(path),
                               "sha256": sha256_file(path), "captured_at": "2026-11-20T10:00:00+00:00"})
    item_id = db.execute("SELECT id FROM queue WHERE post_id = '3'").fetchone()[0]
    for row in db.query("SELECT id FROM queue WHERE post_id IN ('1', '3', '5')"):
        transition(db, row["id"], "accepted", actor="carol")
    db.close()
    running = Server(seeded, "--user", "alice", "--reports-dir", str(tmp_path / "reports"))
    try:
        page.goto(f"{running.url}/items/{item_id}")
        text = TEMPLATE.format(phone="13800130003")
        assert page.locator("#post-text mark.term").all_inner_texts() == [text[2:6]]
        assert page.locator("#post-text mark.contact").all_inner_texts() == ["13800130003"]
        assert page.locator("#post-text").inner_text() == text
        assert page.locator("img.shot").evaluate("img => img.complete && img.naturalWidth") == 4
        assert sha256_file(shot) in page.content()
        assert [link.inner_text() for link in page.locator("h2:text('Account') + ul a").all()]  # the account's others
        evidence_ids = [r[0] for r in events(seeded, "SELECT id FROM evidence ORDER BY id")]
        response = page.request.get(f"{running.url}/evidence/{evidence_ids[0]}")
        assert response.headers["content-type"] == "image/png" and response.body().startswith(b"\x89PNG")
        response = page.request.get(f"{running.url}/evidence/{evidence_ids[1]}")
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"].startswith("attachment")
        html.write_text("<p>edited after capture</p>", encoding="utf-8")
        response = page.request.get(f"{running.url}/evidence/{evidence_ids[1]}")
        assert response.status == 409 and "changed since it was captured" in response.text()

        page.goto(running.url + "/reports")
        page.select_option("#report-platform", "weibo")
        page.click("#make-report")
        batch_id = page.locator("#made b").inner_text()
        assert events(seeded, "SELECT count(*), min(actor) FROM queue_events WHERE to_status = 'submitted'") == [(3, "alice")]
        with page.expect_download() as download:
            page.click(f"a[href='/reports/{batch_id}/csv']")
        csv_text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert csv_text.startswith("queue_id,platform") and csv_text.count("\n") == 4
        page.select_option("#list-format", "json")
        with page.expect_download() as download:
            page.click("#export-list")
        assert '"format": "grayscan-account-list"' in Path(download.value.path()).read_text(encoding="utf-8")

        page.goto(running.url + "/dashboard")
        assert page.locator("figure.chart svg").count() == 3
        assert page.locator("figure.chart svg rect").count() >= 3
        assert "level1 14" in page.locator("figure.chart .legend").first.inner_text()
    finally:
        running.stop()


@pytest.mark.browser
def test_queue_pages_by_id_in_both_directions(db_path, page):
    db = store.open_db(db_path)
    add_hits(db, [{"post_id": str(i), "text": f"第{i}条 停息挂账", "author_id": "a"} for i in range(120)])
    db.close()
    running = Server(db_path)
    try:
        def shown() -> list[int]:
            return [int(i) for i in page.locator("#queue tbody tr").evaluate_all("rows => rows.map(r => r.dataset.item)")]

        page.goto(running.url + "/queue?status=detected")
        pages = [shown()]
        assert page.locator("a[rel=prev]").count() == 0
        while page.locator("a[rel=next]").count():
            page.click("a[rel=next]")
            pages.append(shown())
        assert [len(p) for p in pages] == [50, 50, 20]
        assert [i for p in pages for i in p] == list(range(120, 0, -1))
        assert "status=detected" in page.url  # the filter is kept
        page.click("a[rel=prev]")
        assert shown() == pages[1]
        page.click("a[rel=prev]")
        assert shown() == pages[0] and page.locator("a[rel=prev]").count() == 0
    finally:
        running.stop()


def _get(server: Server, path: str, host: str | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=10)
    conn.request("GET", path, headers={"Host": host} if host else {})
    response = conn.getresponse()
    result = response.status, response.read().decode()
    conn.close()
    return result


def test_queue_date_filter_reads_the_cli_forms_and_refuses_bad_ones(server):
    """since/until take what the CLI's --since takes (ISO dates and times, today, yesterday, ages); a value
    it cannot read is refused with the forms, never cut to its first 10 characters or ignored."""
    listed = lambda path: len(re.findall(r'<td><a href="/items/\d+">', _get(server, path)[1]))  # noqa: E731
    assert listed("/queue") == 26
    for recent in ("30m", "12h", "7d", "2w", "today", "yesterday", "2020-01-01", "2020-01-01T08:00"):
        assert listed(f"/queue?since={recent}") == 26, recent
    for past in ("yesterday", "2020-01-01", "2020-01-01T08:00:00+08:00"):
        assert listed(f"/queue?until={past}") == 0, past
    status, body = _get(server, "/queue?since=7d")
    assert status == 200 and re.search(r'name="since" value="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"', body)
    for bad in ("2026-11-21garbage", "7x", "last week", "2026-13-01"):
        status, body = _get(server, f"/queue?since={bad.replace(' ', '+')}")
        assert status == 400, bad
        assert f"since: &#39;{bad}&#39; is not a date or time; use an ISO date (2026-11-20)" in body, body
    status, body = _get(server, "/queue?until=soon")
    assert status == 400 and "until: &#39;soon&#39; is not a date or time" in body and "7d, 12h, 2w, 30m" in body


def test_host_check_compares_whole_loopback_names(server):
    """A loopback server answers to any loopback Host (127.8.9.1, [::1]), never to a name that only begins
    like one (a DNS-rebinding page on 127.0.0.1.evil.com or localhost.example)."""
    port = server.url.rsplit(":", 1)[1]
    for host in ("127.0.0.1", "127.8.9.1", "localhost", "[::1]"):
        assert _get(server, "/queue", f"{host}:{port}")[0] == 200, host
    for host in ("127.0.0.1.evil.com", "localhost.example", "evil.example"):
        assert _get(server, "/queue", f"{host}:{port}")[0] == 403, host
