"""Story clusters: near-duplicates across outlets, and the same story told in English and Chinese.

Three passes, merged with union-find:
1. Near-duplicates (syndication, reprinted press releases): MinHash over character 5-grams of the
   folded text, LSH at Jaccard >= NEAR_DUP_THRESHOLD, for bodies of MIN_NEAR_DUP_CHARS or more,
   published within NEAR_DUP_WINDOW of each other when both are dated (a recurring release such as
   GIA's daily "Effective Exchange Rate Index" is near-identical every day, but not one story).
   Character shingles work for Chinese and English.
2. Cross-language pairs: an English and a Chinese article within CROSS_LANG_WINDOW that share at least
   MIN_SHARED_ENTITIES specific knowledge-base entities (generic ones such as the HKSAR Government do
   not count), with entity-set Jaccard >= ENTITY_JACCARD, and no contradicting numbers when both
   carry numbers (at least one shared number of 2+ digits).
3. Translated editions (TRANSLATED_EDITIONS: GIA's English and Chinese press releases are one text in
   two languages): each English release is paired with at most one Chinese release of the same
   family within EDITION_WINDOW, the mutual best by `edition_score` (shared figures, with Chinese
   numerals and English month names read as numbers; shared Latin terms; issue time; length and
   paragraph ratios), when that score reaches EDITION_MIN_SCORE. Pass 2 does not pair editions.
   `python -m transforms.eval_clusters` measures this on tests/data/clusters/gia_pairs.jsonl.

A cluster's id comes from its first article's canonical URL, so ids stay put as stories grow.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from transforms.text import fold

NEAR_DUP_THRESHOLD = 0.7
MIN_NEAR_DUP_CHARS = 100  # shorter texts (programme stubs, captions) give unreliable shingle sets
NUM_PERM = 64
NEAR_DUP_WINDOW = timedelta(days=7)
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

#: sources publishing one text in English and Chinese, by family: their versions pair one-to-one (pass 3)
TRANSLATED_EDITIONS = {"gia_en": "gia", "gia_zh": "gia"}
#: 60 of the 66 checked GIA pairs share the issue minute; the widest gap seen is 3 h 04 min
EDITION_WINDOW = timedelta(hours=6)
#: chosen on tests/data/clusters/gia_pairs.jsonl (see its README): every pair there scores 0.8 or
#: more, but unrelated releases of the same minutes reach 2.0 when their true partners are missing
EDITION_MIN_SCORE = 1.8
#: Chinese characters per English character in a translated release (median of the checked GIA pairs)
ZH_PER_EN_CHAR = 0.28
_FIGURE = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)\s*(million|billion|萬|億)?", re.IGNORECASE)
_MONTH_NAMES = "january february march april may june july august september october november december".split()
_MONTH_DAY = re.compile(
    r"\b(?:(?P<m1>" + "|".join(m.title() for m in _MONTH_NAMES) + r")\s+\d{1,2}\b"
    r"|\d{1,2}\s+(?P<m2>" + "|".join(m.title() for m in _MONTH_NAMES) + r")\b)"
)
_SCALES = {"million": Decimal(10**6), "billion": Decimal(10**9), "萬": Decimal(10**4), "億": Decimal(10**8)}
_CN_DIGITS = dict(zip("〇○零一二兩三四五六七八九", (0, 0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
#: after an Arabic figure, 萬 and 億 are its scale (5000萬), read by _FIGURE
_CN_NUMERAL = re.compile(r"(?<![\d.,])[〇○零一二兩三四五六七八九十百千萬億點]+")
_LATIN_TERM = re.compile(r"[A-Za-z][A-Za-z0-9&\-]*[A-Za-z0-9]")


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
    dates = {item.article_id: item.published_at for item in items}
    pairs: list[tuple[int, int]] = []
    for item in items:
        if len(item.body) < MIN_NEAR_DUP_CHARS:
            continue
        minhash = MinHash(num_perm=NUM_PERM, seed=7)
        minhash.update_batch([s.encode("utf-8") for s in _shingles(f"{item.title}\n{item.body}")])
        for other in lsh.query(minhash):
            if hashes[other].jaccard(minhash) < NEAR_DUP_THRESHOLD:
                continue
            other_date, date = dates[other], item.published_at
            if other_date is not None and date is not None and abs(date - other_date) > NEAR_DUP_WINDOW:
                continue
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
            if _edition_family(en) and _edition_family(en) == _edition_family(zh):
                continue  # translated editions pair one-to-one in pass 3
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
    return pairs + edition_pairs(items)


def _chinese_numeral(run: str) -> Decimal | None:
    """二○二五 → 2025, 十一 → 11, 二千四百四十萬 → 24400000, 一點二 → 1.2; None when not a number."""
    whole, _, fraction = run.partition("點")
    if not whole or any(c not in _CN_DIGITS for c in fraction):
        return None
    if whole[0] in "百千萬億" or not (whole[0] == "十" or any(c in _CN_DIGITS for c in whole)):
        return None  # 萬一, 千方百計: a unit cannot lead, and units without a digit are words
    tail = Decimal("0." + "".join(str(_CN_DIGITS[c]) for c in fraction)) if fraction else Decimal(0)
    if not any(c in _CN_UNITS or c in "萬億" for c in whole):  # written digit by digit: 二○二五
        if any(c not in _CN_DIGITS for c in whole):
            return None
        return Decimal("".join(str(_CN_DIGITS[c]) for c in whole)) + tail
    total, section, digit = Decimal(0), Decimal(0), None
    for char in whole:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[char]
            digit = None
        else:  # 萬 or 億 closes a section
            section += digit or 0
            total += (section or 1) * _SCALES[char]
            section, digit = Decimal(0), None
    return total + section + (digit or 0) + tail


def figures(text: str) -> set[Decimal]:
    """The numbers a text states, comparable across English and Chinese: Arabic figures with their
    scale (HK$24.4 million, 5000萬), Chinese numerals (十二萬元, 二○二五年) and the months of English
    dates (November 13 → 11, 13). Single digits are left out: list markers and 一 in common words."""
    found: set[Decimal] = set()
    for match in _FIGURE.finditer(text):
        try:
            value = Decimal(match.group(1).replace(",", ""))
        except InvalidOperation:
            continue
        found.add(value * _SCALES.get((match.group(2) or "").lower(), Decimal(1)))
    for match in _MONTH_DAY.finditer(text):
        found.add(Decimal(_MONTH_NAMES.index((match.group("m1") or match.group("m2")).lower()) + 1))
    for match in _CN_NUMERAL.finditer(text):
        if (numeral := _chinese_numeral(match.group(0))) is not None:
            found.add(numeral)
    return {v.normalize() for v in found if v >= 10 or v != v.to_integral_value()}


def _latin_terms(text: str) -> set[str]:
    return {t.lower() for t in _LATIN_TERM.findall(text)}


def _lines(text: str) -> int:
    return max(1, sum(1 for line in text.splitlines() if line.strip()))


def edition_score(en: ClusterInput, zh: ClusterInput) -> float:
    """How well a Chinese release reads as the translation of an English one (higher is closer).

    Issue time (1 at the same minute, fading over an hour) + shared figures (2 × Jaccard + 0.1 per
    shared figure, up to 10) + the share of the Chinese text's Latin terms found in the English −
    |log| of the length ratio against ZH_PER_EN_CHAR − half the |log| of the paragraph ratio.
    """
    score = 0.0
    if en.published_at is not None and zh.published_at is not None:
        score += math.exp(-abs((zh.published_at - en.published_at).total_seconds()) / 3600)
    en_text, zh_text = f"{en.title}\n{en.body}", f"{zh.title}\n{zh.body}"
    en_figures, zh_figures = figures(en_text), figures(zh_text)
    if en_figures or zh_figures:
        shared = len(en_figures & zh_figures)
        score += 2 * shared / len(en_figures | zh_figures) + 0.1 * min(shared, 10)
    zh_terms = _latin_terms(zh_text)
    if zh_terms:
        score += len(zh_terms & _latin_terms(en_text)) / len(zh_terms)
    score -= abs(math.log(max(len(zh.body), 1) / max(len(en.body), 1) / ZH_PER_EN_CHAR))
    score -= 0.5 * abs(math.log(_lines(en.body) / _lines(zh.body)))
    return score


def _edition_family(item: ClusterInput) -> str | None:
    return TRANSLATED_EDITIONS.get(item.source)


def edition_pairs(items: list[ClusterInput]) -> list[tuple[int, int]]:
    """(English id, Chinese id) of translated editions: mutual best `edition_score` within
    EDITION_WINDOW and the same family, at EDITION_MIN_SCORE or more (pass 3)."""
    english = [i for i in items if i.language == "en" and _edition_family(i) and i.published_at]
    chinese = [i for i in items if i.language.startswith("zh") and _edition_family(i) and i.published_at]
    scores: dict[tuple[int, int], float] = {}
    for en in english:
        for zh in chinese:
            assert en.published_at is not None and zh.published_at is not None
            if _edition_family(en) != _edition_family(zh):
                continue
            if abs(zh.published_at - en.published_at) > EDITION_WINDOW:
                continue
            score = edition_score(en, zh)
            if score >= EDITION_MIN_SCORE:
                scores[(en.article_id, zh.article_id)] = score
    best_for_en: dict[int, tuple[float, int]] = {}
    best_for_zh: dict[int, tuple[float, int]] = {}
    for (en_id, zh_id), score in sorted(scores.items()):
        if score > best_for_en.get(en_id, (-math.inf, 0))[0]:
            best_for_en[en_id] = (score, zh_id)
        if score > best_for_zh.get(zh_id, (-math.inf, 0))[0]:
            best_for_zh[zh_id] = (score, en_id)
    return [
        (en_id, zh_id) for en_id, (_, zh_id) in sorted(best_for_en.items()) if best_for_zh[zh_id][1] == en_id
    ]


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
