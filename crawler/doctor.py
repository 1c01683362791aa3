"""``grayscan doctor``: is this machine ready to crawl? Chromium, CJK fonts, the classifier model, the
database, and per platform its login cookies and (with ``base_url`` or ``online``) its page signer.

Each check gives one ``Check``: ``ok``, ``warn`` (the crawl runs, with a limitation) or ``fail`` (a crawl
that needs it cannot run); ``fix`` says what to do.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .browser import CHROMIUM_PACKAGE, check_page, chromium_path, missing_chromium, run_isolated
from .cookies import CookieFileError, load_cookies
from .run import LOGIN_PLATFORMS, CrawlJob, crawl_settings, preflight
from .signing import PageJsSigner, default_signers
from .spiders import PLATFORMS, spider_class


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""


def check_chromium() -> Check:
    problem = missing_chromium() or run_isolated(lambda: check_page("about:blank", what="blank page"))
    if problem:
        return Check("Chromium", "fail", problem.message, f"apt-get install {CHROMIUM_PACKAGE}")
    return Check("Chromium", "ok", f"{chromium_path()} starts headless")


def check_cjk_fonts() -> Check:
    if not shutil.which("fc-list"):
        return Check("CJK fonts", "warn", "fc-list not found: fonts cannot be checked", "apt-get install fontconfig")
    families = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=30).stdout
    count = len({line.split(",")[0] for line in families.splitlines() if line.strip()})
    if not count:
        return Check("CJK fonts", "warn", "no Chinese fonts: evidence screenshots would show empty boxes",
                     "apt-get install fonts-noto-cjk")
    return Check("CJK fonts", "ok", f"{count} Chinese font families")


def check_model(model_path: str | None) -> Check:
    from classifier import DEFAULT_MODEL_DIR, ModelError, TextModel

    path = model_path or str(DEFAULT_MODEL_DIR)
    try:
        TextModel.load(path)
    except ModelError as exc:
        return Check("classifier model", "fail", str(exc), "pass --model DIR, or crawl with --lexicon-only")
    return Check("classifier model", "ok", f"{path} loads")


def check_database(db_path: str) -> Check:
    path = Path(db_path)
    if not path.exists():
        parent = path.absolute().parent
        while not parent.exists():  # a crawl creates the missing directories
            parent = parent.parent
        if parent.is_dir() and os.access(parent, os.W_OK):
            return Check("database", "ok", f"{path} does not exist yet; it can be created under {parent}")
        return Check("database", "fail", f"cannot create {path}: {parent} is not a writable directory",
                     "pass --db with a writable path")
    try:
        conn = sqlite3.connect(path, timeout=5)
        try:
            conn.execute("BEGIN IMMEDIATE")  # takes the write lock without writing
            conn.rollback()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return Check("database", "fail", f"{path} is not writable ({exc})", "check its permissions, or pass --db")
    return Check("database", "ok", f"{path} is writable")


def check_platform(platform: str, cookie_file: str | None, base_url: str | None, online: bool) -> Check:
    """Login cookies (present, readable, holding the login cookie) and, when asked, the page signer."""
    api = spider_class(platform).api_class
    name = f"{platform}"
    findings: list[str] = []
    status, fix = "ok", ""
    if cookie_file:
        try:
            names = {c.name for c in load_cookies(cookie_file)}
        except CookieFileError as exc:
            return Check(name, "fail", str(exc), "export the cookies again from a logged-in browser")
        if not names & set(api.login_cookies):
            return Check(name, "fail", f"{cookie_file} holds none of {', '.join(api.login_cookies)}",
                         f"log in to {platform} in a browser and export its cookies again")
        findings.append(f"cookies {cookie_file}")
    elif platform in LOGIN_PLATFORMS:
        status, fix = "warn", f"pass --cookies {platform}=FILE (exported from a logged-in browser)"
        findings.append(f"no cookies: login cookies are likely needed ({', '.join(api.login_cookies)})")
    else:
        findings.append("no cookies (anonymous)")
    if isinstance(default_signers().get(platform), PageJsSigner):
        if base_url or online:
            job, problem, notice = preflight(CrawlJob(platform, [], base_url=base_url), crawl_settings())
            if problem:
                return Check(name, "fail", "; ".join(findings + [problem.message]),
                             "apt-get install chromium" if problem.kind == "no_browser" else "see crawler/signing.py")
            findings.append(notice or "page signer ok")
            if notice:
                status, fix = "warn", fix or "update its expression in crawler/signing.py (until then crawls use the browser route)"
        else:
            findings.append("page signer not checked (--online opens the platform's page)")
    return Check(name, status, "; ".join(findings), fix)


def run_checks(db_path: str, *, model_path: str | None = None, with_model: bool = True,
               cookies: dict[str, str] | None = None, base_url: str | None = None, online: bool = False) -> list[Check]:
    """Every check, in the order ``grayscan doctor`` shows them."""
    checks = [check_chromium(), check_cjk_fonts()]
    if with_model:
        checks.append(check_model(model_path))
    checks.append(check_database(db_path))
    checks += [check_platform(p, (cookies or {}).get(p), base_url, online) for p in PLATFORMS]
    return checks
