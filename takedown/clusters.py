"""Gangs: offending accounts linked by a shared contact or by posting near-duplicate templates.

Accounts are the authors of queued posts that reviewers have not rejected. Two accounts are
linked when their posts give the same phone / WeChat / QQ / Telegram contact, or when two of
their posts are MinHash near-duplicates; linked accounts form one cluster (connected
components). A cluster's id is derived from its smallest member, so it stays put as the
cluster grows.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

import sqlite_utils
from datasketch import MinHashLSH

from . import similarity
from .store import now_iso

#: Contact types that identify a person behind an account (URLs are too often shared landing pages).
LINKING_CONTACTS = ("phone", "wechat", "qq", "telegram")

Account = tuple[str, str]  # (platform, account_id)


@dataclass
class Cluster:
    cluster_id: str
    accounts: list[Account]
    shared_contacts: list[tuple[str, str]] = field(default_factory=list)  # (type, value)
    template_links: int = 0  # near-duplicate post pairs across accounts


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Account, Account] = {}

    def find(self, a: Account) -> Account:
        self.parent.setdefault(a, a)
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: Account, b: Account) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _offending_posts(db: sqlite_utils.Database) -> list[tuple[str, str, str, bytes | None, str]]:
    return db.execute(
        """
        SELECT p.platform, p.post_id, p.author_id, s.minhash, coalesce(p.title, '') || ' ' || coalesce(p.text, '')
        FROM queue q
        JOIN posts p ON p.platform = q.platform AND p.post_id = q.post_id
        LEFT JOIN signatures s ON s.platform = p.platform AND s.post_id = p.post_id
        WHERE q.status != 'rejected' AND p.author_id IS NOT NULL
        """
    ).fetchall()


def cluster_id(accounts: list[Account]) -> str:
    """The id of a cluster: a short hash of its smallest member."""
    platform, account_id = min(accounts)
    return "G" + hashlib.sha1(f"{platform}:{account_id}".encode()).hexdigest()[:10]


def compute_clusters(db: sqlite_utils.Database, threshold: float = similarity.THRESHOLD) -> list[Cluster]:
    """Clusters of two or more linked offending accounts, largest first."""
    uf = _UnionFind()
    posts = _offending_posts(db)
    for platform, _, author, _, _ in posts:
        uf.find((platform, author))

    contact_owners: dict[tuple[str, str], set[Account]] = defaultdict(set)
    marks = ", ".join("?" * len(LINKING_CONTACTS))
    for ctype, value, platform, author in db.execute(
        f"""
        SELECT c.type, c.value, p.platform, p.author_id FROM contacts c
        JOIN posts p ON p.platform = c.platform AND p.post_id = c.post_id
        JOIN queue q ON q.platform = p.platform AND q.post_id = p.post_id
        WHERE q.status != 'rejected' AND p.author_id IS NOT NULL AND c.type IN ({marks})
        """,
        LINKING_CONTACTS,
    ).fetchall():
        contact_owners[(ctype, value)].add((platform, author))
    shared = {contact: owners for contact, owners in contact_owners.items() if len(owners) > 1}
    for owners in shared.values():
        first, *rest = sorted(owners)
        for other in rest:
            uf.union(first, other)

    lsh = MinHashLSH(threshold=threshold, num_perm=similarity.NUM_PERM)
    sigs, authors = {}, {}
    for platform, post_id, author, blob, text in posts:
        sig = similarity.from_blob(blob) if blob else similarity.signature(text)
        if sig is None:
            continue
        key = f"{platform}\x1f{post_id}"
        sigs[key], authors[key] = sig, (platform, author)
        lsh.insert(key, similarity.as_minhash(sig))
    template_pairs: list[tuple[Account, Account]] = []
    for key, sig in sigs.items():
        for other in lsh.query(similarity.as_minhash(sig)):
            a, b = authors[key], authors[other]
            # LSH proposes candidates; keep only pairs whose estimate really passes the threshold.
            if key < other and a != b and similarity.similarities(sig, [sigs[other]])[0] >= threshold:
                uf.union(a, b)
                template_pairs.append((a, b))

    members: dict[Account, list[Account]] = defaultdict(list)
    for account in list(uf.parent):
        members[uf.find(account)].append(account)
    clusters = []
    for group in members.values():
        if len(group) < 2:
            continue
        group_set = set(group)
        clusters.append(
            Cluster(
                cluster_id(group),
                sorted(group),
                sorted(c for c, owners in shared.items() if owners <= group_set),
                sum(1 for a, _ in template_pairs if a in group_set),
            )
        )
    return sorted(clusters, key=lambda c: (-len(c.accounts), c.cluster_id))


def refresh_clusters(db: sqlite_utils.Database, threshold: float = similarity.THRESHOLD) -> list[Cluster]:
    """Compute clusters and store each member's cluster id in ``account_clusters``."""
    clusters = compute_clusters(db, threshold)
    at = now_iso()
    rows = [
        {"platform": p, "account_id": a, "cluster_id": c.cluster_id, "computed_at": at}
        for c in clusters
        for p, a in c.accounts
    ]
    with db.atomic():
        db.execute("DELETE FROM account_clusters")
        if rows:
            db["account_clusters"].insert_all(rows)
    return clusters
