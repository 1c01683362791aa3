"""The classifier: authored corpus, evasion moves, policy, bundled model, and the eval/train commands."""

from __future__ import annotations

import functools
import json
import random
from collections import Counter
from pathlib import Path

import pytest
from conftest import json_lines, run_cli

from classifier import Classifier
from classifier.corpus import DATA_DIR, SPLITS, dedupe_key, demo_overlap, generate, read_split
from classifier.evasion import obfuscate, pinyin, separators, traditional
from classifier.junk import junk_lines
from classifier.model import DEFAULT_MODEL_DIR, model_text
from classifier.policy import tier
from grayscan.demo import demo_posts
from lexicon import Lexicon

AD_L1 = "专业征信修复，逾期记录洗白，不成功不收费，加V：zx20261"
AD_L2 = "信用卡逾期被催？帮你停息挂账、个性化分期，私信我，电话 13800138000"
WARNING = "风险提示：警惕所谓“征信修复”“停息挂账”中介，人民银行提醒，逾期记录到期自动删除，切勿轻信。"


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[dict]]:
    return {split: read_split(split) for split in SPLITS}


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier()


@functools.cache
def bundled_lexicon() -> Lexicon:
    return Lexicon.load()


def tier_text(text: str, probabilities: tuple[float, float, float]):
    """The policy's tiering of ``text`` with the bundled lexicon and the given model probabilities."""
    return tier(bundled_lexicon().scan(text), probabilities, model_text(text))


def test_corpus_is_large_labelled_deduplicated_and_has_provenance(corpus):
    records = [r for split in SPLITS for r in corpus[split]]
    assert len(records) >= 5000
    assert {r["label"] for r in records} == {"none", "level1", "level2"}
    assert all(r["source"] in ("generated", "hand-written") and r["generator"] and r["template"] for r in records)
    keys = [dedupe_key(r["text"]) for r in records]
    assert len(set(keys)) == len(keys)
    share = Counter(r["template"] for r in records if r["source"] == "generated").most_common(1)[0][1] / len(records)
    assert share < 0.03
    assert sum(bool(r["evasions"]) for r in records) > 1000


def test_test_split_holds_out_whole_templates(corpus):
    train_templates = {r["template"] for r in corpus["train"] + corpus["dev"]}
    test_templates = {r["template"] for r in corpus["test"] if r["source"] == "generated"}
    assert len(test_templates) >= 20
    assert not train_templates & test_templates
    assert any(r["source"] == "hand-written" for r in corpus["test"])


def test_corpus_regenerates_exactly_and_keeps_away_from_the_demo(corpus):
    records = generate()
    close = set(demo_overlap(records, [p.text for p in demo_posts()]))
    regenerated = Counter(r.text for r in records if r.id not in close)
    assert regenerated == Counter(r["text"] for split in SPLITS for r in corpus[split])
    demo = {dedupe_key(p.text) for p in demo_posts()}
    assert not demo & {dedupe_key(t) for t in regenerated}


def test_evasion_moves_and_model_text_undo_the_cheap_ones():
    rng = random.Random(1)
    assert traditional("征信修复停息挂账", [], rng) == "徵信修復停息掛賬"
    split = separators("专业停息挂账服务", ["停息挂账"], rng)
    assert "停息挂账" not in split and model_text(split) == "专业停息挂账服务"
    roman = pinyin("专业征信修复", ["征信修复"], random.Random(3))
    assert "征信修复" not in roman
    assert model_text("專業徵信修復，加V：①③⑧❶") == "专业征信修复,加v:1381"
    text, moves = obfuscate("专业征信修复，加V：zx123", ["征信修复"], random.Random(5), moves=2)
    assert len(moves) == 2 and text != "专业征信修复，加V：zx123"


def test_policy_tiers_from_evidence_and_probabilities():
    lex = Lexicon.load()
    ad = tier(lex.scan(AD_L1), (0.1, 0.8, 0.1))
    assert ad.tier == "level1" and "level1: 征信修复" in ad.reasons
    assert any(r.startswith("contact hand-off") for r in ad.reasons)
    # A warning the model half-believes stays none: warning cues without a hand-off pull it down.
    warned = tier(lex.scan(WARNING), (0.4, 0.3, 0.3))
    assert warned.tier == "none" and warned.reasons[0].startswith("warning context")
    # An ad that avoids every listed word is still caught by the model; the tier is the guideline's reading:
    # speaking as a legal team is impersonation (level 1), the model alone does not make a post level 1.
    avoiding = "我们的法务替你出面跟平台谈，只还六成就能结清，私我"
    avoid = tier_text(avoiding, (0.05, 0.85, 0.1))
    assert avoid.tier == "level1" and "level1: impersonates legal workers" in avoid.reasons
    unlisted = "只还六成就能结清，私我"
    assert tier_text(unlisted, (0.05, 0.85, 0.1)).tier == "level2"
    # Lexicon only: the baseline still needs guideline terms.
    assert tier(lex.scan("今天天气真好"), None).tier == "none"
    assert tier(lex.scan(AD_L2), None).tier == "level2"


def test_reasons_cite_the_impersonated_authority_by_name():
    lex = Lexicon.load()
    police = tier(lex.scan("我们是已在公安备案的正规机构，帮你谈减免，私信"), (0.05, 0.9, 0.05))
    assert police.tier == "level1" and "level1: impersonates police" in police.reasons
    court = tier(lex.scan("法院调解中心帮你和平台调解，只还本金，加V：fy2026"), (0.05, 0.6, 0.35))
    assert court.tier == "level1" and "level1: impersonates the judiciary" in court.reasons
    lawyer = tier(lex.scan("律所法务团队帮你停息挂账，电话 13800138000"), (0.05, 0.3, 0.65))
    assert lawyer.tier == "level1" and lawyer.reasons[:2] == ["level1: impersonates legal workers", "level2: 停息挂账"]
    # Level-2 content without level-1 evidence stays level2 unless the model clearly sees a level-1 front.
    plain = tier(lex.scan("信用卡逾期？帮你停息挂账，私信"), (0.05, 0.55, 0.4))
    assert plain.tier == "level2" and plain.reasons[0] == "level2: 停息挂账"


# Hand-written for this test (not in the corpus): the negatives the previous model got wrong —
# official hotlines, a law firm's line, exam notes "资料加V", a victim's complaint — and two ads that
# avoid the listed words.
HARD_CASES = [
    ("none", "市反诈中心提醒：自称能删除逾期记录的都是骗子，拿不准就打96110或110"),
    ("none", "信用卡还款有困难，请直接拨打建设银行客服热线95533申请分期，不要找任何中介"),
    ("none", "金融监管局提示：代理退保是骗局，保险纠纷可拨打12378投诉"),
    ("none", "本所承接劳动争议、婚姻家事案件，咨询电话 13912345678"),
    ("none", "考研政治背诵笔记整理好了，资料加V：kaoyan2027"),
    ("none", "我被代理退保骗了，交了四千手续费，保单退了只拿回一点，大家别信"),
    ("level1", "别自己硬扛，我们法务部直接跟平台协商，你安心上班，滴滴我"),
    ("level2", "欠了好几家网贷，帮你谈成只还本金分期慢慢还，成功再收费，私我"),
]


def test_bundled_model_reads_hotlines_legit_contacts_and_soft_fronts(clf):
    assert [d.tier for d in clf.classify([text for _, text in HARD_CASES])] == [label for label, _ in HARD_CASES]


def test_title_echo_keeps_the_tier(clf):
    """Video and note posts arrive as "title\\ntext" with the title repeating the text's start."""
    from classifier.train import echo_title

    rng = random.Random(5)
    for label, text in HARD_CASES + [("level1", "征信洗白大额逾期，内部关系删除不良记录，100%成功，联系QQ 3456789012")]:
        echoed = [echo_title(text, rng) for _ in range(3)] + [text[:20] + "\n" + text, text + "\n" + text]
        assert all(e.endswith("\n" + text) and text.startswith(e.split("\n")[0]) for e in echoed)
        assert [d.tier for d in clf.classify(echoed)] == [label] * len(echoed), text


def test_bundled_model_ships_small_and_tiers_posts(clf):
    size = sum(f.stat().st_size for f in DEFAULT_MODEL_DIR.iterdir())
    assert (DEFAULT_MODEL_DIR / "config.json").is_file() and size < 10_000_000
    assert clf.name.startswith("policy-v2+bert:")
    texts = [AD_L1, AD_L2, WARNING, "二战终于考研上岸，开心", "", "專業徵信修復，逾期鏟單，薇信：hkzx2026"]
    batch = clf.classify(texts)
    assert [d.tier for d in batch] == ["level1", "level2", "none", "none", "none", "level1"]
    singles = [clf.classify_one(t) for t in texts]
    # Dynamic int8 quantization scales activations per batch: scores agree to rounding, the rest exactly.
    assert [{**d.to_dict(), "score": None} for d in batch] == [{**d.to_dict(), "score": None} for d in singles]
    assert all(abs(d.score - one.score) < 0.01 for d, one in zip(batch, singles))
    assert all(0.0 <= d.score <= 1.0 for d in batch)


def test_eval_command_reports_model_and_baseline(tmp_path):
    data = tmp_path / "labelled.jsonl"
    rows = [{"text": AD_L1, "label": "level1", "evasions": ["pinyin"]}, {"text": AD_L2, "label": "level2"},
            {"text": WARNING, "label": "none", "style": "notice"}, {"text": "孩子考研上岸了", "label": "none"},
            {"text": "no label here"}, {"text": "x", "label": "spam"}]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "metrics.json"
    proc = run_cli("eval", "--data", str(data), "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    figures = {(r["section"], r["name"], r["classifier"]): r["value"] for r in
               (dict(zip(("section", "name", "classifier", "value"), line.split("\t"), strict=True))
                for line in proc.stdout.splitlines()[1:])}  # piped: TSV on stdout, messages on stderr
    assert ("summary", "actionable F1", "lexicon-policy-v1") in figures
    assert ("confusion", "gold none → none", "lexicon-policy-v1") in figures
    assert "line 5" in proc.stderr and "line 6" in proc.stderr
    metrics = json.loads(out.read_text(encoding="utf-8"))
    model, baseline = metrics["results"]
    assert model["records"] == baseline["records"] == 4 and metrics["skipped"] == 2
    assert model["actionable"]["f1"] == 1.0
    assert model["confusion"]["level1"]["level1"] == 1
    assert "subset warnings & news" in proc.stdout and "subset obfuscated" in proc.stdout
    assert model["subsets"]["warnings & news"]["records"] == 1 and model["subsets"]["obfuscated"]["records"] == 1


def test_eval_without_usable_records_fails_clearly(tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "hi"}\n', encoding="utf-8")
    proc = run_cli("eval", "--data", str(data))
    assert proc.returncode == 2 and "no records with text and a label" in proc.stderr


def test_train_from_scratch_then_fine_tune_with_reviewer_labels(tmp_path):
    scratch, tuned = tmp_path / "scratch", tmp_path / "tuned"
    proc = run_cli("train", "--output", str(scratch), "--limit", "48", "--max-steps", "2", "--epochs", "1")
    assert proc.returncode == 0, proc.stderr
    assert "trained 2 steps" in proc.stderr
    assert {"config.json", "model.safetensors", "tokenizer.json", "training.json"} <= {p.name for p in scratch.iterdir()}
    labels = tmp_path / "labels.jsonl"
    decisions = [{"text": AD_L2, "label": "level2", "platform": "weibo", "post_id": "1", "queue_id": 1,
                  "decided_by": "rev", "decided_at": "2026-01-01T00:00:00Z", "source": "queue-review"},
                 {"text": WARNING, "label": "none"}]
    labels.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in decisions) + "\n", encoding="utf-8")
    proc = run_cli("train", "--output", str(tuned), "--base", str(scratch), "--extra", str(labels),
                   "--limit", "16", "--max-steps", "2", "--epochs", "1")
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((tuned / "training.json").read_text(encoding="utf-8"))
    assert meta["report"]["base"] == str(scratch) and meta["report"]["extra_records"] == 2
    proc = run_cli("classify", "--model", str(tuned), input=AD_L1 + "\n")
    assert proc.returncode == 0, proc.stderr
    (out,) = json_lines(proc.stdout)
    assert out["tier"] in ("none", "level1", "level2") and any(m["term"] == "征信修复" for m in out["matches"])


def test_train_rejects_bad_extra_labels(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "征信修复", "label": "maybe"}\n', encoding="utf-8")
    proc = run_cli("train", "--output", str(tmp_path / "m"), "--extra", str(bad), "--max-steps", "1")
    assert proc.returncode == 2 and "bad.jsonl:1" in proc.stderr and "maybe" in proc.stderr
    assert not (tmp_path / "m").exists()


def test_classify_lexicon_only_flag_and_missing_model(tmp_path):
    proc = run_cli("classify", "--lexicon-only", input=AD_L1 + "\n")
    assert proc.returncode == 0, proc.stderr
    assert json_lines(proc.stdout)[0]["tier"] == "level1"
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_cli("classify", "--model", str(empty), input=AD_L1 + "\n")
    assert proc.returncode == 2 and "config.json missing" in proc.stderr


def test_generated_junk_set_is_none_through_the_classify_path():
    """1,000 seeded out-of-domain lines (emoji, chatter, numbers, URLs, @mention + phone, English, bytes)."""
    lines = junk_lines(1000, seed=20261201)
    assert len(set(lines)) > 600 and {len(line) for line in lines} != {1}
    records = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(lines))
    proc = run_cli("classify", input=records)
    assert proc.returncode == 0, proc.stderr
    out = json_lines(proc.stdout)
    assert [o["id"] for o in out] == list(range(1000))
    flagged = [(lines[o["id"]], o["tier"]) for o in out if o["tier"] != "none"]
    assert len(flagged) <= 5, flagged
    assert sum(o["reasons"] == ["no finance content"] for o in out) >= 990


def test_content_gate_reads_every_view_not_the_model():
    for text in ("😂😂😂", "666", "1234567890", "https://abc.com/x", "@张三 13800138000", "nice video lol", "ありがとう"):
        assert tier_text(text, (0.0, 0.9, 0.1)).reasons == ["no finance content"], text
    # Pinyin-hidden terms and plain money words are finance content, whatever the script.
    for text in ("zhengxin修复找我", "信用卡逾期了怎么办", "債務重組"):
        assert tier_text(text, (0.9, 0.05, 0.05)).reasons != ["no finance content"], text


def test_promotional_framing_is_actionable_unless_warning_context_overrules_it():
    sure_none = (0.99, 0.005, 0.005)
    for text, level in (("征信修复，百分百成功，费用全包", "level1"), ("我们团队帮你办理停息挂账", "level2"),
                        ("全额退保，零手续费，有需要的私我", "level1")):
        result = tier_text(text, sure_none)
        assert result.tier == level and any(r.startswith("promotional framing") for r in result.reasons), text
    warned = "警方提醒：声称“征信修复”百分百成功的都是骗局，收费后就失联"
    result = tier_text(warned, sure_none)
    assert result.tier == "none" and result.reasons[0].startswith("model overrules promotional framing")
    # Without framing the model's call stands: a question using the word is not an ad.
    question = "停息挂账是真的吗？"
    assert tier_text(question, sure_none).tier == "none"


def test_paraphrased_level1_claims_and_referring_to_a_law_firm():
    level_two = (0.1, 0.2, 0.7)
    for text in ("逾期记录可以直接删掉吗？我这边能把法院执行记录消除，一条两千", "保证永不被起诉，欠款找我们",
                 "老板在省高院有关系，欠款官司都能撤"):
        result = tier_text(text, level_two)
        assert result.tier == "level1", (text, result)
    # A story that sends readers to a law firm refers to it; it does not speak as one: level 2.
    story = "后来通过朋友找到一家律师事务所，分期谈下来了，压力小了很多"
    result = tier_text(story, level_two)
    assert result.tier == "level2" and "level1: impersonates legal workers" not in result.reasons


def test_eval_reads_real_post_sets_as_they_are_with_a_kind_breakdown(tmp_path):
    data = tmp_path / "real.jsonl"
    rows = [{"id": "a", "text": AD_L1, "label": "level1", "kind": "promo"},
            {"id": "b", "text": AD_L2, "label": "level2", "kind": "promo"},
            {"id": "c", "text": WARNING, "label": "none", "kind": "warning"},
            {"id": "d", "text": "这种到底算不算广告", "label": "borderline", "kind": "info"},
            {"id": "e", "text": AD_L1 + "！", "label": "level1", "kind": "promo", "exposed": True}]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "metrics.json"
    proc = run_cli("eval", "--data", str(data), "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "not scored: 2 borderline or exposed records" in proc.stderr and "skipped" not in proc.stderr
    model = json.loads(out.read_text(encoding="utf-8"))["results"][0]
    assert model["records"] == 3
    assert model["subsets"]["kind: promo"]["records"] == 2 and model["subsets"]["kind: warning"]["records"] == 1
    assert model["subsets"]["warnings & news"]["none_kept"] == 1.0
    assert "kind: promo" in proc.stdout and "kind: warning" in proc.stdout  # figures on stdout, as TSV when piped


def test_written_posts_join_the_corpus_with_provenance_and_whole_threads(corpus):
    written = [r for split in SPLITS for r in corpus[split] if r.get("writer")]
    assert written and all(r["source"] == "hand-written" and r["style"] and r["template"].startswith("written:")
                           for r in written)
    assert {r["split"] for r in written} == set(SPLITS)
    threads: dict[str, set[str]] = {}
    for r in written:
        if "#" in r["template"]:
            threads.setdefault(r["template"], set()).add(r["split"])
    assert threads and all(len(splits) == 1 for splits in threads.values())
    junk = [r for split in SPLITS for r in corpus[split] if r["style"] == "junk"]
    assert len(junk) > 400 and {r["label"] for r in junk} == {"none"}


def test_solicitation_keeps_framing_against_a_victims_word_but_quoted_offers_do_not_solicit():
    unsure = (0.7, 0.1, 0.2)
    # A testimonial that says 被骗 and then hands off is still an ad; a victim quoting the offer is not.
    pitch = "我也被骗过，后来找对了团队，停息挂账办下来了，有需要的看我主页"
    result = tier_text(pitch, unsure)
    assert result.tier == "level2" and not any("overrules" in r for r in result.reasons), result
    quoted = "我差点被骗：对方说“我们帮你停息挂账，有需要的看我主页”，要先交五千定金"
    result = tier_text(quoted, unsure)
    assert result.tier == "none" and "overrules" in result.reasons[0], result


def test_agency_cues_and_result_claims_need_rights_defense_talk():
    unsure = (0.7, 0.1, 0.2)
    for text in ("上个月帮客户处理退费，材料齐了半个月就下来了", "保险退费联系 13912345678",
                 "投顾会员费3折结清，先退后付费"):
        result = tier_text(text, unsure)
        assert result.tier == "level2", (text, result)
    # The same hand-off without rights-defense talk is no agency's: 考研上岸 with a WeChat stays none.
    caption = "考研上岸了，资料加V：kaoyan2027"
    assert tier_text(caption, unsure).tier == "none"


def test_model_text_reads_homophone_spellings_of_finance_words_back():
    assert model_text("芯用卡腿费，葆单退不了") == "信用卡退费,保单退不了"
    # Whole words only: a homophone alone, or an ordinary word made of homophones, stays.
    assert model_text("宝宝按时睡觉，收废品") == "宝宝按时睡觉,收废品"


def test_reports_of_ads_and_quoted_offers_let_the_model_overrule_but_the_ads_themselves_stay():
    sure_none = (0.97, 0.01, 0.02)
    # Talk about the ads, footnoted summaries, a quoted offer, a caution to the reader: reports, not ads.
    for text in ("停息挂账广告刷屏，包过包成功随处可见", "有中介代客办停息挂账，宣称成功率九成，收费约两千元[3]",
                 "部分私营公司提供债务协商的「一条龙代办」服务，选择时看清收费"):
        result = tier_text(text, sure_none)
        assert result.tier == "none" and result.reasons[0].startswith("model overrules"), (text, result)
    # The same framing in the poster's own voice stays actionable, and a post that solicits keeps it.
    for text in ("停息挂账，包过包成功，收费两千", "停息挂账广告那么多，找我们包过，私我"):
        assert tier_text(text, sure_none).tier == "level2", text


def test_the_credit_database_by_its_official_name_is_finance_content():
    text = "金融信用信息基础数据库里的逾期数据可以直接删掉"
    result = tier_text(text, (0.9, 0.05, 0.05))
    assert result.tier == "level1" and "level1: erases records" in result.reasons, result
    # A database outside finance is still no finance content.
    tech = "从数据库里直接把测试数据删掉"
    assert tier_text(tech, (0.1, 0.8, 0.1)).reasons == ["no finance content"]
