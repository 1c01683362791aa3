"""Request signing. Bilibili's WBI ``w_rid`` is computed here in Python; platforms whose
signatures need page JavaScript plug a signer in through ``SIGNERS`` so a broken signature is
fixed in one place."""

from __future__ import annotations

import hashlib
import re
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

#: Bilibili's fixed permutation of img_key + sub_key (public: bilibili-API-collect, docs/misc/sign/wbi.md).
MIXIN_KEY_ENC_TAB = (
    46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35, 27, 43, 5, 49, 33, 9, 42, 19, 29, 28, 14, 39,
    12, 38, 41, 13, 37, 48, 7, 16, 24, 55, 40, 61, 26, 17, 0, 1, 60, 51, 30, 4, 22, 25, 54, 21, 56, 59, 6, 63,
    57, 62, 11, 36, 20, 34, 44, 52,
)  # fmt: skip


def wbi_mixin_key(img_key: str, sub_key: str) -> str:
    """The 32-character mixin key derived from the two WBI keys."""
    raw = img_key + sub_key
    return "".join(raw[i] for i in MIXIN_KEY_ENC_TAB)[:32]


def wbi_keys_from_nav(nav: Mapping[str, Any]) -> tuple[str, str]:
    """img_key and sub_key from a ``/x/web-interface/nav`` answer (file stems of the two URLs)."""
    wbi = nav["data"]["wbi_img"]

    def stem(url: str) -> str:
        return url.rsplit("/", 1)[-1].split(".", 1)[0]

    return stem(wbi["img_url"]), stem(wbi["sub_url"])


def wbi_sign(params: Mapping[str, Any], img_key: str, sub_key: str, wts: int | None = None) -> dict[str, str]:
    """``params`` plus ``wts`` and ``w_rid``: md5 of the sorted, filtered query and the mixin key."""
    signed = {k: re.sub(r"[!'()*]", "", str(v)) for k, v in params.items()}
    signed["wts"] = str(int(time.time()) if wts is None else wts)
    signed = dict(sorted(signed.items()))
    query = urllib.parse.urlencode(signed)
    signed["w_rid"] = hashlib.md5((query + wbi_mixin_key(img_key, sub_key)).encode()).hexdigest()
    return signed
