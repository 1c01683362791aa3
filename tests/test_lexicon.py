"""The lexicon against evasions, lookalike negatives, contacts and bad lexicon files (real components only)."""

from __future__ import annotations

import json

import pytest
from conftest import json_lines, run_cli

from lexicon import CATEGORIES, Lexicon, LexiconError, load_terms, normalize
from lexicon.normalize import HOMOPHONE, SKELETON, STRICT

LEX = Lexicon.default()

# (text, canonical term, the exact text the hit must cover, the view credited)
EVASIONS = [
    # plain
    ("专业征信修复", "征信修复", "征信修复", "strict"),
    ("帮你停息挂账", "停息挂账", "停息挂账", "strict"),
    ("代理退保找我", "代理退保", "代理退保", "strict"),
    ("债务优化方案定制", "债务优化方案", "债务优化方案", "strict"),
    ("逾期铲单", "逾期铲单", "逾期铲单", "strict"),
    # traditional script (OpenCC t2s) and the variants t2s keeps (帐, 徵)
    ("專業徵信修復", "征信修复", "徵信修復", "strict"),
    ("停息掛賬", "停息挂账", "停息掛賬", "strict"),
    ("停息掛帳", "停息挂账", "停息掛帳", "strict"),
    ("停息挂帐", "停息挂账", "停息挂帐", "strict"),
    ("債務優化", "债务优化", "債務優化", "strict"),
    ("個性化分期", "个性化分期", "個性化分期", "strict"),
    ("負債上岸", "负债上岸", "負債上岸", "strict"),
    ("逾期鏟單", "逾期铲单", "逾期鏟單", "strict"),
    ("延期定製", "延期定制", "延期定製", "strict"),
    ("全額退保", "全额退保", "全額退保", "strict"),
    ("維權不成功不收費", "维权不成功不收费", "維權不成功不收費", "strict"),
    ("內部渠道", "内部渠道", "內部渠道", "strict"),
    ("律師事務所", "律师事务所", "律師事務所", "strict"),
    # full width and case
    ("成功率１００％", "成功率100%", "成功率１００", "strict"),
    ("ＶＸ联系", "vx", "ＶＸ", "strict"),
    ("100％成功", "100%成功", "100％成功", "strict"),
    # separators and noise: spaces, U+3000, zero-width, variation selectors, punctuation, emoji
    ("征 信 修 复", "征信修复", "征 信 修 复", "skeleton"),
    ("征\u3000信\u3000修\u3000复", "征信修复", "征\u3000信\u3000修\u3000复", "skeleton"),
    ("征\u200b信\u200c修\u200d复", "征信修复", "征\u200b信\u200c修\u200d复", "skeleton"),
    ("停\ufe0f息\ufe0f挂账", "停息挂账", "停\ufe0f息\ufe0f挂账", "skeleton"),
    ("停·息·挂·账", "停息挂账", "停·息·挂·账", "skeleton"),
    ("代-理-退-保", "代理退保", "代-理-退-保", "skeleton"),
    ("债/务/优/化", "债务优化", "债/务/优/化", "skeleton"),
    ("征❤信❤洗❤白", "征信洗白", "征❤信❤洗❤白", "skeleton"),
    ("反🔥催🔥收", "反催收", "反🔥催🔥收", "skeleton"),
    ("负债【上岸】", "负债上岸", "负债【上岸", "skeleton"),
    ("个性化 分期", "个性化分期", "个性化 分期", "skeleton"),
    ("逾期*铲单", "逾期铲单", "逾期*铲单", "skeleton"),
    ("全额_退保", "全额退保", "全额_退保", "skeleton"),
    ("延期@定制", "延期定制", "延期@定制", "skeleton"),
    ("内部~渠道", "内部渠道", "内部~渠道", "skeleton"),
    ("债务清￥零", "债务清零", "债务清￥零", "skeleton"),
    ("专业反催收！！", "专业反催收", "专业反催收", "strict"),
    # homophones and look-alikes of key characters
    ("代理退葆", "代理退保", "代理退葆", "homophone"),
    ("停息卦账", "停息挂账", "停息卦账", "homophone"),
    ("反崔收", "反催收", "反崔收", "homophone"),
    ("征芯修复", "征信修复", "征芯修复", "homophone"),
    ("证信修复", "征信修复", "证信修复", "homophone"),
    ("负寨上岸", "负债上岸", "负寨上岸", "homophone"),
    ("负债上案", "负债上岸", "负债上案", "homophone"),
    ("逾期产单", "逾期铲单", "逾期产单", "homophone"),
    ("停熄挂账", "停息挂账", "停熄挂账", "homophone"),
    ("代理维泉", "代理维权", "代理维泉", "homophone"),
    ("全额退宝", "全额退保", "全额退宝", "homophone"),
    ("债务优化", "债务优化", "债务优化", "strict"),
    ("葆费全拿回", "葆费", "葆费", "strict"),
    # pinyin, full syllables, mixed with characters
    ("征xin修复", "征信修复", "征xin修复", "pinyin"),
    ("zheng信修复", "征信修复", "zheng信修复", "pinyin"),
    ("tingxi挂账", "停息挂账", "tingxi挂账", "pinyin"),
    ("停xi挂zhang", "停息挂账", "停xi挂zhang", "pinyin"),
    ("dai理退bao", "代理退保", "dai理退bao", "pinyin"),
    ("zhaiwu优化", "债务优化", "zhaiwu优化", "pinyin"),
    ("fan催shou", "反催收", "fan催shou", "pinyin"),
    ("quan额退保", "全额退保", "quan额退保", "pinyin"),
    ("个性hua分期", "个性化分期", "个性hua分期", "pinyin"),
    ("fuzhai上岸", "负债上岸", "fuzhai上岸", "pinyin"),
    ("xiehuan还款", None, None, None),  # 协商 misspelt: no key, no hit
    ("yuqi铲单", "逾期铲单", "yuqi铲单", "pinyin"),
    ("zhengxinxiufu", "征信修复", "zhengxinxiufu", "pinyin"),
    ("ZhengXin修复", "征信修复", "ZhengXin修复", "pinyin"),
    # initials (at least 3 syllables; bare short ones need other ad vocabulary)
    ("zx修复", "征信修复", "zx修复", "initials"),
    ("txgz了解一下", "停息挂账", "txgz", "initials"),
    ("dltb，私聊", "代理退保", "dltb", "initials"),
    ("zwyh找我", "债务优化", "zwyh", "initials"),
    ("个xhfq", "个性化分期", "个xhfq", "initials"),
    ("TXGZ", "停息挂账", "TXGZ", "initials"),
    ("yqcd", "逾期铲单", "yqcd", "initials"),
    ("fcs 专业停息挂账", "反催收", "fcs", "initials"),
    ("qetb", "全额退保", "qetb", "initials"),
    ("停x挂z", "停息挂账", "停x挂z", "initials"),
    # split characters (拆字)
    ("亻责务优化", "债务优化", "亻责务优化", "split"),
    ("征亻言修复", "征信修复", "征亻言修复", "split"),
    ("代理退亻呆", "代理退保", "代理退亻呆", "split"),
    ("代理维木又", "代理维权", "代理维木又", "split"),
    ("反亻崔收", "反催收", "反亻崔收", "split"),
    ("逾期钅产单", "逾期铲单", "逾期钅产单", "split"),
    ("停息挂贝长", "停息挂账", "停息挂贝长", "split"),
    ("彳正亻言修复", "征信修复", "彳正亻言修复", "split"),
    # combined moves
    ("徵 信 修 復", "征信修复", "徵 信 修 復", "skeleton"),
    ("停·息·掛·賬", "停息挂账", "停·息·掛·賬", "skeleton"),
    ("停·息·卦·账", "停息挂账", "停·息·卦·账", "homophone"),
    ("代 理 退 葆", "代理退保", "代 理 退 葆", "homophone"),
    ("全.额.退.葆", "全额退保", "全.额.退.葆", "homophone"),
    ("征.xin.修.复", "征信修复", "征.xin.修.复", "pinyin"),
    ("征 xin 修 复", "征信修复", "征 xin 修 复", "pinyin"),
    ("ｚｘ修复", "征信修复", "ｚｘ修复", "initials"),
    ("Ｔｘｇｚ", "停息挂账", "Ｔｘｇｚ", "initials"),
    ("z.x.修.复", "征信修复", "z.x.修.复", "initials"),
    ("t x g z", "停息挂账", "t x g z", "initials"),
    ("dai理退葆", "代理退保", "dai理退葆", "pinyin"),
    ("亻责 务 优 化", "债务优化", "亻责 务 优 化", "split"),
    ("債務\u200b優化", "债务优化", "債務\u200b優化", "skeleton"),
    ("反崔 收", "反催收", "反崔 收", "homophone"),
    ("專業反催收❤️", "专业反催收", "專業反催收", "strict"),
    ("逾期鏟\u3000單", "逾期铲单", "逾期鏟\u3000單", "skeleton"),
    ("停息掛帳，私聊", "停息挂账", "停息掛帳", "strict"),
    ("個性化·分期", "个性化分期", "個性化·分期", "skeleton"),
    ("负债上岸⭐", "负债上岸", "负债上岸", "strict"),
    ("vx停息挂账", "停息挂账", "停息挂账", "strict"),
    ("征信修复fcs", "反催收", "fcs", "initials"),
    ("监管部门出新政", "监管部门出新政", "监管部门出新政", "strict"),
    ("退保通道已打開", "退保通道已打开", "退保通道已打開", "strict"),
]


@pytest.mark.parametrize(("text", "term", "covered", "view"), EVASIONS, ids=[c[0] for c in EVASIONS])
def test_evasion_is_found_with_exact_span(text, term, covered, view):
    matches = LEX.scan(text).matches
    if term is None:
        assert not [m for m in matches if m.category in ("level1_term", "level2_term")]
        return
    hits = [m for m in matches if m.term == term]
    assert hits, f"{term} not found in {text!r}: {matches}"
    hit = hits[0]
    assert (hit.start, hit.end) == (text.index(covered), text.index(covered) + len(covered))
    assert hit.text == covered == text[hit.start:hit.end]
    assert hit.view == view


def test_the_table_covers_every_move():
    assert len(EVASIONS) >= 100
    assert {v for *_, v in EVASIONS} >= {"strict", "skeleton", "homophone", "pinyin", "initials", "split"}


QUIET = [
    "三战终于考研上岸啦！",
    "考公上岸经验分享",
    "换季皮肤修复攻略，屏障修复很重要",
    "硬盘坏了，数据修复花了两千",
    "Windows系统优化教程",
    "周末冲浪差点上不了岸",
    "私心里觉得这家店不错",
    "保费多少钱一年？",
    "山泉水真好喝",
    "在线学法，依法维权",
    "今天学了txt文件的读写",
    "wxPython 界面库",
    "我的微信号是什么来着",  # no id: no contact
    "ZXXF2026赛季开赛",
    "fcs",  # bare three-letter initials without other ad vocabulary
    "App 正在修复闪退问题",
]


@pytest.mark.parametrize("text", QUIET)
def test_lookalikes_stay_quiet(text):
    result = LEX.scan(text)
    loud = [m for m in result.matches if m.category in ("level1_term", "level2_term", "impersonation", "claim")]
    assert not loud, loud
    assert not result.contacts, result.contacts


def test_legit_context_swallows_the_word_inside_it():
    (match,) = LEX.scan("三战终于考研上岸啦").matches
    assert (match.term, match.category) == ("考研上岸", "legit_context")


def test_cue_inside_a_longer_term_is_no_warning():
    matches = LEX.scan("工资一到账切勿立即还款").matches
    assert [m.term for m in matches] == ["工资一到账切勿立即还款"]


def test_contained_hit_of_same_category_is_dropped_but_other_categories_stay():
    terms = [(m.term, m.category) for m in LEX.scan("专业律师专业维权").matches]
    assert ("专业律师专业维权", "impersonation") in terms
    assert ("专业律师", "impersonation") not in terms
    assert ("专业维权", "claim") in terms


def test_pinyin_hit_inside_a_contact_id_is_the_id_not_a_term():
    result = LEX.scan("VX：zwyh-center")
    assert [c.value for c in result.contacts] == ["zwyh-center"]
    assert "债务优化" not in [m.term for m in result.matches]


CONTACTS = [
    ("电话一三九一二三四五六七八", "phone", "+8613912345678", "一三九一二三四五六七八"),
    ("电话 138 0013 8000 详聊", "phone", "+8613800138000", "138 0013 8000"),
    ("电话 135-1234-5678", "phone", "+8613512345678", "135-1234-5678"),
    ("+86 138-0013-8000", "phone", "+8613800138000", "+86 138-0013-8000"),
    ("联系１３８００１３８０００", "phone", "+8613800138000", "１３８００１３８０００"),
    ("联系①③⑧⓪⓪①③⑧⓪⓪⓪", "phone", "+8613800138000", "①③⑧⓪⓪①③⑧⓪⓪⓪"),
    ("联系❶❸❽⓿⓿❶❸❽⓿⓿⓿", "phone", "+8613800138000", "❶❸❽⓿⓿❶❸❽⓿⓿⓿"),
    ("壹叁捌零零壹叁捌零零零", "phone", "+8613800138000", "壹叁捌零零壹叁捌零零零"),
    ("客服热线 400-820-8820", "phone", "+864008208820", "400-820-8820"),
    ("V：13812345678", "phone", "+8613812345678", "13812345678"),
    ("加V：zxxf2026 详聊", "wechat", "zxxf2026", "zxxf2026"),
    ("➕V：lixiaozhai88", "wechat", "lixiaozhai88", "lixiaozhai88"),
    ("薇信：hkdebt2026", "wechat", "hkdebt2026", "hkdebt2026"),
    ("看简介加薇信 lvshi-help99", "wechat", "lvshi-help99", "lvshi-help99"),
    ("VX：zwyh-center", "wechat", "zwyh-center", "zwyh-center"),
    ("ｖｘ：Debt_Help1", "wechat", "debt_help1", "Debt_Help1"),
    ("威❤：abc12345", "wechat", "abc12345", "abc12345"),
    ("微信号是 kefu2026", "wechat", "kefu2026", "kefu2026"),
    ("这个是我的微信：9⓿二肆⁹₈③⑸⒋➃㈤㊄", "wechat", "902498354455", "9⓿二肆⁹₈③⑸⒋➃㈤㊄"),
    ("扣扣：2845671903", "qq", "2845671903", "2845671903"),
    ("联系QQ 3456789012", "qq", "3456789012", "3456789012"),
    ("蔻蔻 12345678", "qq", "12345678", "12345678"),
    ("tg: @debt_help", "telegram", "@debt_help", "debt_help"),
    ("纸飞机 debthelp2026", "telegram", "@debthelp2026", "debthelp2026"),
    ("https://t.me/DebtHelp 详聊", "telegram", "@debthelp", "https://t.me/DebtHelp"),
    ("详情 https://example.cn/a?b=1。", "url", "https://example.cn/a?b=1", "https://example.cn/a?b=1"),
    ("访问zxxf.com看看", "url", "zxxf.com", "zxxf.com"),
    ("邮箱 help@debt.cn", "email", "help@debt.cn", "help@debt.cn"),
]


@pytest.mark.parametrize(("text", "kind", "value", "raw"), CONTACTS, ids=[c[0] for c in CONTACTS])
def test_contact_is_found_and_normalized(text, kind, value, raw):
    (contact,) = LEX.scan(text).contacts
    assert (contact.type, contact.value, contact.raw) == (kind, value, raw)
    assert text[contact.start:contact.end] == raw
    assert contact.to_dict() == {"type": kind, "value": value, "start": contact.start, "end": contact.end, "raw": raw}


NOT_CONTACTS = [
    "价格13800138000元",
    "订单号：13812345678",
    "订单号 202602061234567",
    "快递单号 138 1234 5678",
    "2026-02-06 13:45 发布",
    "二〇二六年二月六日",
    "欠款总金额28万，分5年还",
    "涉案金额达300余万元",
    "成功率100%",
    "13、15、18、20、25、30",
    "13.5 14.2 15.8 16.1 17.3 18",
    "￥1380.00 包邮",
    "身份证 110101199003071234",
    "review abcdefg",
    "评论区扣1",
]


@pytest.mark.parametrize("text", NOT_CONTACTS)
def test_prices_dates_amounts_and_order_numbers_are_not_contacts(text):
    assert LEX.scan(text).contacts == []


def test_views_map_every_position_back_to_the_original():
    text = "專業 徵❤信⑴修復 zx"
    for view in normalize(text):
        assert len(view.offsets) == len(view.text)
        for j, i in enumerate(view.offsets):
            assert 0 <= i < len(text)
            assert j == 0 or view.offsets[j - 1] <= i
    strict, skeleton = STRICT.view(text), SKELETON.view(text)
    assert strict.text.startswith("专业 征❤信(1)修复")
    assert skeleton.text == "专业征信1修复zx"
    assert HOMOPHONE.view("代理退葆").text == "代理退保"
    assert skeleton.span(2, 4) == (3, 6)  # 征信 <- 徵❤信


def test_match_fields_and_dict():
    (match,) = [m for m in LEX.scan("专业征信修复").matches if m.term == "征信修复"]
    assert match.to_dict() == {"term": "征信修复", "category": "level1_term", "family": "credit_erasure",
                               "view": "strict", "start": 2, "end": 6, "text": "征信修复"}


def test_hostile_input_is_bounded_and_survives_odd_characters():
    from lexicon import MAX_SCAN_CHARS

    result = LEX.scan("征信修复" + "\ud800\x00\U0010ffff" * 10 + "x" * (MAX_SCAN_CHARS + 10))
    assert result.truncated and result.matches[0].term == "征信修复"
    assert LEX.scan("").matches == [] and LEX.scan("").contacts == []


# ---- the data and its validation


def test_bundled_lexicon_is_complete_and_sourced():
    terms = load_terms()
    assert len(terms) >= 200
    assert {t.category for t in terms} == set(CATEGORIES)
    assert all(t.source and t.family for t in terms)
    canon = {t.canonical for t in terms}
    # every expression the NIFA guideline lists (as reported), by tier
    assert {"专业反催收", "逾期铲单", "代理免除债务", "提前全额退保", "征信修复", "征信洗白", "铲单"} <= canon
    assert {"停息挂账", "延期定制", "负债上岸", "债务优化", "个性化分期", "代理退保", "追讨投资损失"} <= canon
    impersonation = {t.family for t in terms if t.category == "impersonation"}
    assert impersonation >= {"legal_worker", "regulator", "insider", "police", "judiciary", "government",
                             "financial_institution"}


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_extra_lexicon_merges_and_matches(tmp_path):
    team = write(tmp_path, "team.toml", '[[term]]\ncanonical = "债务重整师"\ncategory = "impersonation"\n'
                                        'family = "legal_worker"\nvariants = ["重整律师"]\nsource = "team"\n')
    lex = Lexicon.load([team])
    assert len(lex.terms) == len(LEX.terms) + 1
    # The bundled 债务重整 (a level-2 service, under 债务舒缓) sits inside the team's 债务重整师: both count.
    assert [m.term for m in lex.scan("找債務重整師，停息挂账").matches] == ["债务舒缓", "债务重整师", "停息挂账"]
    assert [t.canonical for t in lex.terms_in("impersonation")][-1] == "债务重整师"


BAD_FILES = [
    ('[[term]]\ncanonical = "新词"\ncategory = "level3_term"\nfamily = "x"\n',
     ["bad.toml:1: term #1 (新词): category 'level3_term' is not one of", "did you mean 'level2_term'?"]),
    ('[[term]]\ncanonical = "新词"\ncategory = "signal"\nfamily = "x"\nsynonyms = ["a"]\n',
     ["bad.toml:1: term #1 (新词): unknown key 'synonyms'"]),
    ('[[term]]\ncanonical = "新词"\ncategory = "signal"\n',
     ["bad.toml:1: term #1 (新词): missing or empty 'family'"]),
    ('[[term]]\ncanonical = "新词"\ncategory = "signal"\nfamily = "x"\nfp_risk = "huge"\n',
     ["fp_risk 'huge' is not one of low, medium, high"]),
    ('[[term]]\ncanonical = "新词"\ncategory = "signal"\nfamily = "x"\nvariants = "旧词"\n',
     ["'variants' must be a list of non-empty strings"]),
    ('# a comment\n\n[[term]]\ncanonical = "停息掛帳"\ncategory = "signal"\nfamily = "x"\n',
     ["bad.toml:3: term '停息掛帳': conflicting categories: '停息掛帳' is signal here but level2_term in '停息挂账'",
      "both normalize to '停息挂账'"]),
    ('[[term]]\ncanonical = "征信修复"\ncategory = "level1_term"\nfamily = "x"\n',
     ["duplicate: '征信修复' is already listed in '征信修复' at lexicon/data/terms.toml:"]),
    ('[[term]]\ncanonical = "新词一"\ncategory = "signal"\nfamily = "x"\nvariants = ["新 词 一"]\n',
     ["variant '新 词 一' repeats '新词一'"]),
    ('[[term]]\ncanonical = "好!"\ncategory = "signal"\nfamily = "x"\n',
     ["'好!' normalizes to '好', too short to match"]),
    ('[term]\ncanonical = "x"\n', ["'term' must be an array of tables"]),
    ('[[term]]\ncanonical = "新词"\ncategory = "signal"\nfamily = "x"\n[meta]\nversion = 1\n',
     ["unknown top-level key 'meta'"]),
    ('[[term]\ncanonical = "x"\n', ["bad.toml: not valid TOML"]),
]


@pytest.mark.parametrize(("body", "messages"), BAD_FILES)
def test_bad_lexicon_files_are_refused_with_located_errors(tmp_path, body, messages):
    path = write(tmp_path, "bad.toml", body)
    with pytest.raises(LexiconError) as info:
        load_terms([path])
    for message in messages:
        assert message.replace("bad.toml", str(path)) in str(info.value)


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path, "bad.toml", '[[term]]\ncanonical = "甲乙"\ncategory = "sig"\nfamily = "x"\n\n'
                                       '[[term]]\ncanonical = "丙丁"\ncategory = "signal"\nfamily = "x"\nkind = 1\n')
    with pytest.raises(LexiconError) as info:
        load_terms([path])
    assert len(info.value.problems) == 2
    assert f"{path}:1:" in info.value.problems[0] and f"{path}:6:" in info.value.problems[1]


# ---- CLI


def test_cli_check_ok_and_errors(tmp_path):
    good = write(tmp_path, "good.toml", '[[term]]\ncanonical = "债务重整师"\ncategory = "impersonation"\nfamily = "legal_worker"\n')
    bad = write(tmp_path, "bad.toml", '[[term]]\ncanonical = "征信修复"\ncategory = "signal"\nfamily = "x"\nwho = 1\n')
    proc = run_cli("lexicon", "check", str(good))
    assert proc.returncode == 0, proc.stderr
    assert f"ok: {len(LEX.terms) + 1} terms" in proc.stderr
    proc = run_cli("lexicon", "check", str(good), str(bad))
    assert proc.returncode == 1
    assert "2 problems" in proc.stderr and "unknown key 'who'" in proc.stderr
    assert "conflicting categories" in proc.stderr


def test_cli_scan_jsonl_in_order_with_errors(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "專業徵信修復，加V：zxxf2026", "platform": "weibo"}, ensure_ascii=False)
                   + "\n{broken\n" + json.dumps({"id": 3, "text": "今天天气真好"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = run_cli("lexicon", "scan", "--input", str(src), "--output", str(out))
    assert proc.returncode == 1
    rows = json_lines(out.read_text(encoding="utf-8"))
    assert [r.get("id") for r in rows] == ["a", None, 3]
    assert rows[0]["platform"] == "weibo"
    assert [(m["term"], m["view"], m["start"], m["end"]) for m in rows[0]["matches"]] == [("征信修复", "strict", 2, 6),
                                                                                        ("加微信", "strict", 7, 9)]
    assert rows[0]["contacts"] == [{"type": "wechat", "value": "zxxf2026", "start": 10, "end": 18, "raw": "zxxf2026"}]
    assert "malformed JSON" in rows[1]["error"] and rows[1]["line"] == 2
    assert rows[2]["matches"] == [] and rows[2]["contacts"] == []
    assert "scanned 2 records" in proc.stderr


def test_cli_scan_plain_text_stdin_with_extra_lexicon(tmp_path):
    team = write(tmp_path, "team.toml", '[[term]]\ncanonical = "债务重整师"\ncategory = "impersonation"\nfamily = "legal_worker"\n')
    proc = run_cli("lexicon", "scan", "--lexicon", str(team), input="债务重整师 txgz\n")
    assert proc.returncode == 0, proc.stderr
    (row,) = json_lines(proc.stdout)
    assert [m["term"] for m in row["matches"]] == ["债务舒缓", "债务重整师", "停息挂账"]


def test_cli_scan_with_a_bad_lexicon_fails_clearly(tmp_path):
    bad = write(tmp_path, "bad.toml", "[[term]]\ncanonical = 1\n")
    proc = run_cli("lexicon", "scan", "--lexicon", str(bad), input="x\n")
    assert proc.returncode == 2
    assert "missing or empty 'canonical'" in proc.stderr
