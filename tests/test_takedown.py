"""Takedown queue lifecycle, reports, account lists, clusters and the research store, on real SQLite files."""

from __future__ import annotations

import asyncio
import csv
import json
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser

import pytest
import stix2
from conftest import json_lines, run_cli

from takedown import accounts, queue, store
from takedown.queue import TransitionError, enqueue, items, transition
from takedown.report import DRAFT_STATUSES, ReportError, write_report, write_reports

TEMPLATE = "专业停息挂账，债务优化上岸，个性化分期，联系电话{phone}，名额有限先到先得"
HOSTILE = ('<script>document.title="PWNED"</script>'
           '<img src=x onerror="document.body.setAttribute(\'data-pwned\',\'1\')">征信修复找我 '
           '<a href="javascript:alert(1)" onclick="alert(2)">点这里</a>')


def add_hits(db, posts: list[dict]) -> None:
    """Store posts as the crawler pipeline does: upsert, detections with contacts, enqueue."""
    rows = [{"url": f"https://m.weibo.cn/detail/{p['post_id']}", "platform": "weibo", **p} for p in posts]
    store.upsert_posts(db, rows)
    store.upsert_accounts(db, [{"platform": r["platform"], "account_id": r.get("author_id"),
                                "nickname": r.get("author_name")} for r in rows])
    detections = [
        {"platform": r["platform"], "post_id": r["post_id"], "tier": r.get("tier", "level1"), "score": 0.9,
         "reasons": ["level1: 停息挂账 (一级异常维权: 代理维权)"],
         "matches": [{"term": "停息挂账", "category": "debt", "start": 2, "end": 6}],
         "contacts": r.get("contacts", [])}
        for r in rows
    ]
    store.save_detections(db, detections)
    enqueue(db, detections)


def phone(number: str) -> list[dict]:
    return [{"type": "phone", "value": "+86" + number}]


@pytest.fixture
def db(db_path):
    database = store.open_db(db_path)
    yield database
    database.close()


# ---- lifecycle ------------------------------------------------------------------------------------


def test_lifecycle_records_every_transition_and_refuses_invalid_ones(db):
    add_hits(db, [{"post_id": "1", "text": TEMPLATE.format(phone="13800138000"), "author_id": "a1"}])
    (item,) = items(db)
    item_id = item["id"]
    with pytest.raises(TransitionError, match="item .* is detected: it can move to accepted, rejected, not removed"):
        transition(db, item_id, "removed", actor="alice")
    with pytest.raises(TransitionError, match="unknown status 'deleted'"):
        transition(db, item_id, "deleted", actor="alice")
    with pytest.raises(TransitionError, match="no queue item 999"):
        transition(db, 999, "accepted", actor="alice")
    transition(db, item_id, "accepted", actor="alice", note="clear ad")
    queue.submit(db, item_id, channel="weibo-report", actor="bob", ticket_id="WB-1")
    queue.set_ticket(db, item_id, "WB-2", actor="bob")
    with pytest.raises(TransitionError, match="is submitted: it can move to removed, rejected_by_platform, "
                                              "no_response, not accepted"):
        transition(db, item_id, "accepted", actor="alice")
    transition(db, item_id, "no_response", actor="recheck")
    transition(db, item_id, "removed", actor="recheck")
    with pytest.raises(TransitionError, match="is removed: it can move to reappeared, not submitted"):
        queue.submit(db, item_id, channel="x", actor="bob")

    row = queue.item(db, item_id)
    assert (row["status"], row["channel"], row["ticket_id"]) == ("removed", "weibo-report", "WB-2")
    assert row["submitted_at"]
    steps = [(e["from_status"], e["to_status"], e["actor"]) for e in queue.history(db, item_id)]
    assert steps == [(None, "detected", "grayscan"), ("detected", "accepted", "alice"),
                     ("accepted", "submitted", "bob"), ("submitted", "submitted", "bob"),
                     ("submitted", "no_response", "recheck"), ("no_response", "removed", "recheck")]
    assert all(e["at"] for e in queue.history(db, item_id))


def test_near_duplicate_of_a_removed_item_is_flagged_reappeared(db):
    add_hits(db, [{"post_id": "1", "text": TEMPLATE.format(phone="13800138000"), "author_id": "a1"}])
    (old,) = items(db)
    for status in ("accepted", "submitted", "removed"):
        transition(db, old["id"], status, actor="t")
    # Reposted by another account with a new number and some noise: still the same ad.
    add_hits(db, [{"post_id": "2", "text": "专业 停息挂账！债务优化上岸，个性化分期，联系电话 139-1234-5678 ，名额有限先到先得",
                   "author_id": "a2"},
                  {"post_id": "3", "text": "今天带孩子去公园看银杏，金黄一片真好看", "author_id": "a3", "tier": "level2"}])
    by_post = {r["post_id"]: r for r in items(db)}
    assert by_post["2"]["reappeared_from"] == old["id"]
    assert by_post["3"]["reappeared_from"] is None
    assert by_post["1"]["status"] == "reappeared"
    note = queue.history(db, old["id"])[-1]["note"]
    assert f"#{by_post['2']['id']}" in note


def test_signatures_are_computed_only_once_a_removed_item_exists(db):
    add_hits(db, [{"post_id": "1", "text": TEMPLATE.format(phone="13800138000"), "author_id": "a1"}])
    assert db["signatures"].count == 0  # nothing removed yet: nothing to compare a new hit against
    (old,) = items(db)
    for status in ("accepted", "submitted", "removed"):
        transition(db, old["id"], status, actor="t")
    add_hits(db, [{"post_id": "2", "text": "今天带孩子去公园看银杏，金黄一片真好看", "author_id": "a2"}])
    assert {r["post_id"] for r in db["signatures"].rows} == {"1", "2"}
    assert queue.item(db, old["id"])["status"] == "removed"
    # The stored signature of the removed item is reused for the next batch's comparison.
    add_hits(db, [{"post_id": "3", "text": TEMPLATE.format(phone="13911112222"), "author_id": "a3"}])
    assert queue.item(db, old["id"])["status"] == "reappeared"
    assert {r["post_id"]: r["reappeared_from"] for r in items(db)} == {"1": None, "2": None, "3": old["id"]}


def test_requeued_hit_keeps_its_place_and_refreshes_tier_only_while_detected(db):
    add_hits(db, [{"post_id": "1", "text": "征信修复", "tier": "level2"}, {"post_id": "2", "text": "停息挂账"}])
    first = {r["post_id"]: r for r in items(db)}
    transition(db, first["2"]["id"], "accepted", actor="t")
    add_hits(db, [{"post_id": "1", "text": "征信修复", "tier": "level1"}, {"post_id": "2", "text": "停息挂账",
                                                                          "tier": "level2"}])
    again = {r["post_id"]: r for r in items(db)}
    assert {k: (r["id"], r["tier"]) for k, r in again.items()} == {"1": (first["1"]["id"], "level1"),
                                                                 "2": (first["2"]["id"], "level1")}
    assert [e["to_status"] for e in queue.history(db, first["1"]["id"])] == ["detected"]


def test_bulk_accept_by_filter_through_the_cli(db, db_path):
    add_hits(db, [{"post_id": str(i), "text": f"第{i}条 征信修复", "author_id": "a1" if i < 3 else "a2",
                   "author_name": "修复哥" if i < 3 else "上岸姐", "tier": "level1" if i % 2 else "level2"}
                  for i in range(1, 6)])
    proc = run_cli("queue", "accept", "--db", str(db_path), "--account", "修复哥", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "would accept 2 items" in proc.stderr
    assert {r["status"] for r in items(db)} == {"detected"}
    proc = run_cli("queue", "accept", "--db", str(db_path), "--account", "修复哥", "--actor", "alice")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("queue", "reject", "--db", str(db_path), "--tier", "level2", "--actor", "bob")
    assert proc.returncode == 0, proc.stderr
    states = {r["post_id"]: r["status"] for r in items(db)}
    assert states == {"1": "accepted", "2": "accepted", "3": "detected", "4": "rejected", "5": "detected"}
    # Without ids or a filter nothing happens, with a clear message.
    proc = run_cli("queue", "accept", "--db", str(db_path))
    assert proc.returncode == 2 and "give item ids, or filters" in proc.stderr
    # A refused transition is reported and makes the command fail.
    accepted_id = next(r["id"] for r in items(db) if r["post_id"] == "1")
    proc = run_cli("queue", "mark", str(accepted_id), "--status", "removed", "--db", str(db_path))
    assert proc.returncode == 1 and "is accepted: it can move to submitted, rejected, not removed" in proc.stderr

    listed = json_lines(run_cli("queue", "list", "--db", str(db_path), "--status", "accepted", "--json").stdout)
    assert {r["post_id"] for r in listed} == {"1", "2"}


def test_export_labels_writes_reviewer_decisions(db, db_path, tmp_path):
    add_hits(db, [{"post_id": "1", "text": "征信修复，包下款", "author_id": "a"},
                  {"post_id": "2", "text": "如何正确看待征信修复广告", "author_id": "b", "tier": "level2"},
                  {"post_id": "3", "text": "停息挂账找我", "author_id": "c"}])
    ids = {r["post_id"]: r["id"] for r in items(db)}
    transition(db, ids["1"], "accepted", actor="alice")
    transition(db, ids["2"], "accepted", actor="alice")
    transition(db, ids["2"], "rejected", actor="bob", note="a news discussion")
    out = tmp_path / "labels.jsonl"
    proc = run_cli("queue", "export-labels", "--db", str(db_path), "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    records = {r["post_id"]: r for r in json_lines(out.read_text(encoding="utf-8"))}
    assert set(records) == {"1", "2"}  # item 3 was never reviewed
    assert records["1"] == {"text": "征信修复，包下款", "label": "level1", "platform": "weibo", "post_id": "1",
                            "queue_id": ids["1"], "decided_by": "alice", "decided_at": records["1"]["decided_at"],
                            "source": "queue-review"}
    assert (records["2"]["label"], records["2"]["decided_by"]) == ("none", "bob")


# ---- reports ---------------------------------------------------------------------------------------


def _png(path) -> None:
    """A real 1×1 PNG, as a screenshot would be."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
                     + chunk(b"IEND", b""))


class _Structure(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, name, value) for name, value in attrs]

    def handle_data(self, data):
        self.text.append(data)


def test_report_batch_is_inert_self_contained_and_submits_its_items(db, tmp_path):
    add_hits(db, [{"post_id": "666", "text": HOSTILE, "author_id": "evil", "author_name": "<b onmouseover=x()>律师</b>",
                   "url": "javascript:alert(1)"},
                  {"post_id": "7", "text": "征信修复", "author_id": "b", "platform": "bilibili"}])
    shot = tmp_path / "shot.png"
    _png(shot)
    db["evidence"].insert({"platform": "weibo", "post_id": "666", "kind": "screenshot", "path": str(shot),
                           "sha256": "ab" * 32, "captured_at": "2026-11-20T10:00:00+00:00"})
    with pytest.raises(ReportError, match="only accepted items can be submitted"):
        write_report(db, tmp_path, platform="weibo", statuses=("detected",))
    draft = write_report(db, tmp_path / "draft", statuses=DRAFT_STATUSES, draft=True)
    assert draft.count == 2 and {r["status"] for r in items(db)} == {"detected"}

    for row in items(db):
        transition(db, row["id"], "accepted", actor="alice")
    batches = write_reports(db, tmp_path / "out", actor="alice", pdf=True)
    assert sorted((b.platform, b.count) for b in batches) == [("bilibili", 1), ("weibo", 1)]
    weibo = next(b for b in batches if b.platform == "weibo")
    assert weibo.pdf.read_bytes().startswith(b"%PDF")
    assert {(r["status"], r["batch_id"]) for r in items(db, platform="weibo")} == {("submitted", weibo.batch_id)}
    assert db["report_batches"].count == 3

    html = weibo.html.read_text(encoding="utf-8")
    doc = _Structure()
    doc.feed(html)
    assert "script" not in doc.tags
    assert not [a for a in doc.attrs if a[1].startswith("on")]
    assert not [a for a in doc.attrs if a[1] in ("href", "src") and not (a[2] or "").startswith("data:image/png;base64,")]
    assert doc.tags.count("img") == 1  # the embedded screenshot, not the post's <img>
    text = "".join(doc.text)
    assert '<script>document.title="PWNED"</script>' in text  # shown as text
    assert "onerror=" in text and "javascript:alert(1)" in text
    assert "ab" * 32 in html and "停息挂账" in html and "一级异常维权" in html
    with open(weibo.csv, encoding="utf-8-sig", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["excerpt"].startswith("<script>") and row["evidence_sha256"] == "ab" * 32
    report_json = json.loads(weibo.json.read_text(encoding="utf-8"))
    assert report_json["items"][0]["evidence"][0]["sha256"] == "ab" * 32

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not shutil.os.path.exists(chromium):
        pytest.skip("no Chromium to load the report in")
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                          weibo.html.as_uri()], capture_output=True, text=True, timeout=60).stdout
    assert "Takedown report" in dom
    assert not re.search(r"<body[^>]*data-pwned", dom)
    assert "<title>PWNED" not in dom


def test_report_command_with_nothing_accepted_says_so(db, db_path, tmp_path):
    add_hits(db, [{"post_id": "1", "text": "征信修复", "author_id": "a"}])
    proc = run_cli("report", "--db", str(db_path), "--out", str(tmp_path / "r"))
    assert proc.returncode == 0 and "no accepted items to report" in proc.stderr
    assert not (tmp_path / "r").exists()


# ---- account lists -----------------------------------------------------------------------------------


def _gang(db) -> None:
    add_hits(db, [
        {"post_id": "1", "text": TEMPLATE.format(phone="13800138000"), "author_id": "1001", "author_name": "上岸导师",
         "contacts": phone("13800138000")},
        {"post_id": "2", "text": TEMPLATE.format(phone="13912345678"), "author_id": "1002", "author_name": "债务规划",
         "contacts": phone("13912345678")},
        {"post_id": "3", "text": "征信修复，加微信 fixcredit88 详聊", "author_id": "1003", "author_name": "修复哥",
         "contacts": [{"type": "wechat", "value": "fixcredit88"}, *phone("13912345678")]},
        {"post_id": "4", "text": "代理退保，全额退款，保险公司内部渠道", "author_id": "1004", "author_name": "退保姐",
         "tier": "level2", "platform": "bilibili", "contacts": phone("13700001111")},
    ])


def test_clusters_link_shared_contacts_and_templates(db, db_path):
    _gang(db)
    proc = run_cli("accounts", "clusters", "--db", str(db_path), "--json")
    assert proc.returncode == 0, proc.stderr
    (cluster,) = json_lines(proc.stdout)
    # 1001 and 1002 post the same template; 1002 and 1003 share a phone; 1004 stands alone.
    assert [tuple(a) for a in cluster["accounts"]] == [("weibo", "1001"), ("weibo", "1002"), ("weibo", "1003")]
    assert [tuple(c) for c in cluster["shared_contacts"]] == [("phone", "+8613912345678")]
    assert cluster["template_links"] == 1


def test_stix_export_parses_back_with_deterministic_ids_tier_and_tlp(db, db_path, tmp_path):
    _gang(db)
    out = tmp_path / "list.stix.json"
    proc = run_cli("accounts", "export", "--db", str(db_path), "--format", "stix", "--producer", "Lender A",
                   "--tlp", "amber", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    bundle = stix2.parse(out.read_text(encoding="utf-8"), allow_custom=True)
    by_type: dict[str, list] = {}
    for obj in bundle.objects:
        by_type.setdefault(obj.type, []).append(obj)
    users = {(u.account_type, u.user_id): u for u in by_type["user-account"]}
    assert set(users) == {("weibo", "1001"), ("weibo", "1002"), ("weibo", "1003"), ("bilibili", "1004")}
    # Another member reporting the same account computes the same id.
    assert users[("weibo", "1001")].id == stix2.UserAccount(account_type="weibo", user_id="1001").id
    indicators = {i.pattern: i for i in by_type["indicator"]}
    ind = indicators["[user-account:account_type = 'bilibili' AND user-account:user_id = '1004']"]
    assert ind.labels == ["level2"] and ind.x_grayscan_tier == "level2"
    assert ind.object_marking_refs == [stix2.TLP_AMBER.id]
    clustered = indicators["[user-account:account_type = 'weibo' AND user-account:user_id = '1003']"]
    assert clustered.x_grayscan_cluster_id.startswith("G")
    assert {"type": "wechat", "value": "fixcredit88"} in clustered.x_grayscan_contacts
    assert all(o.object_marking_refs == [stix2.TLP_AMBER.id] for o in bundle.objects if o.type != "marking-definition")
    # Exporting again yields the same object ids (stable across list versions).
    again = tmp_path / "again.json"
    run_cli("accounts", "export", "--db", str(db_path), "--format", "stix", "--producer", "Lender A", "-o", str(again))
    ids = lambda path: {o["id"] for o in json.loads(path.read_text())["objects"]}  # noqa: E731
    assert ids(out) == ids(again)


def test_hashed_export_contains_no_plain_identifier(db, db_path, tmp_path):
    _gang(db)
    key = tmp_path / "alliance.key"
    assert run_cli("accounts", "keygen", "-o", str(key)).returncode == 0
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    proc = run_cli("accounts", "export", "--db", str(db_path), "--hashed")
    assert proc.returncode == 2 and "--hashed needs --key-file" in proc.stderr
    plain = ["1001", "1002", "1003", "1004", "上岸导师", "修复哥", "fixcredit88", "13800138000", "13912345678",
             "13700001111", "m.weibo.cn/u"]
    secret = key.read_text().strip()
    for fmt in ("csv", "json", "stix"):
        proc = run_cli("accounts", "export", "--db", str(db_path), "--format", fmt, "--hashed", "--key-file", str(key))
        assert proc.returncode == 0, proc.stderr
        leaked = [p for p in plain if p in proc.stdout]
        assert not leaked, (fmt, leaked)
        assert secret not in proc.stdout
    document = json.loads(run_cli("accounts", "export", "--db", str(db_path), "--format", "json", "--hashed",
                                  "--key-file", str(key)).stdout)
    expected = accounts.keyed_hash(bytes.fromhex(secret), "phone", "+8613800138000")
    assert document["hashed"] and any(c["value"] == expected for e in document["accounts"] for c in e["contacts"])


def _member_list(path, last_seen: str) -> None:
    path.write_text(json.dumps({
        "format": "grayscan-account-list", "version": 1, "producer": "Lender B", "hashed": False,
        "accounts": [
            {"platform": "douyin", "account_key": "dy_778899", "nickname": "退保专家", "tier": "level1", "hits": 4,
             "first_seen": "2026-10-01T00:00:00+00:00", "last_seen": last_seen,
             "contacts": [{"type": "phone", "value": "+8613800138000"}]},
            {"platform": "weibo", "account_key": "1001", "tier": "level1", "hits": 2,
             "first_seen": "2026-09-15T00:00:00+00:00", "last_seen": last_seen, "contacts": []},
        ],
    }, ensure_ascii=False), encoding="utf-8")


def test_importing_a_members_list_twice_adds_nothing(db, db_path, tmp_path):
    listing = tmp_path / "lender-b.json"
    _member_list(listing, "2026-11-01T00:00:00+00:00")
    first = run_cli("accounts", "import", str(listing), "--source", "lender-b", "--db", str(db_path))
    assert first.returncode == 0, first.stderr
    assert "2 added, 0 updated, 0 unchanged, 1 contacts added" in first.stderr
    snapshot = [list(db.query(f"SELECT * FROM {t} ORDER BY 1, 2, 3")) for t in ("shared_accounts", "shared_contacts")]
    second = run_cli("accounts", "import", str(listing), "--source", "lender-b", "--db", str(db_path))
    assert "0 added, 0 updated, 2 unchanged, 0 contacts added" in second.stderr
    assert [list(db.query(f"SELECT * FROM {t} ORDER BY 1, 2, 3"))
            for t in ("shared_accounts", "shared_contacts")] == snapshot
    # A newer version of the list widens last_seen and keeps first_seen.
    _member_list(listing, "2026-11-20T00:00:00+00:00")
    third = run_cli("accounts", "import", str(listing), "--source", "lender-b", "--db", str(db_path))
    assert "0 added, 2 updated" in third.stderr
    row = db["shared_accounts"].get(("lender-b", "douyin", "dy_778899"))
    assert (row["first_seen"], row["last_seen"]) == ("2026-10-01T00:00:00+00:00", "2026-11-20T00:00:00+00:00")
    # The same accounts from another member are kept with their own provenance.
    run_cli("accounts", "import", str(listing), "--source", "lender-c", "--db", str(db_path))
    assert db.execute("SELECT count(DISTINCT source) FROM shared_accounts WHERE account_key = '1001'").fetchone()[0] == 2

    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "grayscan-account-list", "accounts": [', encoding="utf-8")
    proc = run_cli("accounts", "import", str(broken), "--source", "x", "--db", str(db_path))
    assert proc.returncode == 2 and "is not valid JSON" in proc.stderr


def test_stix_list_round_trips_through_import(db, db_path, tmp_path):
    _gang(db)
    out = tmp_path / "a.json"
    run_cli("accounts", "export", "--db", str(db_path), "--format", "stix", "-o", str(out))
    summary = accounts.import_list(db, out, "lender-a")
    assert (summary.added, summary.skipped) == (4, [])
    row = db["shared_accounts"].get(("lender-a", "bilibili", "1004"))
    assert (row["tier"], row["key_kind"], row["hits"]) == ("level2", "plain", 1)


def test_match_phones_in_ads_and_on_plain_and_hashed_lists(db, db_path, tmp_path):
    _gang(db)
    key = tmp_path / "k"
    key.write_text("ab" * 32)
    hashed_list = tmp_path / "hashed.json"
    run_cli("accounts", "export", "--db", str(db_path), "--format", "json", "--hashed", "--key-file", str(key),
            "-o", str(hashed_list))
    other = store.open_db(tmp_path / "other.db")  # another member, who only has our hashed list
    accounts.import_list(other, hashed_list, "lender-a")
    other.close()
    phones = tmp_path / "callers.txt"
    phones.write_text("138 0013 8000\n+86-139-1234-5678\n008613700001111\n13600000000\nnot-a-number\n",
                      encoding="utf-8")
    proc = run_cli("accounts", "match", "--phones", str(phones), "--db", str(tmp_path / "other.db"),
                   "--key-file", str(key), "--json")
    assert proc.returncode == 0, proc.stderr
    found = {r["input"]: r for r in json_lines(proc.stdout)}
    assert [found[n]["found"] for n in ("138 0013 8000", "+86-139-1234-5678", "008613700001111", "13600000000")] \
        == [True, True, True, False]
    assert found["+86-139-1234-5678"]["e164"] == "+8613912345678"
    assert found["not-a-number"]["error"].startswith("not a phone number")
    # Our own store: numbers appear in ads; a hashed number is matched with the key.
    digest = accounts.keyed_hash(bytes.fromhex("ab" * 32), "phone", "+8613800138000")
    phones.write_text(f"13800138000\n{digest}\n", encoding="utf-8")
    rows = json_lines(run_cli("accounts", "match", "--phones", str(phones), "--db", str(db_path), "--key-file",
                              str(key), "--json").stdout)
    assert [[a["account_id"] for a in r["ads"]] for r in rows] == [["1001"], ["1001"]]


# ---- research store ---------------------------------------------------------------------------------


def test_two_character_chinese_query_hits(db, db_path):
    store.upsert_posts(db, [
        {"platform": "weibo", "post_id": "1", "text": "急用钱？无视征信贷款秒批，黑户可下"},
        {"platform": "weibo", "post_id": "2", "text": "信用卡逾期怎么办，專業貸款諮詢"},  # traditional
        {"platform": "weibo", "post_id": "3", "text": "征信修复找我"},
        {"platform": "bilibili", "post_id": "4", "title": "今天的vlog", "text": "去公园散步"},
    ])
    proc = run_cli("search", "贷款", "--db", str(db_path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert {r["post_id"] for r in json_lines(proc.stdout)} == {"1", "2"}
    hits = lambda q: {r["post_id"] for r in json_lines(run_cli("search", q, "--db", str(db_path), "--json").stdout)}  # noqa: E731
    assert hits("征信") == {"1", "3"}  # inside the lexicon words 无视征信 / 征信修复
    assert hits("征信修复") == {"3"}
    assert hits("vlog") == {"4"}
    # Every write path keeps the index current: an edit replaces the old words.
    store.upsert_posts(db, [{"platform": "weibo", "post_id": "3", "text": "已经上岸了"}])
    assert hits("征信") == {"1"}
    proc = run_cli("search", "，！", "--db", str(db_path))
    assert proc.returncode == 2 and "nothing to search for" in proc.stderr


def test_sql_is_read_only(db, db_path):
    store.upsert_posts(db, [{"platform": "weibo", "post_id": "1", "text": "x"}])
    proc = run_cli("sql", "SELECT platform, count(*) AS n FROM posts GROUP BY 1", "--format", "jsonl",
                   "--db", str(db_path))
    assert json_lines(proc.stdout) == [{"platform": "weibo", "n": 1}]
    proc = run_cli("sql", "DELETE FROM posts", "--db", str(db_path))
    assert proc.returncode == 2 and "readonly" in proc.stderr
    assert db["posts"].count == 1


def test_datasette_serves_the_canned_queries(db, db_path):
    from datasette.app import Datasette

    from takedown.datasette import metadata

    _gang(db)
    ds = Datasette([str(db_path)], metadata=metadata(db_path.stem))

    async def get(path):
        response = await ds.client.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    async def run():
        contacts = await get(f"/{db_path.stem}/top_contacts.json?_shape=array")
        days = await get(f"/{db_path.stem}/hits_per_platform_per_day.json?_shape=array")
        top = await get(f"/{db_path.stem}/top_accounts.json?_shape=array")
        found = await get(f"/{db_path.stem}/search_posts.json?_shape=array&q=退保")
        return contacts, days, top, found

    contacts, days, top, found = asyncio.run(run())
    assert contacts[0]["value"] == "+8613912345678" and contacts[0]["accounts"] == 2
    assert sum(d["hits"] for d in days) == 4
    assert {a["author_id"] for a in top} == {"1001", "1002", "1003", "1004"}
    assert [r["post_id"] for r in found] == ["4"]


def test_report_draft_covers_unreviewed_and_accepted_items_only(db, db_path, tmp_path):
    """`grayscan report --draft` (like the web app's and the demo's drafts: one DRAFT_STATUSES) lists the
    detected and accepted items, never rejected or submitted ones, and changes no status."""
    add_hits(db, [{"post_id": str(i), "text": f"停息挂账 {i}"} for i in range(1, 5)])
    transition(db, 2, "accepted", actor="alice")
    transition(db, 3, "rejected", actor="alice")
    transition(db, 4, "accepted", actor="alice")
    transition(db, 4, "submitted", actor="alice")
    proc = run_cli("report", "--draft", "--db", str(db_path), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    (draft,) = (tmp_path / "out").glob("report-draft-*.json")
    assert sorted(item["post_id"] for item in json.loads(draft.read_text())["items"]) == ["1", "2"]
    statuses = [r["status"] for r in sorted(items(db), key=lambda r: r["id"])]
    assert statuses == ["detected", "accepted", "rejected", "submitted"]
