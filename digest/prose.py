"""The words around a story: its outlet's short name, an extract, the publication time and why it is there."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from digest.i18n import EN, ZH_HANT, sector_name, time_label
from transforms.dates import as_hkt

EXTRACT_CHARS = 240
SENTENCE_ENDS = ("。", ". ", "！", "？")
WHY_ENTITIES = 4
REASON_CHARS = 160
_PROCESS_FAILURE = re.compile(r"(crawl process failed \(exit -?\d+\)).*", re.S)


def outlet_name(title: str) -> str:
    """Short outlet name from a source title: 'RTHK English news (local, …)' → 'RTHK English news'."""
    return title.split(":")[0].split(" (")[0].strip()


def extract(body: str, limit: int = EXTRACT_CHARS) -> str:
    """The first sentence or two, cut at a sentence end when one is near."""
    flat = " ".join(body.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    for mark in SENTENCE_ENDS:
        position = cut.rfind(mark)
        if position > limit // 3:
            return cut[: position + 1].strip()
    return cut.rstrip() + "…"


def published_label(published_at: datetime | None, language: str = EN) -> str:
    """'Tue 25 Nov 09:00 HKT' (or '11月25日（二）09:00 香港時間') from a stored (naive UTC) time; '' when unknown."""
    if published_at is None:
        return ""
    return time_label(as_hkt(published_at.replace(tzinfo=UTC)), language)


def why(
    entities: list[str],
    sectors: list[str],
    relevance: float,
    *,
    story_articles: int = 1,
    story_outlets: int = 1,
    first_reported_by: str | None = None,
    language: str = EN,
) -> str:
    """Why a story is in the digest: its entities and sectors, how widely it was carried, its relevance."""
    if language == ZH_HANT:
        return _why_zh(entities, sectors, relevance, story_articles, story_outlets, first_reported_by)
    parts = []
    if entities:
        parts.append("entities: " + ", ".join(entities[:WHY_ENTITIES]))
    if sectors:
        parts.append("sectors: " + ", ".join(sorted(sectors)))
    if story_articles > 1:
        parts.append(
            f"{story_articles} articles from {story_outlets} outlet(s), first reported by {first_reported_by}"
        )
    parts.append(f"relevance {relevance:.2f}")
    return "; ".join(parts)


def _why_zh(
    entities: list[str],
    sectors: list[str],
    relevance: float,
    story_articles: int,
    story_outlets: int,
    first_reported_by: str | None,
) -> str:
    parts = []
    if entities:
        parts.append("機構及人物：" + "、".join(entities[:WHY_ENTITIES]))
    if sectors:
        parts.append("行業：" + "、".join(sector_name(s, ZH_HANT) for s in sorted(sectors)))
    if story_articles > 1:
        parts.append(f"{story_outlets} 個媒體共 {story_articles} 篇報道，最先由 {first_reported_by} 報道")
    parts.append(f"相關度 {relevance:.2f}")
    return "；".join(parts)


def health_reason(reason: str | None) -> str:
    """A crawl's flag reason as one line for readers: a failed crawl process's log tail (which can
    hold a traceback) is dropped, and so is anything after the first line."""
    text = _PROCESS_FAILURE.sub(r"\1", (reason or "").strip())
    text = re.split(r"Traceback \(most recent call last\)", text)[0]
    lines = text.strip().splitlines()
    line = " ".join(lines[0].split()).rstrip(":;, ") if lines else ""
    return line if len(line) <= REASON_CHARS else line[: REASON_CHARS - 1].rstrip() + "…"
