"""The words around a story: its outlet's short name, an extract, the publication time and why it is there."""

from __future__ import annotations

from datetime import UTC, datetime

from transforms.dates import as_hkt

EXTRACT_CHARS = 240
SENTENCE_ENDS = ("。", ". ", "！", "？")
WHY_ENTITIES = 4


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


def published_label(published_at: datetime | None) -> str:
    """'Tue 25 Nov 09:00 HKT' from a stored (naive UTC) time; '' when unknown."""
    if published_at is None:
        return ""
    return as_hkt(published_at.replace(tzinfo=UTC)).strftime("%a %d %b %H:%M HKT")


def why(
    entities: list[str],
    sectors: list[str],
    relevance: float,
    *,
    story_articles: int = 1,
    story_outlets: int = 1,
    first_reported_by: str | None = None,
) -> str:
    """Why a story is in the digest: its entities and sectors, how widely it was carried, its relevance."""
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
