"""The classify contract exactly as later issues and outside evaluation rely on it."""

from __future__ import annotations

import json

from conftest import json_lines, run_cli

AD = "专业征信修复，逾期铲单，不成功不收费，加V：zxxf2026"
WARNING = "【警惕】所谓“征信修复”都是骗局，人民银行提醒：逾期记录无法花钱删除。"


def test_jsonl_stdin_to_stdout_in_order_with_passthrough():
    lines = [
        json.dumps({"id": "a", "text": AD, "source": "douyin"}, ensure_ascii=False),
        json.dumps({"id": 7, "text": WARNING}, ensure_ascii=False),
        json.dumps({"text": "今天天气真好"}, ensure_ascii=False),
    ]
    proc = run_cli("classify", "--input", "-", "--output", "-", input="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    out = json_lines(proc.stdout)
    assert [o["id"] for o in out] == ["a", 7, None]
    assert out[0]["source"] == "douyin"
    assert out[0]["tier"] == "level1"
    assert out[1]["tier"] == "none" and out[2]["tier"] == "none"
    for o in out:
        assert set(o) >= {"id", "tier", "score", "reasons", "matches", "contacts"}
        assert 0.0 <= o["score"] <= 1.0
    match = next(m for m in out[0]["matches"] if m["term"] == "征信修复")
    assert AD[match["start"]:match["end"]] == "征信修复"
    assert match["category"] == "level1_term"
    contact = out[0]["contacts"][0]
    assert contact["type"] == "wechat" and contact["value"] == "zxxf2026"
    assert AD[contact["start"]:contact["end"]] == "zxxf2026"
    assert any(r.startswith("level1:") for r in out[0]["reasons"])


def test_malformed_lines_yield_errors_and_the_run_goes_on(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": 1, "text": AD}, ensure_ascii=False) + "\n"
        "{not json\n"
        "[1, 2]\n"
        '{"id": 4}\n'
        "\n"
        + json.dumps({"id": 5, "text": ""}) + "\n",
        encoding="utf-8",
    )
    out_path = tmp_path / "out.jsonl"
    proc = run_cli("classify", "--input", str(src), "--output", str(out_path))
    assert proc.returncode == 1
    out = json_lines(out_path.read_text(encoding="utf-8"))
    assert len(out) == 5  # the blank line is no record
    assert out[0]["tier"] == "level1"
    assert out[1]["line"] == 2 and "malformed JSON" in out[1]["error"]
    assert out[2]["line"] == 3 and "expected a JSON object" in out[2]["error"]
    assert out[3]["line"] == 4 and "missing 'text'" in out[3]["error"]
    assert out[4]["id"] == 5 and out[4]["tier"] == "none"


def test_plain_text_one_post_per_line():
    proc = run_cli("classify", input=f"{AD}\n{WARNING}\n")
    assert proc.returncode == 0, proc.stderr
    out = json_lines(proc.stdout)
    assert [o["tier"] for o in out] == ["level1", "none"]
    assert [o["line"] for o in out] == [1, 2]


def test_csv_with_text_column(tmp_path):
    src = tmp_path / "posts.csv"
    src.write_text(f'id,platform,text\n1,weibo,"{AD}"\n2,weibo,"{WARNING}"\n', encoding="utf-8")
    proc = run_cli("classify", "-i", str(src))
    assert proc.returncode == 0, proc.stderr
    out = json_lines(proc.stdout)
    assert [(o["id"], o["platform"], o["tier"]) for o in out] == [("1", "weibo", "level1"), ("2", "weibo", "none")]


def test_csv_without_text_column_is_an_error_record(tmp_path):
    src = tmp_path / "posts.csv"
    src.write_text("id,body\n1,征信修复\n", encoding="utf-8")
    proc = run_cli("classify", "-i", str(src))
    assert proc.returncode == 1
    (out,) = json_lines(proc.stdout)
    assert "no 'text' column" in out["error"]


def test_missing_input_file_is_a_clear_error(tmp_path):
    proc = run_cli("classify", "-i", str(tmp_path / "nope.jsonl"))
    assert proc.returncode == 2
    assert "cannot read" in proc.stderr
