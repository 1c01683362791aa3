"""The transformers model behind the classifier: tokenizer, loading, batched inference.

The default model ships inside the package (classifier/model/, ``save_pretrained`` format) and is
loaded with ``local_files_only``: nothing is fetched at run time. Inference sorts texts by length,
pads per batch and runs a dynamically int8-quantized copy of the linear layers on CPU.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from . import DEFAULT_MODEL_DIR  # noqa: E402
from .calibrate import Calibration, mix, softmax  # noqa: E402
from .canonical import TRANSFORMER_CHARS, model_text  # noqa: E402
from .ngram import NgramModel  # noqa: E402

LABELS = ("none", "level1", "level2")
MAX_LENGTH = 128


class ModelError(RuntimeError):
    """A model directory that cannot be loaded; the message names the path."""


def set_threads(threads: int = 2) -> None:
    """Use ``threads`` CPU threads (the box is shared: 2 by default)."""
    torch.set_num_threads(threads)
    if threads == 1:  # the tokenizers library would still encode a batch on every core
        os.environ["TOKENIZERS_PARALLELISM"] = "false"


class TextModel:
    """A loaded sequence classifier with its tokenizer; ``probabilities`` returns P(none, level1, level2)."""

    def __init__(self, model, tokenizer, path: str, quantize: bool = True, ngram: NgramModel | None = None,
                 calibration: Calibration | None = None):
        self.path = path
        self.tokenizer = tokenizer
        self._encoder = _padding_encoder(tokenizer)
        model.eval()
        self.labels = _label_order(model.config)
        if quantize:
            from torch.ao.quantization import quantize_dynamic

            with warnings.catch_warnings():
                # torch marks its quantized tensor constructors deprecated; dynamic int8 still works and halves latency.
                warnings.simplefilter("ignore", UserWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model = model
        self.ngram = ngram
        self.calibration = calibration or Calibration()
        self.name = "bundled" if Path(path).resolve() == DEFAULT_MODEL_DIR else Path(path).name

    @classmethod
    def load(cls, path: str | Path | None = None, quantize: bool = True) -> TextModel:
        """Load a ``save_pretrained`` directory (default: the bundled model) from local files only."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        path = Path(path) if path is not None else DEFAULT_MODEL_DIR
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: no model here (config.json missing); build one with `grayscan train --output {path}`")
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(
                str(path), local_files_only=True, dtype=torch.float32
            )
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: cannot load the model: {exc}") from exc
        return cls(model, tokenizer, str(path), quantize=quantize, ngram=NgramModel.load(path),
                   calibration=Calibration.load(path))

    @torch.inference_mode()
    def probabilities(self, texts: Sequence[str], batch_size: int = 64,
                      canonical: bool = False) -> list[tuple[float, float, float]]:
        """P(none), P(level1), P(level2) per text, in input order; ``canonical``: texts are ``model_text`` already.

        With an n-gram model and calibration beside the weights, each model's logits are divided by
        its temperature and the two distributions are mixed with the calibrated weight (more n-gram
        for posts longer than the transformer reads).
        """
        views = list(texts) if canonical else [model_text(t) for t in texts]
        if not views:
            return []
        probs = softmax(self.logits(views, batch_size) / self.calibration.transformer_temperature)
        if self.ngram is not None:
            ngram = softmax(self.ngram.logits(views, canonical=True) / self.calibration.ngram_temperature)
            probs = mix(probs, ngram, self.calibration.ngram_weight, seen_share(views))
        return [tuple(map(float, row)) for row in probs]

    @torch.inference_mode()
    def logits(self, canonical: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """The transformer's raw logits (LABELS order) of canonical texts (their first TRANSFORMER_CHARS),
        batched by length."""
        canonical = [text[:TRANSFORMER_CHARS] for text in canonical]
        order = sorted(range(len(canonical)), key=lambda i: len(canonical[i]))
        out = np.zeros((len(canonical), len(LABELS)), dtype=np.float32)
        columns = [self.labels[name] for name in LABELS]
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            out[chunk] = self.model(**self.encode([canonical[i] for i in chunk])).logits.float().numpy()[:, columns]
        return out

    def encode(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """``input_ids`` and ``attention_mask`` of canonical texts, padded to the longest, cut at MAX_LENGTH."""
        if self._encoder is None:
            enc = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
            return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
        encodings = self._encoder.encode_batch(texts)
        return {"input_ids": torch.tensor([e.ids for e in encodings]),
                "attention_mask": torch.tensor([e.attention_mask for e in encodings])}


def seen_share(canonical: Sequence[str]) -> np.ndarray:
    """Per canonical text, the share of it inside the transformer's MAX_LENGTH tokens (about one per character)."""
    return np.array([min(1.0, MAX_LENGTH / max(1, len(text))) for text in canonical])


def _padding_encoder(tokenizer):
    """The fast tokenizer's Rust backend set to pad and truncate by itself: the same ids as calling the
    tokenizer, without its Python wrapping (a fifth of a small model's time on short posts); None for
    a tokenizer without one."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or tokenizer.pad_token_id is None:
        return None
    encoder = copy.deepcopy(backend)
    encoder.enable_truncation(MAX_LENGTH)
    encoder.enable_padding(pad_id=tokenizer.pad_token_id, pad_token=tokenizer.pad_token)
    return encoder


def _label_order(config) -> dict[str, int]:
    """Column of each of our labels in the model's logits, from its id2label."""
    id2label = {int(k): str(v).lower() for k, v in (config.id2label or {}).items()}
    columns = {label: index for index, label in id2label.items()}
    if set(LABELS) <= set(columns):
        return {name: columns[name] for name in LABELS}
    if len(id2label) == len(LABELS):
        return {name: i for i, name in enumerate(LABELS)}
    raise ModelError(f"model labels {sorted(id2label.values())} are not {list(LABELS)}")
