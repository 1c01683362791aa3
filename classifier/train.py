"""Train the classifier model: from scratch on the authored corpus, or fine-tune a local checkpoint.

One code path for both: ``base=None`` builds a WordPiece tokenizer (``tokenizers``) on the training
texts and a small BERT config; ``base=PATH_OR_ID`` loads that checkpoint's tokenizer and weights
(local files only) and puts a 3-way head on it. Extra labelled JSONL (reviewer decisions from
``grayscan queue export-labels``, or any records with ``text`` and ``label``) join the training set.
Training applies the evasion moves on the fly so each epoch sees fresh obfuscations.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .calibrate import Calibration
from .calibrate import fit as fit_calibration
from .corpus import DATA_DIR, key_phrases, load_seeds, read_jsonl
from .evasion import obfuscate
from .model import LABELS, MAX_LENGTH, TextModel, model_text, seen_share, set_threads
from .ngram import NgramModel
from .ngram import fit as ngram_fit

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


class TrainingError(ValueError):
    """Unusable training input; the message names the file and line."""


@dataclass
class TrainConfig:
    """Knobs of one training run; the defaults build the shipped model (about 5,700 records x 4 epochs:
    generated template records thinned to 15%, written posts repeated 3 times; 6-10 minutes on 2 cores).

    The shape is small on purpose: on the held-out templates 2 layers × 128 scored as well as 3 × 256
    at three times the speed, which the crawl pipeline needs to keep up with Scrapy."""

    epochs: int = 4
    batch_size: int = 32
    learning_rate: float = 5e-4
    base_learning_rate: float = 5e-5
    warmup: float = 0.06
    weight_decay: float = 0.01
    seed: int = 20240417
    vocab_size: int = 6000
    hidden_size: int = 128
    layers: int = 2
    heads: int = 2
    intermediate_size: int = 256
    augment: float = 0.35
    #: Share of texts given a title echoing their start, as the crawler joins a title and its text.
    title_echo: float = 0.15
    max_steps: int | None = None
    limit: int | None = None
    threads: int = 2
    extra_weight: int = 3
    written_weight: int = 3
    #: Share of generated template records kept (junk and written posts are always kept). Thinned to
    #: 15% the templates' shapes weigh less: real dev F1 0.924-0.929 over two seeds against 0.916-0.920
    #: with all of them (docs/classifier.md, models tried).
    template_share: float = 0.15


@dataclass
class TrainReport:
    """What a run did: sizes, time, and dev metrics per epoch."""

    output: str
    base: str | None
    train_records: int
    extra_records: int
    steps: int
    seconds: float
    dev: list[dict] = field(default_factory=list)
    calibration: dict = field(default_factory=dict)


def read_labelled(path: str | Path) -> list[dict]:
    """Records with ``text`` and ``label`` (level1 | level2 | none) from a JSONL file; bad lines are errors."""
    records = []
    try:
        handle = open(path, encoding="utf-8-sig")
    except OSError as exc:
        raise TrainingError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TrainingError(f"{path}:{number}: malformed JSON: {exc.msg}") from exc
            if not isinstance(data, dict) or not isinstance(data.get("text"), str) or not data["text"].strip():
                raise TrainingError(f"{path}:{number}: a record needs a non-empty 'text' string")
            label = str(data.get("label", "")).lower()
            if label not in LABELS:
                raise TrainingError(f"{path}:{number}: label {data.get('label')!r} is not one of {', '.join(LABELS)}")
            records.append({"text": data["text"], "label": label})
    return records


def build_tokenizer(texts: Iterable[str], vocab_size: int):
    """A BERT-style WordPiece tokenizer (CJK split per character) trained on ``texts``."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=False, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS)
    tok.train_from_iterator(texts, trainer=trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", model_max_length=MAX_LENGTH,
    )


def _scratch_model(tokenizer, cfg: TrainConfig):
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=cfg.hidden_size, num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads, intermediate_size=cfg.intermediate_size, max_position_embeddings=MAX_LENGTH,
        type_vocab_size=1, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
        label2id={name: i for i, name in enumerate(LABELS)}, pad_token_id=tokenizer.pad_token_id,
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
    )
    return BertForSequenceClassification(config)


def _base_model(base: str):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(
            base, local_files_only=True, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
            label2id={name: i for i, name in enumerate(LABELS)}, ignore_mismatched_sizes=True, dtype=torch.float32,
        )
    except (OSError, ValueError) as exc:
        raise TrainingError(f"cannot load base checkpoint {base!r} from local files: {exc}") from exc
    return tokenizer, model


def _is_template(record: dict) -> bool:
    """A record generated from a seeds.yaml template (not junk, not written by hand)."""
    return record.get("source") == "generated" and record.get("style") != "junk"


def _batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed batches in random order: little padding, still shuffled."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch_size * 50
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start:start + pool], key=lambda i: lengths[i])
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def echo_title(text: str, rng: random.Random) -> str:
    """``text`` under a title that repeats its start, cut anywhere or whole: video and note posts are
    crawled as "title\\ntext" and uploaders often paste the description's first line as the title."""
    cut = len(text) if rng.random() < 0.3 else rng.randint(min(6, len(text)), max(6, min(len(text), 40)))
    return text[:cut] + "\n" + text


def evaluate_probabilities(model: TextModel, records: Sequence[dict]) -> dict:
    """Accuracy and actionable P/R/F1 of the model alone on labelled records."""
    probs = model.probabilities([r["text"] for r in records])
    predicted = [LABELS[max(range(3), key=p.__getitem__)] for p in probs]
    gold = [r["label"] for r in records]
    tp = sum(g != "none" and p != "none" for g, p in zip(gold, predicted))
    fp = sum(g == "none" and p != "none" for g, p in zip(gold, predicted))
    fn = sum(g != "none" and p == "none" for g, p in zip(gold, predicted))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "accuracy": round(sum(g == p for g, p in zip(gold, predicted)) / max(1, len(gold)), 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall) if precision + recall else 0.0, 4),
    }


def train(
    output: str | Path,
    base: str | None = None,
    extra: Sequence[str | Path] = (),
    cfg: TrainConfig | None = None,
    data_dir: Path = DATA_DIR,
    on_step: Callable[[int, int, float], None] | None = None,
    on_epoch: Callable[[int, dict], None] | None = None,
) -> TrainReport:
    """Train and ``save_pretrained`` into ``output``; callbacks report (step, total, loss) and per-epoch dev."""
    cfg = cfg or TrainConfig()
    started = time.monotonic()
    set_threads(cfg.threads)
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)

    extra_records = [r for path in extra for r in read_labelled(path)]
    corpus = list(read_jsonl(data_dir / "train.jsonl"))
    dev = list(read_jsonl(data_dir / "dev.jsonl"))
    if cfg.limit:
        corpus = rng.sample(corpus, min(cfg.limit, len(corpus)))
        dev = dev[: max(8, cfg.limit // 4)]
    # Reviewer decisions are few and real: repeat them so they weigh against the generated corpus.
    # Written posts are the real styles: repeated; template records are thinned so their shapes weigh less.
    corpus = [r for r in corpus if not _is_template(r) or rng.random() < cfg.template_share]
    records = [{"text": r["text"], "label": r["label"]} for r in corpus for _ in range(cfg.written_weight if r.get("writer") else 1)]
    records += extra_records * cfg.extra_weight
    if not records:
        raise TrainingError("no training records")
    phrases = key_phrases(load_seeds(data_dir / "seeds.yaml")) if (data_dir / "seeds.yaml").is_file() else []

    if base:
        tokenizer, model = _base_model(base)
        learning_rate = cfg.base_learning_rate
    else:
        tokenizer = build_tokenizer((model_text(r["text"]) for r in records), cfg.vocab_size)
        model = _scratch_model(tokenizer, cfg)
        learning_rate = cfg.learning_rate

    label_ids = torch.tensor([LABELS.index(r["label"]) for r in records])
    lengths = [len(r["text"]) for r in records]
    steps_per_epoch = (len(records) + cfg.batch_size - 1) // cfg.batch_size
    total = steps_per_epoch * cfg.epochs if cfg.max_steps is None else min(cfg.max_steps, steps_per_epoch * cfg.epochs)
    no_decay = ("bias", "LayerNorm.weight", "layer_norm")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)], "weight_decay": cfg.weight_decay},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=learning_rate)
    warmup = max(1, int(total * cfg.warmup))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    report = TrainReport(str(output), base, len(corpus), len(extra_records), 0, 0.0)
    step = 0
    for epoch in range(cfg.epochs):
        model.train()
        for batch in _batches(lengths, cfg.batch_size, rng):
            if step >= total:
                break
            texts = []
            for i in batch:
                text = records[i]["text"]
                if rng.random() < cfg.augment:
                    text, _ = obfuscate(text, phrases, rng)
                if rng.random() < cfg.title_echo:
                    text = echo_title(text, rng)
                texts.append(model_text(text))
            enc = tokenizer(texts, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
            enc.pop("token_type_ids", None)
            loss = model(**enc, labels=label_ids[batch]).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if on_step:
                on_step(step, total, float(loss.detach()))
        model.eval()
        metrics = {"epoch": epoch + 1, **evaluate_probabilities(TextModel(model, tokenizer, str(output), quantize=False), dev)}
        report.dev.append(metrics)
        if on_epoch:
            on_epoch(epoch + 1, metrics)
        if step >= total:
            break

    report.steps = step
    save(model, tokenizer, Path(output), report, cfg)
    train_ngram(output, data_dir, extra=extra_records)
    report.calibration = asdict(calibrate(output, data_dir, weight=NGRAM_SHARE))
    report.seconds = round(time.monotonic() - started, 1)
    save_meta(Path(output), report, cfg)
    return report


def save(model, tokenizer, output: Path, report: TrainReport, cfg: TrainConfig) -> None:
    """``save_pretrained`` in half precision (half the size; loading upcasts) plus the run's metadata."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    output.mkdir(parents=True, exist_ok=True)
    model.config.name_or_path = output.name
    model.to(torch.float16).save_pretrained(str(output))
    model.to(torch.float32)
    tokenizer.save_pretrained(str(output))
    save_meta(output, report, cfg)


def save_meta(output: Path, report: TrainReport, cfg: TrainConfig) -> None:
    """training.json: the run's report and configuration."""
    meta = {"report": asdict(report), "config": asdict(cfg)}
    (output / "training.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


#: The n-gram model's share of the ensemble, chosen on the real dev set (docs/classifier.md, models
#: tried): on the held-out written posts (the n-gram model's own styles) log loss would give it all.
NGRAM_SHARE = 0.5
#: The n-gram model's sample weights: written posts, hand-written seeds and reviewer labels (the real
#: styles) over generated template records, whose shapes it would otherwise memorize; junk weighs 1.
NGRAM_WRITTEN_WEIGHT = 5.0
NGRAM_TEMPLATE_WEIGHT = 0.3


def train_ngram(output: str | Path, data_dir: Path = DATA_DIR, c: float = 4.0, extra: Sequence[dict] = ()) -> NgramModel:
    """Fit the character n-gram model on the train split (+ ``extra`` records) and save it into ``output``.

    Each label's weights are scaled to the same total: the corpus holds more negatives than a feed of
    posts about debt does, and an unbalanced prior made the model shy of calling real ads."""
    records = list(read_jsonl(data_dir / "train.jsonl")) + list(extra)
    weights = [NGRAM_TEMPLATE_WEIGHT if _is_template(r) else 1.0 if r.get("source") == "generated"
               else NGRAM_WRITTEN_WEIGHT for r in records]
    totals: dict[str, float] = {}
    for record, weight in zip(records, weights):
        totals[record["label"]] = totals.get(record["label"], 0.0) + weight
    weights = [w * sum(totals.values()) / (len(totals) * totals[r["label"]]) for r, w in zip(records, weights)]
    model = ngram_fit([model_text(r["text"]) for r in records], [r["label"] for r in records], weights, c=c)
    model.save(output)
    return model


def calibrate(output: str | Path, data_dir: Path = DATA_DIR, weight: float | None = None) -> Calibration:
    """Fit temperatures and the n-gram weight on the held-out written posts of the dev split (all of dev
    when it has none) and save them beside the model. Generated dev records share their templates with
    training, so they would teach the ensemble to trust itself."""
    dev = list(read_jsonl(data_dir / "dev.jsonl"))
    held_out = [r for r in dev if r.get("writer")] or dev
    model = TextModel.load(output)
    views = [model_text(r["text"]) for r in held_out]
    y = np.array([LABELS.index(r["label"]) for r in held_out])
    ngram = model.ngram.logits(views, canonical=True) if model.ngram is not None else np.zeros((len(views), 3))
    calibration = fit_calibration(model.logits(views), ngram, y, seen_share(views), 0.0 if model.ngram is None else weight)
    calibration.save(output)
    return calibration
