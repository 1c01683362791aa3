"""Tiering policy: lexicon evidence plus the model's probabilities -> tier, score, reasons.

Tiers follow the NIFA guideline 《互联网金融从业机构应对异常维权指南》:
level1 = the content lists a level-1 expression (专业反催收, 逾期铲单, 代理免除债务, 提前全额退保,
征信修复/洗白/铲单) or the poster impersonates legal workers, police, judiciary or regulators;
level2 = level-2 expressions (停息挂账, 延期定制, 负债上岸, 债务优化, 个性化分期, 代理退保,
追讨投资损失) or unverified win-rate claims.

Three rules come first. The content gate: a text with no finance content (no finance lexicon term in
any normalized view, no money vocabulary in the canonical text) is none, "no finance content",
whatever a model says — emoji, chatter, numbers, URLs, mentions, other languages, noise.
Promotional framing: a guideline expression (or a claim pattern) framed as an offer — a price, a
guarantee, an offer to do it for the reader, "we / our team", a hand-off or contact — is actionable;
the model may overrule that only where the text has warning, news, victim or official context
(a reason says so), and a victim's or critic's word does not overrule a post that solicits.
Impersonation needs the poster to speak as the authority: a story that sends readers to a law firm
is level 2. The tier is the guideline's list (level-1 terms and claim patterns, impersonation);
the models find actionable posts but do not make one level 1 by themselves.

Otherwise whether a post is actionable is the model's call: news, police and regulator warnings
use the very words ads use, and many ads avoid them. The lexicon nudges the model's log-odds (a
hand-off next to guideline terms pushes up; warning cues without a hand-off and non-finance
contexts push down), picks the tier, and supplies the reasons (impersonation
cited by the authority impersonated: "level1: impersonates police").
Without a model, the lexicon-only score below is the baseline ``grayscan eval`` compares against.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from lexicon import ScanResult

#: At or above this the post is actionable.
THRESHOLD = 0.5

#: The guideline's impersonation criterion, cited per lexicon impersonation family.
_IMPERSONATION_REASON = {
    "legal_worker": "level1: impersonates legal workers",
    "regulator": "level1: impersonates regulators",
    "government": "level1: impersonates party/government organs",
    "police": "level1: impersonates police",
    "judiciary": "level1: impersonates the judiciary",
    "insider": "level1: impersonates insiders (claims insider channels)",
    "financial_institution": "level1: impersonates financial institutions",
}
#: Money vocabulary of the canonical (simplified, case-folded) text. A text with none of it and no
#: lexicon term is out of scope (emoji, chatter, bare numbers, URLs, mentions, other languages,
#: noise): tier none, "no finance content", whatever a model would say about it.
FINANCE_WORDS = re.compile(
    "贷|债|欠|借|逾期|征信|信用|信贷|银行|保险|保单|保费|退保|理赔|还款|还钱|还清|催收|催款|分期|利息|息费|停息|免息|罚息"
    "|本金|额度|账单|挂账|网贷|花呗|借呗|白条|上岸|协商|法务|律师|律所|法院|起诉|诉讼|执行|失信|投顾|投资|理财|股票|基金"
    "|金融|财务|破产|卡数|退费|退款|维权|赔偿|追回|损失|收费|费用|手续费|服务费|佣金|保证金|转账|(?<![a-z])(?:iva|drp)(?![a-z])|[0-9]+万"
    "|退[了回个款费保]|违约金|减免|不良记录|结清|付费|花钱|申诉|刑事|人寿|寿险|用卡|年费|[0-9]+%"
    # The credit reference database by its official name (金融信用信息基础数据库) and its keeper.
    "|基础数据库|信用数据库|央行"
)
#: Lexicon categories that are finance content by themselves (they also match pinyin and homophones).
FINANCE_CATEGORIES = ("level1_term", "level2_term", "impersonation", "claim", "loan_slang")
#: Promotional framing around a guideline expression: a price, a guarantee, an offer to do it for the
#: reader, or the poster's team. Contacts, hand-offs and win-rate claims count too (from the lexicon).
PROMO_FRAMES = {
    "price": re.compile(r"收费|费用|手续费|服务费|零费用|[0-9]+(?:元|块|千|k)|每条|一条|报价|价格|优惠|定金|先办后付|后付费"),
    "guarantee": re.compile(r"保证|包过|包成功|包办|百分百|100%|成功率|确保|承诺|永不|不成功|必过|秒过|稳过|无损失"),
    "offer": re.compile(r"帮你|帮您|为你|为您|替你|替您|给你(?:处理|办)|代办|可办|可以办|可做|能做|快速|当天|一对一"
                        r"|帮忙(?:协商|处理|办|申请|谈)|一条龙|免费咨询|在线|找我|联系我|私我|滴滴|戳我|扣1|名额|有需要|需要的(?:朋友|私|滴|找|联系)"),
    "team": re.compile(r"我们|我司|本公司|本司|我公司|本团队|我这边|本机构|本所|工作室|(?:帮|替)客户|有[个位]客户"),
}
#: A line this short that names a guideline service and asks nothing states it: an ad's slogan or title.
STATEMENT_CHARS = 30
_QUESTION = re.compile(r"[?？]|吗|呢|怎么|如何|是否|是不是|真的假的|靠谱|能不能|有没有|多少|哪")
#: Critical or self-help stance (scam talk, reports, do-it-yourself): context the model may overrule framing with.
_CRITICAL = re.compile(r"骗|坑|假的|举报|别信|莫信|不要信|别找|落网|判刑|活该|封了|拦不住|官方|自己(?:打|去|申请|办|谈)"
                       r"|不用(?:找|给|花)|没有任何|根本没有|智商税"
                       r"|[须需]注意|务必注意|提防")
#: A report's marks: talk about the ads themselves (an ad does not call itself one), footnote markers.
_REPORT = re.compile(r"广告|宣传口号|\[[0-9]{1,3}\]")
#: Hand-off wordings the lexicon's signal list does not hold: "点击客服头像", "看我主页", "打这个电话".
HANDOFF = re.compile(r"点击?[^,.;!?:。，！？]{0,4}头像|看我?(?:的)?主页|主页(?:有|见|联系)|私我|滴滴我|戳我|打这个电话|扣1")
#: The poster speaks of its own clients ("帮客户处理退费", "有个客户用这招"): an agency's voice.
CLIENTS = re.compile(r"(?:帮|替)客户|有[个位]客户|我们?的?客户")
#: Rights-defense talk: debts, refunds, recovery (what an agency's contact line is for).
RIGHTS_DEFENSE = re.compile(r"维权|追回|挽回|追讨|退费|退款|退保|协商|债务|停息|减免")
_ERASE = "消除|删除|清除|撤销|铲除|抹掉|洗掉|删掉|消掉|去掉"
_RECORDS = "记录|数据|逾期|征信|黑名单|不良"
#: General wordings of guideline claims that no fixed lexicon term covers (the paraphrase families of
#: issue 10), read in the canonical text: (tier, what the post claims, pattern).
CLAIM_PATTERNS = (
    ("level1", "erases records", re.compile(
        rf"(?:{_ERASE})[^,.;!?:。，！？]{{0,8}}?(?:{_RECORDS})|(?:{_RECORDS})[^,.;!?:。，！？]{{0,4}}(?:{_ERASE})")),
    ("level1", "never sued or collected", re.compile(r"(?:永不|保证不|绝不|不会再)被?(?:起诉|催收|上门)|不起诉[,、 ]?不催收")),
    ("level1", "repairs credit records", re.compile(
        r"(?:征信|黑户|(?:逾期|不良|信用)记录)[^,.;!?:。，！？]{0,5}(?:修复|洗白|白回来|恢复正常)"
        r"|修复[^,.;!?:。，！？]{0,3}(?:征信|记录)|(?:申诉|异议)修复")),
    ("level1", "full premium refund", re.compile(
        r"(?:全额|全部)[^,.;!?:。，！？]{0,2}(?:保费|退保)|退全额保费|(?:保险|保单|人寿|寿险)[^,.;!?:。，！？]{0,4}全额退")),
    ("level1", "connections in courts or regulators",
     re.compile(r"(?:高院|法院|人行|人民银行|银保监|监管|公安)[^,.;!?:。，！？]{0,4}(?:关系|有人)")),
    ("level2", "recovery-rate claim", re.compile(r"(?:退|追回|拿回|要回|返还|赔)[^,.;!?:。，！？0-9]{0,4}[0-9]{2,3}(?:\.[0-9])?%")),
    ("level2", "discounted settlement", re.compile(r"[0-9.]+折(?:结清|还|清)|(?:只还|还)本金(?:就能|即可)?结清")),
    ("level2", "handles any case", re.compile(
        r"(?<!自己)(?:都能|也能|照样能|通通都?能|统统都?能)(?:退|处理|办|上岸|结清)|退[^,.;!?:。，！？]{0,6}(?:不是问题|没问题|不成问题)")),
    ("level2", "fee after success", re.compile(
        r"先[^,.;!?:。，！？]{1,4}后(?:付费|收费|付款)|(?:成功|追回|退回|到账|下来)后?再?(?:付费|收费|付款|结算)")),
    ("level2", "recovered or recoverable losses", re.compile(
        r"(?:已经?|成功|全额|全部|就能|都能|帮[你您我])[^,.;!?:。，！？]{0,4}(?:追回|挽回|拿回|要回|追讨)"
        r"|(?:追|挽|拿|要|退)回来了|(?:追回|挽回|拿回|要回)(?:了|大部分|全部|[0-9]+)")),
)
#: Warning cues that are a stance, not a report: a victim's or a critic's word, which soft articles use too.
STANCE_CUES = frozenset({"被骗", "上当受骗", "声称", "套路", "陷阱", "坑"})
#: Recovering scam losses is a service's name (追讨投资损失), not a victim speaking.
_RECOVER_SCAM_LOSSES = re.compile(r"(?:追回|挽回|拿回|要回|追讨)被骗")
_SENTENCE = re.compile(r"[。]")
#: The poster speaks as a legal team without a listed title: "我们的法务", "我司律师", "本所法务部".
SPEAKS_AS_LEGAL_TEAM = re.compile(r"(?:我们|我司|本所|我所|本公司|我公司|本团队|我方)(?:的|这边的?)?(?:专业)?(?:法务|律师|律所|法律团队)")
#: Where a claim pattern describes a lawful right: a refund of the whole premium in the cooling-off period.
_LAWFUL_CONTEXT = {"full premium refund": re.compile("犹豫期"), "recovered or recoverable losses": re.compile("犹豫期")}
#: Any quotation (bounded), for reading a post without what it quotes.
_QUOTE_SPAN = re.compile(r"[“\"「『‘'][^“”\"「」『』‘’']{1,300}[”\"」』’']")
#: A request to get in touch with the poster.
_REQUEST = re.compile(r"找我|联系我|有需要的|需要的(?:朋友|私|滴|找|联系)|欢迎咨询|免费咨询")
_QUOTED = re.compile(r"[“\"「『‘']([^“”\"「」『』‘’']{2,24})[”\"」』’']")
#: Log-odds nudges applied to the model's P(actionable); see the module docstring.
NUDGES = {
    "terms_with_contact": 1.0,
    "claim": 0.5,
    "hook": 0.4,
    "warning_without_contact": -1.5,
    "warning_with_contact": -0.5,
    "non_finance": -1.5,
    "bank_official": -0.7,
}


@dataclass(frozen=True)
class Tiering:
    tier: str
    score: float
    reasons: list[str]


@dataclass(frozen=True)
class Evidence:
    """What the lexicon found in one text, grouped the way the guideline reads."""

    level1: list[str]
    level2: list[str]
    impersonation: list[str]
    claims: list[str]
    hooks: list[str]
    handoffs: list[str]
    signals: list[str]
    warnings: list[str]
    non_finance: list[str]
    bank_official: list[str]
    contact_types: list[str]

    @classmethod
    def of(cls, scan: ScanResult, canonical: str | None = None) -> Evidence:
        """The evidence of one scan; with the canonical text, CLAIM_PATTERNS add level-1 and win-rate claims."""
        def terms(category: str, families: tuple[str, ...] | None = None) -> list[str]:
            return list(dict.fromkeys(
                m.term for m in scan.matches if m.category == category and (families is None or m.family in families)
            ))

        legit = [m for m in scan.matches if m.category == "legit_context"]
        # A hand-off (a personal number or account, "私我", "看主页") beside debt / refund / recovery talk is a
        # rights-defense agency's.
        personal = any(c.type in ("wechat", "qq", "telegram") or c.value.startswith("+861") for c in scan.contacts)
        handoff = personal or bool(canonical and HANDOFF.search(canonical))
        rights_defense = bool(canonical and RIGHTS_DEFENSE.search(canonical))
        agency = ["rights-defense service with a hand-off"] if handoff and rights_defense else []
        agency += ["rights-defense agency speaking of its clients"] if rights_defense and CLIENTS.search(canonical) else []
        patterns = [(level, claim) for level, claim, pattern in CLAIM_PATTERNS if canonical and pattern.search(canonical)
                    and not (claim in _LAWFUL_CONTEXT and _LAWFUL_CONTEXT[claim].search(canonical))]
        impersonation = [m.family for m in scan.matches if m.category == "impersonation"]
        impersonation += ["legal_worker"] if canonical and SPEAKS_AS_LEGAL_TEAM.search(canonical) else []
        return cls(
            level1=terms("level1_term") + [claim for level, claim in patterns if level == "level1"],
            level2=terms("level2_term") + agency,
            impersonation=list(dict.fromkeys(impersonation)),
            claims=terms("claim") + [claim for level, claim in patterns if level == "level2"],
            hooks=terms("signal", ("hook",)),
            handoffs=terms("signal", ("handoff",)),
            signals=terms("signal") + terms("loan_slang"),
            warnings=terms("warning_cue"),
            non_finance=list(dict.fromkeys(m.term for m in legit if m.family != "bank_official")),
            bank_official=list(dict.fromkeys(m.term for m in legit if m.family == "bank_official")),
            contact_types=sorted({c.type for c in scan.contacts}),
        )

    @property
    def guideline_terms(self) -> bool:
        return bool(self.level1 or self.level2 or self.impersonation or self.claims)

    def reasons(self, impersonating: bool = True) -> list[str]:
        """The guideline criteria the evidence meets, level1 first; ``impersonating=False``: the post only
        refers readers to the authorities it names (a level-2 soft article), it does not speak as them."""
        reasons = [f"level1: {t}" for t in self.level1]
        if impersonating:
            reasons += [_IMPERSONATION_REASON.get(f, f"level1: impersonation ({f})") for f in self.impersonation]
        reasons += [f"level2: {t}" for t in self.level2]
        if self.impersonation and not impersonating:
            reasons.append(f"level2: steers readers to {', '.join(self.impersonation)} services")
        reasons += ["level2: win-rate promise"] if self.claims else []
        reasons += ["contact hand-off: " + ", ".join(self.contact_types)] if self.contact_types else []
        return reasons


def has_finance_content(scan: ScanResult, canonical: str) -> bool:
    """Whether a text is about money at all: a finance lexicon term in any view, or money vocabulary."""
    return any(m.category in FINANCE_CATEGORIES for m in scan.matches) or bool(FINANCE_WORDS.search(canonical))


def promo_frames(ev: Evidence, canonical: str) -> list[str]:
    """The promotional framing a text puts around its guideline expressions (empty: none)."""
    frames = [name for name, pattern in PROMO_FRAMES.items() if pattern.search(canonical)]
    frames += ["service statement"] if 0 < len(canonical) <= STATEMENT_CHARS and not _QUESTION.search(canonical) else []
    frames += ["hand-off"] if ev.contact_types or ev.handoffs else []
    frames += ["win-rate claim"] if ev.claims else []
    return frames


def solicits(ev: Evidence, canonical: str) -> bool:
    """Whether the post asks the reader to come to the poster: a contact, a hand-off ("看主页", "私我") or
    a request to get in touch; what it quotes does not count (victims quote the offers they fell for)."""
    unquoted = _QUOTE_SPAN.sub(" ", canonical)
    return bool(ev.contact_types or HANDOFF.search(unquoted) or _REQUEST.search(unquoted))


def overrule_context(ev: Evidence, canonical: str, asks: bool) -> list[str]:
    """Warning, news, victim, report or official context: the only grounds on which the model may overrule framing.

    Reports and warnings put the ads' words in quotes ("所谓“征信修复”"); an ad states them. Victim and
    critical stance ("被骗", "声称", "坑") do not overrule a post that also solicits: testimonials and
    soft articles attack the others and then sell their own service. ``asks``: whether the post
    solicits (``solicits``).
    """
    # A quote around (nearly) the whole post is the post itself, not a report quoting an ad; a quote that
    # holds a full sentence is dialogue (a story's 「」 speech), not an ad's words held up for inspection.
    segments = [q for q in _QUOTED.findall(canonical) if len(q) < 0.6 * len(canonical) and not _SENTENCE.search(q)]
    quoted = [t for t in ev.level1 + ev.level2 + ev.claims if any(t in segment for segment in segments)]
    quoted += [claim for _, claim, pattern in CLAIM_PATTERNS if any(pattern.search(segment) for segment in segments)]
    # An offer or a price inside quotes ("「代办协商」") is the ads' wording held up, not the poster's own.
    quoted += [m.group(0) for segment in segments for pattern in PROMO_FRAMES.values() if (m := pattern.search(segment))]
    context = [f"warning/news context: {', '.join(ev.warnings)}"] if ev.warnings else []
    context += [f"quoted ad words: {', '.join(quoted)}"] if quoted else []
    critical = None if asks else _CRITICAL.search(_RECOVER_SCAM_LOSSES.sub("追回", canonical))
    context += [f"critical stance: {critical.group(0)}"] if critical else []
    report = None if asks else _REPORT.search(canonical)
    context += [f"report: {report.group(0)}"] if report else []
    context += [f"official channel: {', '.join(ev.bank_official)}"] if ev.bank_official else []
    context += [f"non-finance context: {', '.join(ev.non_finance)}"] if ev.non_finance else []
    return context


def tier(scan: ScanResult, probabilities: tuple[float, float, float] | None = None, canonical: str | None = None) -> Tiering:
    """Tier one scanned text; ``probabilities`` = the model's P(none, level1, level2), or None for lexicon only.

    ``canonical`` (the text's ``model_text``) enables the content gate, the claim patterns and the framing
    cues read in the text (without it only the lexicon's hand-offs and claims count as framing).
    """
    if canonical is not None and not has_finance_content(scan, canonical):
        return Tiering("none", 0.0, ["no finance content"])
    ev = Evidence.of(scan, canonical)
    asks = bool(canonical) and solicits(ev, canonical)  # reads contacts and text only: warnings may change below
    if canonical and ev.warnings and (asks or _RECOVER_SCAM_LOSSES.search(canonical)):
        # A victim's or critic's word is no warning in a post that solicits (see overrule_context), nor
        # where "被骗" names what a service recovers ("追回被骗损失").
        stance = STANCE_CUES if asks else {"被骗"}
        ev = replace(ev, warnings=[w for w in ev.warnings if w not in stance])
    frames = promo_frames(ev, canonical or "") if ev.guideline_terms else []
    if probabilities is None:
        score = lexicon_score(ev)
        actionable = score >= THRESHOLD and ev.guideline_terms
    else:
        score = combined_score(ev, probabilities[1] + probabilities[2])
        actionable = score >= THRESHOLD
    framing_reason = None
    if frames and not actionable and probabilities is not None:
        context = overrule_context(ev, canonical or "", asks)
        if context:
            reasons = [f"model overrules promotional framing ({', '.join(frames)}): {'; '.join(context)} "
                       f"(p none={probabilities[0]:.2f})"]
            return Tiering("none", round(score, 4), reasons + _none_reasons(ev, probabilities))
        # A guideline expression in promotional framing is actionable; the model alone cannot veto it.
        actionable, score = True, max(score, THRESHOLD)
        framing_reason = f"promotional framing: {', '.join(frames)}"
    score = round(score, 4)
    if not actionable:
        return Tiering("none", score, _none_reasons(ev, probabilities))
    _, p1, p2 = probabilities if probabilities else (0.0, 0.0, 0.0)
    # Naming a law firm or 法务 is not impersonating one: the poster must speak as it (an offer,
    # a hand-off, "we") or read level-1 to the model; a story that steers readers to one is level 2.
    impersonating = bool(ev.impersonation) and (
        probabilities is None or bool({"team", "offer", "hand-off"} & set(frames)))
    # Level 1 is the guideline's list: a level-1 expression (a listed term or a claim pattern) or
    # impersonation. The model finds the posts; it does not make one level 1 by itself.
    level = "level1" if ev.level1 or impersonating else "level2"
    reasons = ev.reasons(impersonating) + ([framing_reason] if framing_reason else [])
    if not any(r.startswith(level) for r in reasons):
        reasons.insert(0, f"{level}: model ({'level-1 pattern' if level == 'level1' else 'debt/insurance rights-defense promotion'}, p={max(p1, p2):.2f})")
    return Tiering(level, score, reasons)


def lexicon_score(ev: Evidence) -> float:
    """The lexicon-only score: guideline terms, hand-offs and claims add; warnings and legit contexts subtract."""
    evidence = 0.45 if ev.level1 else 0.0
    evidence += 0.4 if ev.level2 else 0.0
    evidence += 0.25 if ev.impersonation and (ev.level1 or ev.level2) else 0.0
    evidence += 0.2 if ev.claims else 0.0
    evidence += 0.2 if ev.contact_types and (ev.level1 or ev.level2 or ev.claims) else 0.0
    evidence += 0.1 if ev.signals else 0.0
    if ev.warnings:
        evidence -= 0.5 if not ev.contact_types else 0.2
    if (ev.non_finance or ev.bank_official) and not (ev.level1 or ev.level2):
        evidence -= 0.3
    return min(1.0, max(0.0, evidence))


def combined_score(ev: Evidence, p_actionable: float) -> float:
    """The model's P(actionable) with the lexicon's nudges added in log-odds."""
    p = min(max(p_actionable, 1e-4), 1 - 1e-4)
    z = math.log(p / (1 - p))
    contact = bool(ev.contact_types)
    if ev.guideline_terms and contact and not ev.warnings:
        z += NUDGES["terms_with_contact"]
    if ev.claims and not ev.warnings:
        z += NUDGES["claim"]
    if ev.hooks and not ev.warnings:
        z += NUDGES["hook"]
    if ev.warnings:
        z += NUDGES["warning_with_contact"] if contact else NUDGES["warning_without_contact"]
    if ev.non_finance and not (ev.level1 or ev.level2):
        z += NUDGES["non_finance"]
    if ev.bank_official and not contact:
        z += NUDGES["bank_official"]
    return 1 / (1 + math.exp(-z))


def _none_reasons(ev: Evidence, probabilities: tuple[float, float, float] | None) -> list[str]:
    reasons = [f"warning context: {', '.join(ev.warnings)}"] if ev.warnings else []
    reasons += [f"non-finance context: {', '.join(ev.non_finance)}"] if ev.non_finance else []
    reasons += [f"official channel: {', '.join(ev.bank_official)}"] if ev.bank_official else []
    if probabilities is not None and ev.guideline_terms:
        reasons.append(f"model: not a promotion (p={probabilities[0]:.2f})")
    return reasons
