"""Near-duplicate detection of post texts with MinHash (datasketch).

Gray-industry ads are templates: the same wording posted by many accounts, or reposted after
a takedown with a new contact number. Texts are compared on character 3-gram shingles of the
lexicon's normalized skeleton (noise and separators dropped, digit runs collapsed), so changing
a phone number or inserting spaces barely moves the estimate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from datasketch import MinHash

from lexicon.normalize import is_noise, strict_view

NUM_PERM = 64
SHINGLE = 3
#: Estimated Jaccard similarity from which two texts count as the same template.
THRESHOLD = 0.6
#: datasketch's hashing scheme, fixed so stored signatures stay comparable across upgrades.
SCHEME = "affine32"
_DIGITS = re.compile(r"\d+")


def shingles(text: str) -> set[bytes]:
    """Character ``SHINGLE``-grams of the normalized text (the whole text when shorter)."""
    skeleton = "".join(ch for ch in strict_view(text).text if not is_noise(ch))
    view = _DIGITS.sub("#", skeleton)
    if len(view) <= SHINGLE:
        return {view.encode()} if view else set()
    return {view[i : i + SHINGLE].encode() for i in range(len(view) - SHINGLE + 1)}


def signature(text: str) -> np.ndarray | None:
    """The MinHash signature of ``text`` (``NUM_PERM`` uint64 values), None for empty text."""
    grams = shingles(text)
    if not grams:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME)
    minhash.update_batch(list(grams))
    return minhash.hashvalues.astype(np.uint64)


def as_minhash(sig: np.ndarray) -> MinHash:
    """A datasketch MinHash carrying a stored signature (for MinHashLSH)."""
    return MinHash(num_perm=NUM_PERM, seed=1, hashvalues=sig, scheme=SCHEME)


def to_blob(sig: np.ndarray) -> bytes:
    return sig.astype("<u8").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u8").astype(np.uint64)


def similarities(sig: np.ndarray, others: Sequence[np.ndarray]) -> np.ndarray:
    """Estimated Jaccard similarity of ``sig`` to each of ``others``."""
    if not len(others):
        return np.zeros(0)
    return (np.vstack(others) == sig).mean(axis=1)
