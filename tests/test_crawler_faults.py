"""Real Scrapy crawls of a replica that answers badly: truncated bodies, rate limits, a page that fails until
healed, no route. Every page is retried, accounted for, and the exit status says what happened."""

from __future__ import annotations

import functools
import json
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import ROOT, run_cli
from test_crawler_crawl import rows

from crawler.replica.server import Post, ReplicaServer, sample_posts
from crawler.spiders import PLATFORMS

KEYWORD = "停息挂账样本"
POSTS_PER_PLATFORM = 43


def many_posts() -> list[Post]:
    return sample_posts(POSTS_PER_PLATFORM, KEYWORD)


def crawl_outcomes(db_path, jobs: list[dict]) -> dict[str, dict]:
    """Crawl ``jobs`` (CrawlJob kwargs) in one fresh process; per platform: outcome, note and counts."""
    code = textwrap.dedent("""
        import json, sys
        from crawler.run import CrawlJob, crawl
        results = crawl([CrawlJob(**j) for j in json.loads(sys.argv[1])], sys.argv[2],
                        overrides={"LOG_LEVEL": "ERROR", "GRAYSCAN_MODEL": "none"})
        print(json.dumps({r.platform: {"outcome": r.outcome, "note": r.note, "pages": r.pages, "retried": r.retried,
                                       "lost": r.lost, "finish_reason": r.stats.get("finish_reason")} for r in results}))
    """)
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(jobs), str(db_path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def stored_share(db_path, platform: str) -> float:
    count = rows(db_path, "SELECT count(*) FROM posts WHERE platform = ? AND kind = 'post'", platform)[0][0]
    return count / POSTS_PER_PLATFORM


def all_platform_jobs(server: ReplicaServer, tmp_path) -> list[dict]:
    return [{"platform": p, "keywords": [KEYWORD], "max_pages": 20, "base_url": server.base_url,
             "jobdir": str(tmp_path / "jobs" / p)} for p in PLATFORMS]


def test_every_third_answer_truncated_loses_nothing(db_path, tmp_path):
    with ReplicaServer(many_posts(), truncate_every=3) as server:
        results = crawl_outcomes(db_path, all_platform_jobs(server, tmp_path))
        assert server.replica.answered >= 150
    for platform in PLATFORMS:
        result = results[platform]
        assert result["outcome"] == "complete" and result["lost"] == 0, (platform, result)
        assert result["retried"] >= 1, (platform, result)
        assert stored_share(db_path, platform) >= 0.95, platform


def test_rate_limits_and_truncation_together(db_path, tmp_path):
    with ReplicaServer(many_posts(), throttle_every=7, truncate_every=11) as server:
        results = crawl_outcomes(db_path, all_platform_jobs(server, tmp_path))
    for platform in PLATFORMS:
        result = results[platform]
        if platform == "xhs" and result["finish_reason"] == "captcha":  # XHS may escalate to its captcha
            assert "captcha" in result["note"] and "--resume" in result["note"]
            continue
        assert result["outcome"] == "complete", (platform, result)
        assert stored_share(db_path, platform) >= 0.95, platform


def test_connections_dropped_mid_body_are_retried(db_path, tmp_path):
    with ReplicaServer(many_posts(), drop_every=3) as server:
        jobs = [job for job in all_platform_jobs(server, tmp_path) if job["platform"] in ("weibo", "douyin")]
        results = crawl_outcomes(db_path, jobs)
    for platform, result in results.items():
        assert result["outcome"] == "complete" and result["retried"] >= 1, (platform, result)
        assert stored_share(db_path, platform) == 1.0, platform


def test_crawl_command_summary_counts_retries(db_path):
    with ReplicaServer(many_posts(), truncate_every=3) as server:
        proc = run_cli("crawl", "weibo", "-k", KEYWORD, "--max-pages", "20", "--lexicon-only",
                       "--base-url", server.base_url, "--db", str(db_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = next(line for line in proc.stderr.splitlines() if line.startswith("run 1:"))
    assert " pages fetched, " in summary and " 0 lost; 43 items stored (43 new)" in summary, summary
    assert int(summary.split(" retried")[0].rsplit(" ", 1)[-1]) >= 1, summary


def test_page_failing_until_healed_exit_4_then_resume_completes(db_path):
    with ReplicaServer(many_posts(), faults={KEYWORD: "broken:2"}) as server:
        args = ("crawl", "weibo", "-k", KEYWORD, "--max-pages", "20", "--lexicon-only",
                "--base-url", server.base_url, "--db", str(db_path))
        first = run_cli(*args)
        assert first.returncode == 4, first.stderr[-3000:]
        assert "weibo: gave up http://127.0.0.1" in first.stderr and "HTTP 503" in first.stderr
        assert "1 page given up after every retry" in first.stderr and "--resume" in first.stderr
        # Weibo pages by number: pages 3-5 were fetched past the failed page 2.
        assert rows(db_path, "SELECT count(*) FROM posts")[0][0] == POSTS_PER_PLATFORM - 10
        assert (db_path.parent / "grayscan.db.jobs" / "weibo").exists()  # kept for --resume
        server.replica.healed = True
        second = run_cli(*args, "--resume")
    assert second.returncode == 0, second.stderr[-3000:]
    assert " 0 lost; 10 items stored (10 new)" in second.stderr, second.stderr[-2000:]
    posts = rows(db_path, "SELECT post_id FROM posts WHERE platform = 'weibo'")
    assert len(posts) == len(set(posts)) == POSTS_PER_PLATFORM
    runs = rows(db_path, "SELECT status, items FROM crawl_runs ORDER BY id")
    assert [r[1] for r in runs] == [POSTS_PER_PLATFORM - 10, 10]  # nothing fetched twice
    assert not (db_path.parent / "grayscan.db.jobs" / "weibo").exists()


@pytest.mark.parametrize("base_url, message", [
    ("http://127.0.0.1:1", "cannot reach 127.0.0.1:1"),
    ("notaurl", "--base-url 'notaurl' is not an http(s) URL"),
])
def test_no_route_exit_2(db_path, base_url, message):
    proc = run_cli("crawl", "weibo", "-k", KEYWORD, "--lexicon-only", "--base-url", base_url, "--db", str(db_path))
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert message in proc.stderr
    assert "finish: finished" not in proc.stderr


def slow_weibo_search(server: ReplicaServer, seconds: float) -> None:
    """Make the replica's Weibo search pages take ``seconds`` each."""
    index = server.replica.exact["/api/container/getIndex"]

    @functools.wraps(index)  # (the replica tells platforms apart by the route's name)
    def slow_index(request):
        time.sleep(seconds)
        return index(request)

    server.replica.exact["/api/container/getIndex"] = slow_index


def interrupt_crawl(server: ReplicaServer, args: tuple[str, ...], signals: int) -> tuple[int, str]:
    """Run ``grayscan ARGS``, send it SIGINT ``signals`` times (0.3 s apart) once the second search page
    was asked for; its exit status and stderr."""
    proc = subprocess.Popen([sys.executable, "-m", "grayscan", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8", cwd=ROOT)
    deadline = time.monotonic() + 60
    while server.replica.requests["/api/container/getIndex"] < 2:
        assert time.monotonic() < deadline and proc.poll() is None, "the crawl never got going"
        time.sleep(0.05)
    for _ in range(signals):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_ctrl_c_stops_with_exit_3_keeping_the_job_then_resume_completes(db_path):
    """SIGINT mid-crawl (each listing page takes 0.5 s): exit 3 with what was fetched and how to go on, the
    job state kept; --resume then fetches the rest, nothing twice."""
    with ReplicaServer(many_posts()) as server:
        slow_weibo_search(server, 0.5)
        args = ("crawl", "weibo", "-k", KEYWORD, "--max-pages", "20", "--lexicon-only", "--base-url", server.base_url,
                "--db", str(db_path))
        code, err = interrupt_crawl(server, args, signals=1)
        assert code == 3, err[-3000:]
        pages = int(re.search(r"run 1: (\d+) pages fetched", err)[1])
        assert f"stopped by user; {pages} pages fetched; resume with --resume" in err, err[-2000:]
        assert "finish: shutdown" in err and 1 <= pages < 5
        first = rows(db_path, "SELECT count(*) FROM posts")[0][0]
        assert first < POSTS_PER_PLATFORM and (db_path.parent / "grayscan.db.jobs" / "weibo").exists()

        second = run_cli(*args, "--resume")
    assert second.returncode == 0, second.stderr[-3000:]
    posts = rows(db_path, "SELECT post_id FROM posts WHERE platform = 'weibo'")
    assert len(posts) == len(set(posts)) == POSTS_PER_PLATFORM
    runs = rows(db_path, "SELECT status, items FROM crawl_runs ORDER BY id")
    assert [r[0] for r in runs] == ["shutdown", "finished"] and sum(r[1] for r in runs) == POSTS_PER_PLATFORM
    assert not (db_path.parent / "grayscan.db.jobs" / "weibo").exists()


def test_ctrl_c_twice_is_no_success_either(db_path):
    """A second Ctrl-C makes Scrapy stop without closing the spider (no finish reason of its own): still
    exit 3, saying that the last pages' posts may be missing and how to fetch them again."""
    with ReplicaServer(many_posts()) as server:
        slow_weibo_search(server, 1.5)
        code, err = interrupt_crawl(server, ("crawl", "weibo", "-k", KEYWORD, "--lexicon-only", "--base-url",
                                             server.base_url, "--db", str(db_path)), signals=2)
    assert code == 3, err[-3000:]
    assert "finish: forced_shutdown" in err and "(Ctrl-C twice)" in err
    assert "may not be stored" in err and "run the same command without --resume" in err
    assert rows(db_path, "SELECT status FROM crawl_runs") == [("forced_shutdown",)]
