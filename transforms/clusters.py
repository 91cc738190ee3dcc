"""Story clusters: near-duplicates across outlets, and the same story told in English and Chinese.

Two passes, merged with union-find:
1. Near-duplicates (syndication, reprinted press releases): MinHash over character 5-grams of the
   folded text, LSH at Jaccard >= NEAR_DUP_THRESHOLD, for bodies of MIN_NEAR_DUP_CHARS or more.
   Character shingles work for Chinese and English.
2. Cross-language pairs: an English and a Chinese article within CROSS_LANG_WINDOW that share at least
   MIN_SHARED_ENTITIES specific knowledge-base entities (generic ones such as the HKSAR Government do
   not count), with entity-set Jaccard >= ENTITY_JACCARD, and no contradicting numbers when both
   carry numbers (at least one shared number of 2+ digits).

A cluster's id comes from its first article's canonical URL, so ids stay put as stories grow.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from transforms.text import fold

NEAR_DUP_THRESHOLD = 0.7
MIN_NEAR_DUP_CHARS = 100  # shorter texts (programme stubs, captions) give unreliable shingle sets
NUM_PERM = 64
SHINGLE = 5
CROSS_LANG_WINDOW = timedelta(hours=72)
MIN_SHARED_ENTITIES = 2
ENTITY_JACCARD = 0.4
GENERIC_ENTITIES = {"government-of-hksar", "xinhua", "legco"}
PRESS_RELEASE_SOURCES = {
    "gia_en",
    "gia_zh",
    "news_gov_hk",
    "hkma",
    "digital_policy_office",
    "pcpd",
    "investhk",
}
_NUMBER = re.compile(r"\d[\d,.]*\d|\d{2,}")
_SPACE = re.compile(r"\s+")


@dataclass
class ClusterInput:
    article_id: int
    canonical_url: str
    source: str
    language: str
    title: str
    body: str
    published_at: datetime | None
    entities: set[str] = field(default_factory=set)


@dataclass
class Cluster:
    cluster_id: str
    members: list[ClusterInput]
    is_press_release_reprint: bool

    def summary(self) -> dict[str, Any]:
        dated = [(m.published_at, m) for m in self.members if m.published_at is not None]
        first = min(dated, key=lambda pair: pair[0])[1] if dated else self.members[0]
        return {
            "cluster_id": self.cluster_id,
            "first_seen_at": first.published_at,
            "first_source": first.source,
            "first_article_id": first.article_id,
            "articles": len(self.members),
            "outlets": len({m.source for m in self.members}),
            "languages": ",".join(sorted({m.language for m in self.members})),
            "is_press_release_reprint": self.is_press_release_reprint,
        }


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _shingles(text: str) -> set[str]:
    flat = _SPACE.sub(" ", fold(text))[:4000]
    return {flat[i : i + SHINGLE] for i in range(max(1, len(flat) - SHINGLE + 1))}


def _numbers(text: str) -> set[str]:
    return {
        n.replace(",", "") for n in _NUMBER.findall(text) if not (len(n) == 4 and n.startswith(("19", "20")))
    }


def near_duplicate_pairs(items: list[ClusterInput]) -> list[tuple[int, int]]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=NEAR_DUP_THRESHOLD, num_perm=NUM_PERM)
    hashes: dict[int, MinHash] = {}
    pairs: list[tuple[int, int]] = []
    for item in items:
        if len(item.body) < MIN_NEAR_DUP_CHARS:
            continue
        minhash = MinHash(num_perm=NUM_PERM, seed=7)
        minhash.update_batch([s.encode("utf-8") for s in _shingles(f"{item.title}\n{item.body}")])
        for other in lsh.query(minhash):
            if hashes[other].jaccard(minhash) >= NEAR_DUP_THRESHOLD:
                pairs.append((other, item.article_id))
        lsh.insert(item.article_id, minhash)
        hashes[item.article_id] = minhash
    return pairs


def cross_language_pairs(items: list[ClusterInput]) -> list[tuple[int, int]]:
    english = [i for i in items if i.language == "en"]
    chinese = [i for i in items if i.language.startswith("zh")]
    pairs: list[tuple[int, int]] = []
    for en in english:
        en_entities = en.entities - GENERIC_ENTITIES
        if len(en_entities) < MIN_SHARED_ENTITIES or en.published_at is None:
            continue
        en_numbers = _numbers(f"{en.title} {en.body}")
        for zh in chinese:
            if zh.published_at is None or abs(zh.published_at - en.published_at) > CROSS_LANG_WINDOW:
                continue
            zh_entities = zh.entities - GENERIC_ENTITIES
            shared = en_entities & zh_entities
            if (
                len(shared) < MIN_SHARED_ENTITIES
                or len(shared) / len(en_entities | zh_entities) < ENTITY_JACCARD
            ):
                continue
            zh_numbers = _numbers(f"{zh.title} {zh.body}")
            if en_numbers and zh_numbers and not (en_numbers & zh_numbers):
                continue
            pairs.append((en.article_id, zh.article_id))
    return pairs


def _chronological(item: ClusterInput) -> tuple[bool, datetime, int]:
    """Oldest first, undated last (a naive `datetime.max` cannot be compared with aware dates)."""
    return (item.published_at is None, item.published_at or datetime.min, item.article_id)


def cluster_articles(items: Iterable[ClusterInput]) -> list[Cluster]:
    """Group articles into stories; every article ends up in exactly one cluster."""
    items = sorted(items, key=_chronological)
    by_id = {i.article_id: i for i in items}
    union = _UnionFind()
    for item in items:
        union.find(item.article_id)
    near = near_duplicate_pairs(items)
    for a, b in near + cross_language_pairs(items):
        union.union(a, b)
    groups: dict[int, list[ClusterInput]] = defaultdict(list)
    for item in items:
        groups[union.find(item.article_id)].append(by_id[item.article_id])
    near_set = {frozenset(p) for p in near}
    clusters: list[Cluster] = []
    for members in groups.values():
        first = members[0]
        official = [m for m in members if m.source in PRESS_RELEASE_SOURCES]
        reprint = any(
            frozenset((o.article_id, m.article_id)) in near_set
            for o in official
            for m in members
            if m.source not in PRESS_RELEASE_SOURCES
        )
        cluster_id = "c" + hashlib.sha1(first.canonical_url.encode()).hexdigest()[:15]
        clusters.append(Cluster(cluster_id, members, reprint))
    return clusters
