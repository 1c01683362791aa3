"""Lexicon throughput: the full scan (all views + contacts) against raw Aho-Corasick and a naive loop.

All three run in one process over the same synthetic posts (about 200 characters, each carrying
evasions: traditional script, separators, homophones, pinyin, split characters, fancy digits) and the
same terms, so the printed ratios compare like with like. The posts are generated here from
templates; no real post is used.

    python benchmarks/lexicon_bench.py               # 2,000 posts, best of 5 rounds
    python benchmarks/lexicon_bench.py --profile     # plus the top of a cProfile of the full scan

Targets (issue 3): full scan >= 1 Mchar/s on one core, and within 20x of raw Aho-Corasick.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import time
from collections.abc import Callable

import ahocorasick_rs

from lexicon import Lexicon

FILLER = (
    "最近手头比较紧，信用卡和网贷加起来欠了不少，每天都有电话打过来，家里人也不知道该怎么办。"
    "看到很多人分享经验，说只要方法对了就能慢慢解决，所以想问问大家有没有靠谱的办法，"
    "今天天气不错，下班路上顺便买了点水果，晚上准备早点休息，明天还要继续上班。"
) * 3
EVASIONS = [
    "專業徵信修復", "停·息·挂·账", "征 信 修 复", "征xin修复", "zx修复", "txgz", "代理退葆", "亻责务优化",
    "停息卦账", "负债上案", "逾期鏟單", "全.额.退.保", "个性化\u200b分期", "反催收", "dai理退bao",
    "内部渠道", "律师事务所", "不成功不收费", "成功率１００％", "债务优化", "征❤信❤洗❤白",
]
CONTACTS = [
    "加V：zxxf2026", "电话 138 0013 8000", "薇信：hkdebt2026", "扣扣：2845671903", "电话一三九一二三四五六七八",
    "➕V：lixiaozhai88", "VX：zwyh-center", "t.me/debthelp", "联系①③⑧⓪⓪①③⑧⓪⓪⓪",
]


def make_posts(count: int, seed: int, length: int = 200) -> list[str]:
    """``count`` posts of ``length`` characters: filler with two evasions and a contact spliced in."""
    rng = random.Random(seed)
    posts = []
    for _ in range(count):
        pieces = [*rng.sample(EVASIONS, 2), rng.choice(CONTACTS)]
        body = "，".join(pieces) + "。"
        start = rng.randrange(len(FILLER) - length)
        filler = FILLER[start:start + length - len(body)]
        cut = rng.randrange(len(filler) + 1)
        posts.append(filler[:cut] + body + filler[cut:])
    return posts


def best_of(runs: int, works: list[Callable[[], int]]) -> list[tuple[float, int]]:
    """For each of ``works``: its fastest time over ``runs`` rounds and the hit count it returned.

    The works take turns within each round, so a burst of load from other jobs on a shared machine
    hits all of them alike; time is this process's CPU time, which waiting for a core does not add to.
    """
    best = [float("inf")] * len(works)
    hits = [0] * len(works)
    for _ in range(runs):
        for index, work in enumerate(works):
            start = time.process_time()
            hits[index] = work()
            best[index] = min(best[index], time.process_time() - start)
    return list(zip(best, hits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5, help="rounds; each times all three, best kept")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the full scan")
    args = parser.parse_args()

    posts = make_posts(args.posts, args.seed)
    chars = sum(map(len, posts))
    lex = Lexicon.default()
    forms = list(dict.fromkeys(f for t in lex.terms for f in t.forms))
    raw_ac = ahocorasick_rs.AhoCorasick(forms, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
    for post in posts[:50]:  # warm the character tables, as a long-running process would be
        lex.scan(post)

    def full_scan() -> int:
        hits = 0
        for post in posts:
            result = lex.scan(post)
            hits += bool(result.in_categories("level1_term", "level2_term", "impersonation", "claim"))
        return hits

    def raw() -> int:
        return sum(bool(raw_ac.find_matches_as_indexes(post)) for post in posts)

    def naive() -> int:
        return sum(any(form in post for form in forms) for post in posts)

    names = ["full scan (6 views + contacts)", "raw Aho-Corasick, unnormalized", "naive substring loop"]
    rows = [(name, *timing) for name, timing in zip(names, best_of(args.runs, [full_scan, raw, naive]))]
    full_time = rows[0][1]
    print(f"{len(posts)} posts, {chars / len(posts):.0f} chars each, {len(lex.terms)} terms / {len(forms)} forms; "
          f"best of {args.runs}")
    print(f"{'':34} {'posts/s':>10} {'Mchar/s':>9} {'vs full':>8}  posts with a term hit")
    for name, seconds, hits in rows:
        print(f"{name:34} {len(posts) / seconds:10,.0f} {chars / seconds / 1e6:9.2f} "
              f"{full_time / seconds:7.1f}x  {hits}/{len(posts)}")
    full_rate = chars / full_time / 1e6
    slowdown = full_time / rows[1][1]
    print(f"full scan: {full_rate:.2f} Mchar/s (target >= 1), {slowdown:.1f}x slower than raw AC (target <= 20x)")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(full_scan)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
