"""Alliance account lists: export our offending accounts, import other members' lists, match phones.

An entry is one account on one platform with its tier, hit count, first/last seen, cluster id
and the contacts its ads give. Lists travel as CSV, JSON or a STIX 2.1 bundle. A hashed list
replaces every identifier by ``HMAC-SHA256(alliance key, "<kind>:<normalized value>")`` —
phones normalized to E.164 — so members holding the key can match entries without anyone
else learning them. Plain or salted hashes are never offered: Chinese mobile numbers are a
space small enough to enumerate.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import phonenumbers
import sqlite_utils
import stix2

from . import csvsafe
from .store import now_iso

LIST_FORMAT = "grayscan-account-list"
LIST_VERSION = 1
KEY_MIN_BYTES = 16
HASH_SCHEME = 'HMAC-SHA256(key, "<kind>:<normalized>"), hex; phones in E.164, accounts as "<platform>:<id>"'
CSV_FIELDS = ["entry_id", "platform", "account_key", "key_kind", "nickname", "homepage_url", "tier", "hits",
              "first_seen", "last_seen", "cluster_id", "status", "contacts"]
TLP = {"white": stix2.TLP_WHITE, "green": stix2.TLP_GREEN, "amber": stix2.TLP_AMBER, "red": stix2.TLP_RED}
#: Namespace for the ids of our STIX SDOs, so re-exporting an entry reuses its ids.
_SDO_NAMESPACE = uuid.UUID("5c0b4a36-91f7-4d56-8c41-6f0d9d6a4e21")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_PATTERN = re.compile(r"user-account:account_type\s*=\s*'([^']*)'\s+AND\s+user-account:user_id\s*=\s*'([^']*)'")


class ListError(ValueError):
    """An account list, key or phone file that cannot be used, with the reason."""


# ---- keys and normalization -------------------------------------------------------------------


def load_key(path: str | Path) -> bytes:
    """The alliance key in ``path``: hex (64 digits) or raw bytes, at least KEY_MIN_BYTES long."""
    try:
        data = Path(path).read_bytes().strip()
    except OSError as exc:
        raise ListError(f"cannot read key file {path}: {exc.strerror}") from exc
    try:
        key = bytes.fromhex(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = data
    if len(key) < KEY_MIN_BYTES:
        raise ListError(f"key in {path} is {len(key)} bytes; an alliance key needs at least {KEY_MIN_BYTES} "
                        "(create one with `grayscan accounts keygen`)")
    return key


def normalize_phone(value: str, region: str = "CN") -> str:
    """``value`` as E.164 (``+8613800138000``); raises ListError when it is not a valid number."""
    try:
        number = phonenumbers.parse(value.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise ListError(f"not a phone number: {value!r} ({exc})") from None
    if not phonenumbers.is_valid_number(number):
        raise ListError(f"not a valid phone number: {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_contact(kind: str, value: str) -> str:
    """The canonical form of a contact value, the one both plain and hashed lists use."""
    value = value.strip()
    if kind == "phone":
        return normalize_phone(value)
    if kind in ("wechat", "telegram"):
        return value.lstrip("@").lower()
    if kind == "qq":
        return re.sub(r"\D", "", value)
    return value


def keyed_hash(key: bytes, kind: str, normalized: str) -> str:
    """HMAC-SHA256 of ``"<kind>:<normalized>"`` under the alliance key, hex."""
    return hmac.new(key, f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()


def account_hash(key: bytes, platform: str, account_id: str) -> str:
    return keyed_hash(key, "account", f"{platform}:{account_id.strip()}")


def entry_id(platform: str, account_key: str) -> str:
    """The STIX 2.1 user-account id (UUIDv5 over account_type and user_id): the same at every member."""
    return stix2.UserAccount(account_type=platform, user_id=account_key).id


# ---- our list ---------------------------------------------------------------------------------


def offending_accounts(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Authors of queued posts not rejected by review, with tier, hits, dates, cluster and contacts."""
    rows = list(
        db.query(
            """
            SELECT p.platform, p.author_id AS account_id,
                   coalesce(max(a.nickname), max(p.author_name)) AS nickname, max(a.homepage_url) AS homepage_url,
                   CASE min(CASE q.tier WHEN 'level1' THEN 1 ELSE 2 END) WHEN 1 THEN 'level1' ELSE 'level2' END AS tier,
                   count(*) AS hits,
                   min(coalesce(p.published_at, p.first_seen, q.created_at)) AS first_seen,
                   max(coalesce(p.crawled_at, q.created_at)) AS last_seen,
                   max(c.cluster_id) AS cluster_id,
                   CASE WHEN sum(q.status NOT IN ('removed', 'reappeared')) = 0 THEN 'removed' ELSE 'active' END AS status
            FROM queue q
            JOIN posts p ON p.platform = q.platform AND p.post_id = q.post_id
            LEFT JOIN accounts a ON a.platform = p.platform AND a.account_id = p.author_id
            LEFT JOIN account_clusters c ON c.platform = p.platform AND c.account_id = p.author_id
            WHERE q.status != 'rejected' AND p.author_id IS NOT NULL
            GROUP BY p.platform, p.author_id
            ORDER BY p.platform, p.author_id
            """
        )
    )
    contacts: dict[tuple[str, str], list[dict[str, str]]] = {}
    for platform, author, ctype, value in db.execute(
        """
        SELECT DISTINCT p.platform, p.author_id, c.type, c.value FROM contacts c
        JOIN posts p ON p.platform = c.platform AND p.post_id = c.post_id
        JOIN queue q ON q.platform = p.platform AND q.post_id = p.post_id
        WHERE q.status != 'rejected' ORDER BY 1, 2, 3, 4
        """
    ).fetchall():
        contacts.setdefault((platform, author), []).append({"type": ctype, "value": value})
    for row in rows:
        row["contacts"] = contacts.get((row["platform"], row["account_id"]), [])
    return rows


def list_entries(accounts: Iterable[dict[str, Any]], key: bytes | None = None) -> list[dict[str, Any]]:
    """Shareable entries of ``accounts``: plain, or with every identifier keyed-hashed when ``key``.

    A hashed entry keeps no nickname or homepage (both name the account in clear).
    """
    entries = []
    for acc in accounts:
        if key is None:
            account_key, kind = acc["account_id"], "plain"
            contacts = acc["contacts"]
            nickname, homepage = acc["nickname"], acc["homepage_url"]
        else:
            account_key, kind = account_hash(key, acc["platform"], acc["account_id"]), "hmac"
            contacts = []
            for c in acc["contacts"]:
                try:
                    normalized = normalize_contact(c["type"], c["value"])
                except ListError:
                    continue  # an unparseable value cannot be matched by anyone; leave it out
                contacts.append({"type": c["type"], "value": keyed_hash(key, c["type"], normalized)})
            nickname = homepage = None
        entries.append(
            {
                "entry_id": entry_id(acc["platform"], account_key),
                "platform": acc["platform"],
                "account_key": account_key,
                "key_kind": kind,
                "nickname": nickname,
                "homepage_url": homepage,
                "tier": acc["tier"],
                "hits": acc["hits"],
                "first_seen": acc["first_seen"],
                "last_seen": acc["last_seen"],
                "cluster_id": acc["cluster_id"],
                "status": acc["status"],
                "contacts": contacts,
            }
        )
    return entries


def to_csv(entries: list[dict[str, Any]]) -> str:
    """The entries as CSV, cells a spreadsheet would run as formulas neutralized (``_entries_from_csv`` restores them)."""
    out = io.StringIO()
    writer = csvsafe.DictWriter(out, CSV_FIELDS)
    writer.writeheader()
    for entry in entries:
        writer.writerow({**entry, "contacts": " ".join(f"{c['type']}:{c['value']}" for c in entry["contacts"])})
    return out.getvalue()


def to_json(entries: list[dict[str, Any]], producer: str) -> str:
    hashed = any(e["key_kind"] == "hmac" for e in entries)
    document = {
        "format": LIST_FORMAT,
        "version": LIST_VERSION,
        "producer": producer,
        "generated_at": now_iso(),
        "hashed": hashed,
        **({"hash": HASH_SCHEME} if hashed else {}),
        "accounts": entries,
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


def _stix_time(value: str | None) -> datetime:
    """An ISO time from the store as an aware UTC datetime (now when absent or unreadable)."""
    try:
        parsed = datetime.fromisoformat(value) if value else None
    except ValueError:
        parsed = None
    if parsed is None:
        return datetime.now(UTC).replace(microsecond=0)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _sdo_id(kind: str, producer: str, entry: dict[str, Any]) -> str:
    name = f"{producer}|{entry['entry_id']}"
    return f"{kind}--{uuid.uuid5(_SDO_NAMESPACE, name)}"


def to_stix(entries: list[dict[str, Any]], producer: str, tlp: str = "amber") -> stix2.Bundle:
    """A STIX 2.1 bundle: the producer identity, and per entry a user-account (deterministic id), an
    observed-data (first/last seen, hits), an indicator (tier, cluster, contacts) and a based-on link,
    everything marked with ``tlp`` (TLP 1.0 markings, the ones python-stix2 ships)."""
    marking = TLP[tlp]
    identity = stix2.Identity(id=f"identity--{uuid.uuid5(_SDO_NAMESPACE, producer)}", name=producer,
                              identity_class="organization", object_marking_refs=[marking])
    common = {"created_by_ref": identity.id, "object_marking_refs": [marking]}
    objects: list[Any] = [marking, identity]
    for entry in entries:
        account = stix2.UserAccount(
            account_type=entry["platform"],
            user_id=entry["account_key"],
            display_name=entry["nickname"] or None,
            object_marking_refs=[marking],
        )
        first, last = _stix_time(entry["first_seen"]), _stix_time(entry["last_seen"])
        observed = stix2.ObservedData(
            id=_sdo_id("observed-data", producer, entry),
            first_observed=min(first, last), last_observed=max(first, last),
            number_observed=max(1, int(entry["hits"] or 1)), object_refs=[account.id], **common,
        )
        platform, key = (v.replace("\\", "\\\\").replace("'", "\\'") for v in (entry["platform"], entry["account_key"]))
        indicator = stix2.Indicator(
            id=_sdo_id("indicator", producer, entry),
            name=f"{entry['tier']} abnormal rights-defense account on {entry['platform']}",
            pattern=f"[user-account:account_type = '{platform}' AND user-account:user_id = '{key}']",
            pattern_type="stix",
            valid_from=min(first, last),
            indicator_types=["malicious-activity"],
            labels=[entry["tier"]],
            allow_custom=True,
            x_grayscan_tier=entry["tier"],
            x_grayscan_cluster_id=entry["cluster_id"],
            x_grayscan_key_kind=entry["key_kind"],
            x_grayscan_status=entry["status"],
            x_grayscan_contacts=entry["contacts"],
            **common,
        )
        link = stix2.Relationship(id=_sdo_id("relationship", producer, entry), source_ref=indicator.id,
                                  relationship_type="based-on", target_ref=observed.id, **common)
        objects += [account, observed, indicator, link]
    return stix2.Bundle(objects=objects, allow_custom=True)


#: Export formats of ``export_list``.
FORMATS = ("csv", "json", "stix")


def export_list(db: sqlite_utils.Database, fmt: str, *, producer: str = "grayscan", tlp: str = "amber",
                key: bytes | None = None) -> tuple[str, int]:
    """Our offending accounts as a shareable list in ``fmt`` (csv, json or stix; hashed under ``key``
    when given), with clusters recomputed first; returns (the list's text, how many entries)."""
    from .clusters import refresh_clusters

    if fmt not in FORMATS:
        raise ListError(f"unknown list format {fmt!r}; formats are: {', '.join(FORMATS)}")
    refresh_clusters(db)
    entries = list_entries(offending_accounts(db), key=key)
    if fmt == "csv":
        return to_csv(entries), len(entries)
    if fmt == "json":
        return to_json(entries, producer), len(entries)
    return to_stix(entries, producer, tlp).serialize(pretty=True), len(entries)


# ---- importing other members' lists -------------------------------------------------------------


@dataclass
class ImportSummary:
    source: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    contacts_added: int = 0
    skipped: list[str] = field(default_factory=list)


def _split_contacts(text: str) -> list[dict[str, str]]:
    contacts = []
    for token in (text or "").split():
        kind, sep, value = token.partition(":")
        if sep and value:
            contacts.append({"type": kind, "value": value})
    return contacts


def _entries_from_csv(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"platform", "account_key"} - set(reader.fieldnames or [])
    if missing:
        raise ListError(f"CSV list lacks column(s) {', '.join(sorted(missing))}; columns are: {', '.join(CSV_FIELDS)}")
    rows = [{key: csvsafe.restore(value) if isinstance(value, str) else value for key, value in row.items()}
            for row in reader]
    return [{**row, "contacts": _split_contacts(row.get("contacts") or "")} for row in rows]


def _entries_from_stix(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        parsed = stix2.parse(bundle, allow_custom=True)
    except Exception as exc:  # stix2 raises many exception types for a bad bundle
        raise ListError(f"not a valid STIX 2.1 bundle: {exc}") from exc
    objects = list(getattr(parsed, "objects", None) or [])
    accounts = {o.id: o for o in objects if o.type == "user-account"}
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for acc in accounts.values():
        platform, key = acc.get("account_type"), acc.get("user_id") or acc.get("account_login")
        if platform and key:
            entries[(platform, key)] = {"platform": platform, "account_key": key, "nickname": acc.get("display_name"),
                                        "contacts": []}
    for obs in (o for o in objects if o.type == "observed-data"):
        for ref in obs.get("object_refs") or []:
            acc = accounts.get(ref)
            entry = acc and entries.get((acc.get("account_type"), acc.get("user_id") or acc.get("account_login")))
            if entry:
                entry.update(first_seen=obs.first_observed.isoformat(), last_seen=obs.last_observed.isoformat(),
                             hits=obs.number_observed)
    for ind in (o for o in objects if o.type == "indicator"):
        found = _PATTERN.search(ind.pattern)
        entry = found and entries.setdefault(
            (found[1], found[2]), {"platform": found[1], "account_key": found[2], "contacts": []}
        )
        if entry:
            entry.update(
                tier=ind.get("x_grayscan_tier") or next(iter(ind.get("labels") or []), None),
                cluster_id=ind.get("x_grayscan_cluster_id"),
                key_kind=ind.get("x_grayscan_key_kind"),
                status=ind.get("x_grayscan_status"),
                contacts=list(ind.get("x_grayscan_contacts") or []),
            )
    return list(entries.values())


def read_list(path: str | Path) -> list[dict[str, Any]]:
    """The entries of a list file in any format we export (CSV, JSON list, STIX bundle)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ListError(f"cannot read {path}: {exc}") from exc
    if not text.lstrip("\ufeff").lstrip().startswith(("{", "[")):
        return _entries_from_csv(text)
    try:
        document = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise ListError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    if isinstance(document, dict) and document.get("type") == "bundle":
        return _entries_from_stix(document)
    if isinstance(document, dict) and document.get("format") == LIST_FORMAT:
        hashed = document.get("hashed")
        return [{"key_kind": "hmac" if hashed else "plain", **e} for e in document.get("accounts") or []]
    if isinstance(document, list):
        return document
    raise ListError(f"{path}: unknown list format (expected {LIST_FORMAT} JSON, a STIX bundle or CSV)")


def _looks_hashed(value: str) -> bool:
    return bool(_HEX64.match(value))


def import_list(db: sqlite_utils.Database, path: str | Path, source: str) -> ImportSummary:
    """Merge another member's list into ``shared_accounts``/``shared_contacts`` under ``source``.

    Entries are keyed by (source, platform, account key): importing the same list again adds
    nothing; a newer list widens first/last seen and refreshes tier, hits and cluster.
    """
    if not source.strip():
        raise ListError("--source must name the member the list comes from")
    summary = ImportSummary(source)
    imported_at = now_iso()
    entries = read_list(path)
    with db.atomic():
        for number, entry in enumerate(entries, 1):
            if not isinstance(entry, dict):
                summary.skipped.append(f"entry {number}: not an object")
                continue
            platform, key = str(entry.get("platform") or "").strip(), str(entry.get("account_key") or "").strip()
            if not platform or not key:
                summary.skipped.append(f"entry {number}: no platform or account_key")
                continue
            kind = entry.get("key_kind") or ("hmac" if _looks_hashed(key) else "plain")
            row = {
                "source": source, "platform": platform, "account_key": key, "key_kind": kind,
                "nickname": entry.get("nickname") or None, "tier": entry.get("tier") or None,
                "cluster_id": entry.get("cluster_id") or None,
                "hits": int(entry["hits"]) if str(entry.get("hits") or "").isdigit() else None,
                "first_seen": entry.get("first_seen") or None, "last_seen": entry.get("last_seen") or None,
            }
            pk = (source, platform, key)
            old = next(db.query("SELECT * FROM shared_accounts WHERE source = ? AND platform = ? AND account_key = ?",
                                list(pk)), None)
            if old is None:
                db["shared_accounts"].insert({**row, "imported_at": imported_at})
                summary.added += 1
            else:
                seen = [v for v in (old["first_seen"], row["first_seen"]) if v]
                last = [v for v in (old["last_seen"], row["last_seen"]) if v]
                merged = {**row, "first_seen": min(seen) if seen else None, "last_seen": max(last) if last else None}
                merged = {k: (v if v is not None else old[k]) for k, v in merged.items()}
                if any(old[k] != v for k, v in merged.items()):
                    db["shared_accounts"].update(pk, {**merged, "imported_at": imported_at})
                    summary.updated += 1
                else:
                    summary.unchanged += 1
            for contact in entry.get("contacts") or []:
                value = str(contact.get("value") or "").strip()
                if not value or not contact.get("type"):
                    continue
                cursor = db.execute(
                    "INSERT OR IGNORE INTO shared_contacts (source, platform, account_key, type, value, key_kind) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [source, platform, key, contact["type"], value, kind],
                )
                summary.contacts_added += cursor.rowcount
    return summary


# ---- matching phones --------------------------------------------------------------------------


@dataclass
class PhoneMatch:
    """Where one input number (plain, or an HMAC from a hashed list) appears."""

    input: str
    e164: str | None = None
    error: str | None = None
    note: str | None = None
    ads: list[dict[str, Any]] = field(default_factory=list)
    lists: list[dict[str, Any]] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.ads or self.lists)


def match_phones(db: sqlite_utils.Database, lines: Iterable[str], key: bytes | None = None) -> list[PhoneMatch]:
    """For each number, the ads that give it as a contact and the shared list entries that carry it.

    A line of 64 hex digits is an HMAC (from a hashed list) and needs ``key`` to be compared
    with the plain numbers in our ads; plain numbers are also compared with hashed shared lists
    when ``key`` is given. Lines that are neither are reported with the reason, not dropped.
    """
    ad_rows = db.execute(
        """
        SELECT c.value, c.platform, c.post_id, p.author_id, p.author_name, d.tier, p.url FROM contacts c
        LEFT JOIN posts p ON p.platform = c.platform AND p.post_id = c.post_id
        LEFT JOIN detections d ON d.platform = c.platform AND d.post_id = c.post_id
        WHERE c.type = 'phone'
        """
    ).fetchall()
    ads_by_phone: dict[str, list[dict[str, Any]]] = {}  # plain E.164 and, with a key, its HMAC
    for value, platform, post_id, author_id, author_name, tier, url in ad_rows:
        hit = {"platform": platform, "post_id": post_id, "account_id": author_id, "account_name": author_name,
               "tier": tier, "url": url}
        ads_by_phone.setdefault(value, []).append(hit)
        if key is not None:
            ads_by_phone.setdefault(keyed_hash(key, "phone", value), []).append(hit)
    listed: dict[str, list[dict[str, Any]]] = {}
    for source, platform, account_key, value in db.execute(
        "SELECT source, platform, account_key, value FROM shared_contacts WHERE type = 'phone'"
    ).fetchall():
        listed.setdefault(value, []).append({"source": source, "platform": platform, "account_key": account_key})

    results = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = PhoneMatch(text)
        if _looks_hashed(text.lower()):
            if key is None:
                match.note = "hashed number: pass --key-file to compare it with the numbers in ads"
            digests = [text.lower()]
        else:
            try:
                match.e164 = normalize_phone(text)
            except ListError as exc:
                match.error = str(exc)
                results.append(match)
                continue
            digests = [match.e164] + ([keyed_hash(key, "phone", match.e164)] if key is not None else [])
        match.ads = ads_by_phone.get(digests[0], [])
        for digest in digests:
            match.lists += listed.get(digest, [])
        results.append(match)
    return results
