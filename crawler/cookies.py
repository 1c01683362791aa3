"""Login cookies from a file: a browser export (JSON list of cookie objects, or a ``{name: value}`` map)
or a Netscape ``cookies.txt``. Values are secrets: nothing here logs them, and they live only in
memory (Scrapy's cookie jar), never in the database or in JOBDIR.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


class CookieFileError(ValueError):
    """A cookie file that cannot be read; the message names the file, never a value."""


@dataclass(frozen=True)
class FileCookie:
    name: str
    value: str
    domain: str  # "" when the export carries none (applies to every host of the platform)
    path: str = "/"

    def __repr__(self) -> str:  # keep values out of tracebacks and logs
        return f"FileCookie({self.name!r}, domain={self.domain!r})"


def load_cookies(path: str | Path) -> list[FileCookie]:
    """Every cookie in ``path``; raises CookieFileError saying what is wrong with the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CookieFileError(f"cannot read cookie file {path}: {exc.strerror}") from None
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return _from_json(path, stripped)
    return _from_netscape(path, text)


def _from_json(path: Path, text: str) -> list[FileCookie]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CookieFileError(f"{path} is not valid JSON (line {getattr(exc, 'lineno', '?')})") from None
    if isinstance(data, dict) and isinstance(data.get("cookies"), list):  # Playwright storage_state
        data = data["cookies"]
    if isinstance(data, dict):
        return [FileCookie(str(k), str(v), "") for k, v in data.items()]
    cookies = []
    for index, entry in enumerate(data):
        if not isinstance(entry, dict) or "name" not in entry or "value" not in entry:
            raise CookieFileError(f"{path}: cookie #{index + 1} has no name/value")
        cookies.append(FileCookie(str(entry["name"]), str(entry["value"]), str(entry.get("domain") or ""),
                                  str(entry.get("path") or "/")))
    return cookies


def _from_netscape(path: Path, text: str) -> list[FileCookie]:
    cookies = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#HttpOnly_"):
            line = line[len("#HttpOnly_"):]
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 7:
            raise CookieFileError(f"{path}:{number}: expected 7 tab-separated fields of a cookies.txt line")
        domain, _, cookie_path, _, _, name, value = fields
        cookies.append(FileCookie(name, value.strip(), domain, cookie_path))
    if not cookies:
        raise CookieFileError(f"{path} holds no cookies")
    return cookies
