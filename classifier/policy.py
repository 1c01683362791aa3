"""Tiering policy: lexicon evidence (and, when present, a model probability) -> tier, score, reasons.

Tiers follow the NIFA guideline 《互联网金融从业机构应对异常维权指南》:
level1 = the content lists a level-1 expression (专业反催收, 逾期铲单, 代理免除债务, 提前全额退保,
征信修复/洗白/铲单) or the poster impersonates legal workers, police, judiciary or regulators;
level2 = level-2 expressions (停息挂账, 延期定制, 负债上岸, 债务优化, 个性化分期, 代理退保,
追讨投资损失) or unverified win-rate claims. Warning cues (警惕, 骗局, 通告 ...) mark the news and
regulator notices that use the very same words, and pull the score down.
"""

from __future__ import annotations

from dataclasses import dataclass

from lexicon import ScanResult

#: Above this the post is actionable.
THRESHOLD = 0.5

_IMPERSONATION_REASON = {
    "legal_worker": "level1: impersonates legal workers",
    "regulator": "level1: fake regulator policy",
    "insider": "level1: claims insider channels",
}


@dataclass(frozen=True)
class Tiering:
    tier: str
    score: float
    reasons: list[str]


def tier(scan: ScanResult, model_probability: float | None = None) -> Tiering:
    """Tier one scanned text; ``model_probability`` (P(ad)) replaces the lexicon score when given."""
    by_category: dict[str, list] = {}
    for m in scan.matches:
        by_category.setdefault(m.category, []).append(m)

    def terms(category: str) -> list[str]:
        return list(dict.fromkeys(m.term for m in by_category.get(category, [])))

    level1, level2 = terms("level1_term"), terms("level2_term")
    impersonation = list(dict.fromkeys(m.family for m in by_category.get("impersonation", [])))
    claims = terms("claim")
    signals = terms("signal") + terms("loan_slang")
    warnings = terms("warning_cue")
    legit = terms("legit_context")
    contacts = scan.contacts

    reasons = [f"level1: {t}" for t in level1]
    reasons += [_IMPERSONATION_REASON.get(f, f"level1: impersonation ({f})") for f in impersonation]
    reasons += [f"level2: {t}" for t in level2]
    reasons += ["level2: win-rate promise" for _ in claims[:1]]
    if contacts:
        reasons.append("contact hand-off: " + ", ".join(sorted({c.type for c in contacts})))

    evidence = 0.0
    evidence += 0.45 if level1 else 0.0
    evidence += 0.4 if level2 else 0.0
    evidence += 0.25 if impersonation and (level1 or level2) else 0.0
    evidence += 0.2 if claims else 0.0
    evidence += 0.2 if contacts and (level1 or level2 or claims) else 0.0
    evidence += 0.1 if signals else 0.0
    # News, police and regulator warnings use the ads' own words; without a hand-off they are not ads.
    if warnings:
        evidence -= 0.5 if not contacts else 0.2
    if legit and not (level1 or level2):
        evidence -= 0.3
    score = min(1.0, max(0.0, evidence)) if model_probability is None else model_probability

    if score < THRESHOLD or not (level1 or level2 or impersonation or claims or model_probability is not None):
        return Tiering("none", round(score, 4), [f"warning context: {', '.join(warnings)}"] if warnings else [])
    if level1 or (impersonation and (level2 or claims)):
        return Tiering("level1", round(score, 4), reasons or ["level1: model"])
    return Tiering("level2", round(score, 4), reasons or ["level2: model"])
