"""What each page shows, read from the warehouse: marts through their definitions, core tables
through the models, the week's stories through the digest's own selection (so the why-included
line is the digest's). Every query is bound and limited; the pages only format the results.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, func, select

from digest.outbox import archive_id, recipient_key
from digest.queries import latest_week
from digest.select import Story, select_content
from transforms.dates import HKT
from transforms.kb import KbEntity, load_entities
from warehouse.marts import mart_rows, mart_table
from warehouse.models import Article, ArticleEntity, DigestOutbox

TOP_ENTITIES = 12
STORIES = 8
SPIKES = 10
NEW_NAMES = 12
COOCCURRING = 15
ENTITY_STORIES = 15
DIGESTS_PER_PAGE = 25
EVIDENCE_SPANS = 3
EVIDENCE_CONTEXT = 60
WEEK_CHOICES = 156  # three years of weeks in the picker
HEALTH_CRAWLS = 500  # latest crawls read for the per-source health table


@lru_cache(maxsize=1)
def knowledge_base() -> dict[str, KbEntity]:
    """The KB, loaded once per process (the files change only with a deploy)."""
    return load_entities()


def names(entity_id: str, fallback: str = "") -> dict[str, str]:
    """English, Traditional and Simplified names of an entity (KB first, then the fallback name)."""
    entity = knowledge_base().get(entity_id)
    if entity is None:
        return {"en": fallback or entity_id, "zh_hant": "", "zh_hans": ""}
    return {"en": entity.name, "zh_hant": entity.zh_hant or "", "zh_hans": entity.zh_hans or ""}


def hkt(moment: datetime | str | None) -> str:
    """A warehouse time (naive UTC) shown in Hong Kong time."""
    if moment is None or moment == "":
        return "date unknown"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(HKT).strftime("%Y-%m-%d %H:%M HKT")


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def pick_week(engine: Engine, requested: str | None) -> date:
    """The requested week (any day of it, ISO), else the latest week with relevant news, else this week."""
    if requested:
        try:
            return monday(date.fromisoformat(requested.strip()[:10]))
        except ValueError as exc:
            raise ValueError(f"week must be a date like 2025-11-10, not {requested!r}") from exc
    latest = latest_week(engine)
    if latest is not None:
        return monday(latest if isinstance(latest, date) else date.fromisoformat(str(latest)[:10]))
    return monday(datetime.now(HKT).date())


def _mart_where(engine: Engine, name: str, *conditions: Any, order: tuple[Any, ...] = ()) -> list[dict]:
    table = mart_table(name)
    query = (
        select(table).where(*(cond(table.c) for cond in conditions)).order_by(*(o(table.c) for o in order))
    )
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


@dataclass
class Overview:
    week: date
    previous: date
    relevant: dict[date, int]
    collected: dict[date, int]
    top_entities: list[dict[str, Any]]
    sector_share: list[dict[str, Any]]
    spikes: list[dict[str, Any]]
    new_names: list[dict[str, Any]]
    health: list[dict[str, Any]]
    stories: list[Story]
    weeks: list[tuple[date, int]]  # weeks with relevant news, newest first, for the week picker


def overview(engine: Engine, week: date) -> Overview:
    """This week against the week before: the marts for counts, the digest's ranking for stories."""
    previous = week - timedelta(weeks=1)
    both = (week, previous)
    volume = _mart_where(engine, "mart_weekly_source_volume", lambda c: c.week_start.in_(both))
    relevant: dict[date, int] = defaultdict(int)
    collected: dict[date, int] = defaultdict(int)
    for row in volume:
        relevant[row["week_start"]] += int(row["articles"])
        collected[row["week_start"]] += int(row["all_articles"])

    mentions = _mart_where(engine, "mart_weekly_entity_mentions", lambda c: c.week_start.in_(both))
    by_entity: dict[str, dict[str, Any]] = {}
    for row in mentions:
        entry = by_entity.setdefault(
            row["entity_id"],
            {"entity_id": row["entity_id"], "type": row["entity_type"], "this": 0, "last": 0},
        )
        entry["this" if row["week_start"] == week else "last"] += int(row["articles"])
        entry["names"] = names(row["entity_id"], row["entity_name"])
    top = sorted((e for e in by_entity.values() if e["this"]), key=lambda e: (-e["this"], e["names"]["en"]))[
        :TOP_ENTITIES
    ]

    shares = _mart_where(engine, "mart_weekly_sector_share", lambda c: c.week_start.in_(both))
    sectors: dict[str, dict[str, Any]] = {}
    for row in shares:
        entry = sectors.setdefault(row["sector"], {"sector": row["sector"], "this": 0.0, "last": 0.0})
        entry["this" if row["week_start"] == week else "last"] = float(row["share"])
    sector_share = sorted(sectors.values(), key=lambda s: (-s["this"], -s["last"], s["sector"]))

    spikes = _mart_where(
        engine,
        "mart_entity_spikes",
        lambda c: c.week_start == week,
        order=(lambda c: c.score.desc(), lambda c: c.entity_id),
    )[:SPIKES]
    for spike in spikes:
        spike["names"] = names(spike["entity_id"], spike["entity_name"])
    new = _mart_where(
        engine,
        "mart_new_entities",
        lambda c: c.week_start == week,
        order=(lambda c: c.articles.desc(), lambda c: c.entity_name),
    )[:NEW_NAMES]
    for row in new:
        row["names"] = names(row["entity_id"], row["entity_name"])
        row["in_kb"] = row["entity_id"] in knowledge_base()

    content = select_content(engine, week, max_stories=STORIES)
    return Overview(
        week=week,
        previous=previous,
        relevant=dict(relevant),
        collected=dict(collected),
        top_entities=top,
        sector_share=sector_share,
        spikes=spikes,
        new_names=new,
        health=source_health(engine),
        stories=content.stories,
        weeks=weeks_with_news(engine),
    )


def weeks_with_news(engine: Engine, limit: int = WEEK_CHOICES) -> list[tuple[date, int]]:
    """Weeks with relevant articles and how many, newest first (from the source-volume mart)."""
    volume = mart_table("mart_weekly_source_volume")
    total = func.sum(volume.c.articles)
    query = (
        select(volume.c.week_start, total)
        .group_by(volume.c.week_start)
        .having(total > 0)
        .order_by(volume.c.week_start.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [(week, int(n)) for week, n in conn.execute(query)]


def source_health(engine: Engine) -> list[dict[str, Any]]:
    """Each source's latest crawl (mart_source_health), flagged sources first."""
    latest: dict[str, dict[str, Any]] = {}
    for row in mart_rows(engine, "mart_source_health", order_by="run_started_at desc", limit=HEALTH_CRAWLS):
        latest.setdefault(row["source"], row)
    return sorted(latest.values(), key=lambda r: (not r["flagged"], r["source"]))


@dataclass
class EntityStory:
    article_id: int
    title: str
    url: str
    source: str
    language: str
    published: str
    relevant: bool
    evidence: list[dict[str, str]] = field(default_factory=list)


@dataclass
class EntityPage:
    entity: KbEntity
    timeline: list[tuple[date, int]]
    total_articles: int
    cooccurring: list[dict[str, Any]]
    stories: list[EntityStory]
    stories_total: int
    page: int
    pages: int


def entity_page(engine: Engine, entity_id: str, page: int = 1) -> EntityPage | None:
    """One KB entity: its weekly mentions, who it appears with, its latest stories and why they were
    tagged. None when the id is not in the knowledge base."""
    entity = knowledge_base().get(entity_id)
    if entity is None:
        return None
    weekly = _mart_where(
        engine,
        "mart_weekly_entity_mentions",
        lambda c: c.entity_id == entity_id,
        order=(lambda c: c.week_start,),
    )
    timeline = [(row["week_start"], int(row["articles"])) for row in weekly]
    with engine.connect() as conn:
        pairs = mart_table("mart_entity_cooccurrence")
        together: dict[str, int] = defaultdict(int)
        for mine, other in ((pairs.c.entity_a, pairs.c.entity_b), (pairs.c.entity_b, pairs.c.entity_a)):
            query = select(other, func.sum(pairs.c.articles)).where(mine == entity_id).group_by(other)
            for other_id, articles in conn.execute(query):
                together[other_id] += int(articles or 0)
        tagged = select(func.count()).select_from(ArticleEntity).where(ArticleEntity.entity_id == entity_id)
        total = int(conn.execute(tagged).scalar_one())
        pages = max(1, -(-total // ENTITY_STORIES))
        page = min(max(1, page), pages)
        rows = conn.execute(
            select(
                Article.id,
                Article.title,
                Article.url,
                Article.source,
                Article.language,
                Article.published_at,
                Article.relevant,
                Article.body,
                ArticleEntity.evidence,
            )
            .join(ArticleEntity, ArticleEntity.article_id == Article.id)
            .where(ArticleEntity.entity_id == entity_id)
            .order_by(Article.published_at.desc().nulls_last(), Article.id.desc())
            .limit(ENTITY_STORIES)
            .offset((page - 1) * ENTITY_STORIES)
        ).all()
    cooccurring = [
        {"entity_id": other, "articles": n, "names": names(other), "in_kb": other in knowledge_base()}
        for other, n in sorted(together.items(), key=lambda kv: (-kv[1], kv[0]))[:COOCCURRING]
    ]
    stories = [
        EntityStory(
            article_id=row.id,
            title=row.title,
            url=row.url,
            source=row.source,
            language=row.language,
            published=hkt(row.published_at),
            relevant=bool(row.relevant),
            evidence=evidence_snippets(row.title, row.body, row.evidence or []),
        )
        for row in rows
    ]
    return EntityPage(
        entity=entity,
        timeline=timeline,
        total_articles=sum(n for _, n in timeline),
        cooccurring=cooccurring,
        stories=stories,
        stories_total=total,
        page=page,
        pages=pages,
    )


def evidence_snippets(title: str, body: str, spans: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The text around each evidence span (the exact words that tagged the entity), split so the
    template can mark the span itself: before, span, after."""
    texts = {"title": title or "", "body": body or ""}
    snippets = []
    for span in spans[:EVIDENCE_SPANS]:
        text = texts.get(str(span.get("field")), "")
        start, end = int(span.get("start", 0)), int(span.get("end", 0))
        if not (0 <= start < end <= len(text)):
            snippets.append(
                {
                    "field": str(span.get("field")),
                    "before": "",
                    "span": str(span.get("text", "")),
                    "after": "",
                }
            )
            continue
        left = max(0, start - EVIDENCE_CONTEXT)
        right = min(len(text), end + EVIDENCE_CONTEXT)
        snippets.append(
            {
                "field": str(span.get("field")),
                "before": ("…" if left else "") + text[left:start],
                "span": text[start:end],
                "after": text[end:right] + ("…" if right < len(text) else ""),
            }
        )
    return snippets


@dataclass
class DigestEntry:
    id: str
    week_start: date
    recipient: str
    message_id: str
    rendered: str


def digest_list(engine: Engine, page: int = 1) -> tuple[list[DigestEntry], int]:
    """Rendered digests, newest week first, one page of them; and the number of pages."""
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(DigestOutbox)).scalar_one())
        pages = max(1, -(-total // DIGESTS_PER_PAGE))
        page = min(max(1, page), pages)
        rows = conn.execute(
            select(
                DigestOutbox.recipient,
                DigestOutbox.week_start,
                DigestOutbox.message_id,
                DigestOutbox.rendered_at,
            )
            .order_by(DigestOutbox.week_start.desc(), DigestOutbox.recipient)
            .limit(DIGESTS_PER_PAGE)
            .offset((page - 1) * DIGESTS_PER_PAGE)
        ).all()
    entries = [
        DigestEntry(
            id=digest_id(row.week_start, row.recipient),
            week_start=row.week_start,
            recipient=row.recipient,
            message_id=row.message_id,
            rendered=hkt(row.rendered_at),
        )
        for row in rows
    ]
    return entries, pages


def digest_id(week_start: date, recipient: str) -> str:
    """A digest's id in URLs: its week and the recipient's file key (the same stem as out/digests/)."""
    return archive_id(week_start, recipient)


def digest_eml(engine: Engine, ident: str) -> tuple[DigestEntry, bytes] | None:
    """The stored message of one digest, by id; None for an id that names none."""
    week_text, _, key = ident.partition("_")
    try:
        week = date.fromisoformat(week_text)
    except ValueError:
        return None
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                DigestOutbox.recipient,
                DigestOutbox.week_start,
                DigestOutbox.message_id,
                DigestOutbox.rendered_at,
                DigestOutbox.eml,
            ).where(DigestOutbox.week_start == week)
        ).all()
    for row in rows:
        if recipient_key(row.recipient) == key:
            entry = DigestEntry(ident, row.week_start, row.recipient, row.message_id, hkt(row.rendered_at))
            return entry, bytes(row.eml)
    return None
