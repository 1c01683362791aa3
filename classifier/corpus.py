"""The authored training corpus: generated from hand-written seeds, individually written posts, junk.

Every record is written here (classifier/data/seeds.yaml holds the phrase banks, templates and
hand-written posts; classifier/data/written/*.jsonl the individually written posts in the real
styles, one file per writer and style); nothing is harvested. Records carry their provenance: the
generator (family) and template that made them, the evasion moves applied, or ``hand-written``
with the writer, style and kind. Generated out-of-domain lines (classifier/junk.py) are ``none``.

Splits hold out whole templates so the test figures measure generalization to unseen post
shapes: in every family with three or more templates the last template only feeds ``test``, and
about 15% of each phrase bank (never its first three entries) only appears in test records.
``dev`` is a random tenth of the training templates' records (in-distribution). Written posts
are split by a hash of their comment thread (whole threads stay together) or of their text:
about 15% test and 10% dev, which also serves as the held-out set the ensemble is calibrated on.

Rebuild with ``python -m classifier.corpus`` (deterministic for a given seed).
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from .evasion import obfuscate
from .junk import KINDS, junk_line

DATA_DIR = Path(__file__).resolve().parent / "data"
SEEDS_PATH = DATA_DIR / "seeds.yaml"
WRITTEN_DIR = DATA_DIR / "written"
#: Generated out-of-domain none records (emoji, chatter, numbers, URLs, mentions, English, bytes).
JUNK_RECORDS = 700
#: Percent of written posts (by thread or text hash) held out for test, and for dev.
WRITTEN_TEST_PCT = 15
WRITTEN_DEV_PCT = 10
SPLITS = ("train", "dev", "test")
LABELS = ("none", "level1", "level2")
#: Records per family before evasion variants: ads and negatives are roughly balanced overall.
AD_QUOTA = 190
NEGATIVE_QUOTA = 250
#: Share of records that also get an obfuscated variant.
EVASION_RATE = 0.35
_PLACEHOLDER = re.compile(r"\{([a-z_0-9]+)\}")
_ID_STEMS = ("zx", "debt", "fw", "shangan", "lvshi", "help", "tb", "baoxian", "xyk", "fz", "wq", "law", "an", "hui")


@dataclass
class Record:
    """One corpus record with its provenance."""

    id: str
    text: str
    label: str
    split: str
    platform: str
    style: str
    source: str  # generated | hand-written
    generator: str
    template: str
    evasions: list[str] = field(default_factory=list)
    writer: str = ""
    kind: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def load_seeds(path: Path = SEEDS_PATH) -> dict:
    """The seed file as a dict (banks, fill, families, handwritten)."""
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def key_phrases(seeds: dict) -> list[str]:
    """Short service and topic phrases: the words an evasive ad hides (longest first)."""
    phrases = {
        entry
        for name, entries in seeds["banks"].items()
        if name.startswith(("svc_", "topic_", "actor_", "claim"))
        for entry in entries
        if "{" not in entry and 2 <= len(entry) <= 6
    }
    return sorted(phrases, key=lambda p: (-len(p), p))


def is_test_only(bank: str, index: int, entry: str) -> bool:
    """About 15% of a bank's entries (never the first three) appear only in test records."""
    return index >= 3 and zlib.crc32(f"{bank}:{entry}".encode()) % 100 < 15


class Expander:
    """Fills a template's {placeholders} from the phrase banks and fillers."""

    def __init__(self, seeds: dict, rng: random.Random, test: bool):
        self.rng = rng
        self.fill = seeds["fill"]
        self.banks = {
            name: [e for i, e in enumerate(entries) if test or not is_test_only(name, i, e)]
            for name, entries in seeds["banks"].items()
        }
        self.used: list[str] = []

    def expand(self, template: str, depth: int = 0) -> str:
        if depth > 4:
            raise ValueError(f"placeholders nest too deep in {template!r}")
        return _PLACEHOLDER.sub(lambda m: self.expand(self._value(m.group(1)), depth + 1), template)

    def _value(self, name: str) -> str:
        rng = self.rng
        if name in self.banks:
            entry = rng.choice(self.banks[name])
            self.used.append(entry)
            return entry
        if name in self.fill:
            return rng.choice(self.fill[name])
        if name == "wx":
            stem = rng.choice(_ID_STEMS)
            return stem + rng.choice(("", "_", "-")) + str(rng.randint(10, 99999))
        if name == "phone":
            digits = f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}"
            sep = rng.choice(("", "", " ", "-"))
            return digits if not sep else sep.join((digits[:3], digits[3:7], digits[7:]))
        if name == "qq":
            return str(rng.randint(10**6, 4 * 10**9))
        if name == "n":
            return str(rng.randint(2, 9))
        if name == "amount":
            return rng.choice((f"{rng.randint(2, 90)}万", f"{rng.randint(2, 9)}.{rng.randint(1, 9)}万", f"{rng.randint(3, 9)}000元"))
        if name == "pct":
            return f"{rng.choice((20, 30, 40, 50))}%"
        if name == "years":
            return str(rng.randint(2, 6))
        if name == "months":
            return str(rng.randint(1, 12))
        if name == "count":
            return str(rng.randint(12, 980))
        raise ValueError(f"unknown placeholder {{{name}}}")


def stylize(text: str, platform: str, label: str, seeds: dict, rng: random.Random) -> str:
    """Dress a post in its platform's habits; ads and negatives get them alike, so style is no label."""
    banks = seeds["banks"]
    tags = banks["hashtag_ad"] if (label != "none") != (rng.random() < 0.3) else banks["hashtag_neg"]
    if platform in ("douyin", "kuaishou", "xiaohongshu") and rng.random() < 0.45:
        text += " " + " ".join(rng.sample(tags, rng.randint(1, 3)))
    if platform == "kuaishou" and rng.random() < 0.3:
        text = rng.choice(("老铁们，", "家人们，", "兄弟们，")) + text
    if platform == "xiaohongshu" and rng.random() < 0.3:
        text = rng.choice(("姐妹们，", "宝子们，", "集美们！")) + text
    if platform == "weibo" and rng.random() < 0.25:
        text = f"#{rng.choice(banks['topic_term'])}# " + text
    if platform == "bilibili" and rng.random() < 0.3 and "，" in text:
        text = text.replace("，", "|", 1)
    if platform == "tieba" and rng.random() < 0.3:
        text = rng.choice(("楼主", "本人", "求助贴：")) + text if rng.random() < 0.5 else text + "，顶一下"
    if platform == "zhihu" and rng.random() < 0.25 and not text.startswith("谢邀"):
        text = rng.choice(("谢邀，", "利益相关，", "说点实在的，")) + text
    # Punctuation jitter: people type commas, spaces and bangs interchangeably.
    return re.sub("，", lambda m: rng.choice(("，", "，", "，", " ", "！", "、", ",")), text)


def dedupe_key(text: str) -> str:
    """Texts equal up to width, case, spacing and punctuation count as one."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if unicodedata.category(c)[0] in "LN")


def generate(seed: int = 20240417, seeds: dict | None = None) -> list[Record]:
    """The whole corpus, deterministic for ``seed``."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    seeds = seeds or load_seeds()
    phrases = key_phrases(seeds)
    rng = random.Random(seed)
    seen: set[str] = set()
    records: list[Record] = []

    def add(record: Record) -> bool:
        k = dedupe_key(record.text)
        if not k or k in seen:
            return False
        seen.add(k)
        records.append(record)
        return True

    for hand in seeds["handwritten"]:
        number = len(records)
        add(Record(f"h-{number:05d}", hand["text"], hand["label"], hand["split"], hand.get("platform", "any"),
                   "hand-written", "hand-written", "hand-written", "hand-written"))

    for post in read_written():
        writer, style = str(post["writer"]), str(post["style"])
        add(Record(f"w-{len(records):05d}", post["text"], post["label"], written_split(post),
                   str(post.get("platform", "any")), style, "hand-written", f"written:{writer}",
                   f"written:{writer}_{style}" + (f"#{post['thread']}" if post.get("thread") else ""),
                   writer=writer, kind=str(post.get("kind", ""))))

    junk_rng = random.Random(seed + 1)
    for number in range(JUNK_RECORDS):
        kind = KINDS[number % len(KINDS)]
        split = "dev" if number % 10 == 0 else "train"  # the test split's junk is the content-gate test's seeded set
        add(Record(f"j-{len(records):05d}", junk_line(junk_rng, kind), "none", split, "any", "junk",
                   "generated", "junk", f"junk:{kind}"))

    for family in seeds["families"]:
        templates = family["templates"]
        quota = NEGATIVE_QUOTA if family["label"] == "none" else AD_QUOTA
        per_template = max(1, quota // len(templates))
        for t_index, template in enumerate(templates):
            held_out = len(templates) >= 3 and t_index == len(templates) - 1
            made = attempts = 0
            while made < per_template and attempts < per_template * 8:
                attempts += 1
                expander = Expander(seeds, rng, test=held_out)
                platform = rng.choice(family["platforms"])
                text = stylize(expander.expand(template), platform, family["label"], seeds, rng)
                if family.get("script") == "traditional":
                    text = s2t.convert(text)
                split = "test" if held_out else ("dev" if rng.random() < 0.1 else "train")
                base = Record(f"g-{len(records):05d}", text, family["label"], split, platform, family["style"],
                              "generated", family["id"], f"{family['id']}#{t_index}")
                if not add(base):
                    continue
                made += 1
                if rng.random() < EVASION_RATE:
                    hidden = [u for u in expander.used if 2 <= len(u) <= 6]
                    variant, moves = obfuscate(text, hidden + phrases, rng)
                    add(Record(f"g-{len(records):05d}", variant, base.label, split, platform, base.style,
                               "generated", base.generator, base.template, moves))
    return records


def written_split(post: dict) -> str:
    """train / dev / test for a written post: a whole comment thread goes one way."""
    key = f"thread:{post['writer']}:{post['thread']}" if post.get("thread") else post["text"]
    bucket = zlib.crc32(key.encode("utf-8")) % 100
    return "test" if bucket < WRITTEN_TEST_PCT else "dev" if bucket < WRITTEN_TEST_PCT + WRITTEN_DEV_PCT else "train"


def read_written(directory: Path = WRITTEN_DIR) -> list[dict]:
    """The individually written posts, file by file in name order; lines that do not parse are skipped."""
    posts = []
    for path in sorted(directory.glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    post = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a writer's file may end in a half-written line while it grows
                if isinstance(post, dict) and isinstance(post.get("text"), str) and post["text"].strip() \
                        and post.get("label") in LABELS:
                    post.setdefault("writer", path.stem.split("_", 1)[0])
                    post.setdefault("style", path.stem.split("_", 1)[-1])
                    posts.append(post)
    return posts


def write_splits(records: Iterable[Record], out_dir: Path = DATA_DIR) -> dict[str, int]:
    """Write train/dev/test JSON Lines; returns the record count per split."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    handles = {s: open(out_dir / f"{s}.jsonl", "w", encoding="utf-8", newline="\n") for s in SPLITS}
    try:
        for record in records:
            handles[record.split].write(record.to_json() + "\n")
            counts[record.split] += 1
    finally:
        for handle in handles.values():
            handle.close()
    return dict(counts)


def read_split(name: str, data_dir: Path = DATA_DIR) -> list[dict]:
    """The records of one bundled split."""
    return list(read_jsonl(data_dir / f"{name}.jsonl"))


def read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def diversity(records: list[Record], ngram: int = 3) -> dict:
    """Corpus diversity figures: template spread, distinct character n-grams, labels, evasions."""
    templates = Counter(r.template for r in records if r.source == "generated")
    grams: Counter[str] = Counter()
    for r in records:
        key = dedupe_key(r.text)
        grams.update(key[i:i + ngram] for i in range(len(key) - ngram + 1))
    top_template, top_count = templates.most_common(1)[0]
    written = [r for r in records if r.writer]
    lengths = sorted(len(r.text) for r in records)
    return {
        "records": len(records),
        "labels": dict(Counter(r.label for r in records)),
        "splits": dict(Counter(r.split for r in records)),
        "generators": len({r.generator for r in records}),
        "templates": len(templates),
        "held_out_templates": len({r.template for r in records if r.split == "test" and r.source == "generated"}),
        "max_template_share": round(top_count / len(records), 4),
        "max_template": top_template,
        "hand_written": sum(r.source == "hand-written" for r in records),
        "written": {
            "total": len(written),
            "by_style": dict(sorted(Counter(r.style for r in written).items())),
            "by_style_label": {f"{s}/{label}": n for (s, label), n in sorted(Counter((r.style, r.label) for r in written).items())},
            "by_writer": dict(sorted(Counter(r.writer for r in written).items())),
            "by_kind": dict(sorted(Counter(r.kind for r in written).items())),
            "splits": dict(Counter(r.split for r in written)),
        },
        "junk": sum(r.style == "junk" for r in records),
        "with_evasions": sum(bool(r.evasions) for r in records),
        "evasion_moves": dict(Counter(m for r in records for m in r.evasions)),
        "platforms": dict(Counter(r.platform for r in records)),
        f"distinct_char_{ngram}grams": len(grams),
        f"distinct_{ngram}gram_ratio": round(len(grams) / max(1, sum(grams.values())), 4),
        "length_chars": {"min": lengths[0], "median": lengths[len(lengths) // 2], "max": lengths[-1]},
    }


def demo_overlap(records: list[Record], demo_texts: list[str], threshold: float = 0.5) -> list[str]:
    """Ids of records too close (character-trigram Jaccard) to a demo post; the demo is a sanity check."""

    def grams(text: str) -> set[str]:
        k = dedupe_key(text)
        return {k[i:i + 3] for i in range(len(k) - 2)}

    demo = [grams(t) for t in demo_texts]
    close = []
    for r in records:
        g = grams(r.text)
        if any(g and d and len(g & d) / len(g | d) >= threshold for d in demo):
            close.append(r.id)
    return close


def main() -> None:
    """Regenerate classifier/data/{train,dev,test}.jsonl and corpus_stats.json."""
    from grayscan.demo import demo_posts

    records = generate()
    close = set(demo_overlap(records, [p.text for p in demo_posts()]))
    records = [r for r in records if r.id not in close]
    counts = write_splits(records)
    stats = diversity(records)
    stats["dropped_close_to_demo"] = len(close)
    (DATA_DIR / "corpus_stats.json").write_text(json.dumps(stats, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"written": counts, **stats}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
