"""The digest's reads from the warehouse, one function per question.

Core tables are read through the models; marts through their definitions (warehouse/marts/), so a
mart's name and columns are written in one place and a read of a column it lacks fails loudly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select

from transforms.dates import HKT
from warehouse.marts import mart_table
from warehouse.models import (
    Article,
    ArticleEntity,
    ArticleSector,
    CrawlRun,
    Entity,
    LoadAudit,
    SourceRow,
    StoryCluster,
)


def week_bounds_utc(week_start: date) -> tuple[datetime, datetime]:
    """Monday 00:00 HKT to the next Monday 00:00 HKT, as the warehouse stores times (naive UTC)."""
    start = datetime.combine(week_start, time(0), tzinfo=HKT).astimezone(UTC).replace(tzinfo=None)
    return start, start + timedelta(days=7)


def latest_week(engine: Engine) -> date | None:
    """The latest week with a relevant article."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.max(Article.published_week)).where(Article.relevant.is_(True))
        ).scalar()


def relevant_articles(conn: Connection, first_week: date, last_week: date) -> list[Row]:
    """Relevant articles of the weeks from `first_week` to `last_week`, by id."""
    return list(
        conn.execute(
            select(
                Article.id,
                Article.title,
                Article.url,
                Article.source,
                Article.language,
                Article.body,
                Article.published_at,
                Article.published_week,
                Article.relevance,
                Article.cluster_id,
            )
            .where(
                Article.published_week >= first_week,
                Article.published_week <= last_week,
                Article.relevant.is_(True),
            )
            .order_by(Article.id)
        )
    )


def count_articles(conn: Connection, week_start: date) -> int:
    """All articles of the week, relevant or not."""
    query = select(func.count()).select_from(Article).where(Article.published_week == week_start)
    return int(conn.execute(query).scalar_one())


def entity_tags(conn: Connection, article_ids: list[int]) -> dict[int, list[tuple[str, str, str]]]:
    """Knowledge-base entities per article: (entity id, name, type)."""
    tags: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    if article_ids:
        for article_id, entity_id, name, entity_type in conn.execute(
            select(ArticleEntity.article_id, Entity.id, Entity.name, Entity.type)
            .join(Entity, Entity.id == ArticleEntity.entity_id)
            .where(ArticleEntity.article_id.in_(article_ids), Entity.status == "kb")
        ):
            tags[article_id].append((entity_id, name, entity_type))
    return tags


def chinese_names(conn: Connection, entity_ids: Iterable[str]) -> dict[str, str]:
    """The knowledge base's Traditional Chinese name of each of these entities that has one (the
    entities table is the KB, synced at every load); candidate names have none."""
    wanted = sorted(set(entity_ids))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 500):  # keep each IN list well under the drivers' limits
        query = select(Entity.id, Entity.zh_hant).where(
            Entity.id.in_(wanted[start : start + 500]), Entity.zh_hant.is_not(None), Entity.zh_hant != ""
        )
        names.update({entity_id: zh for entity_id, zh in conn.execute(query) if zh})
    return names


def mentioned_entities(conn: Connection, article_ids: list[int]) -> dict[int, set[str]]:
    """Every entity id tagged on each article, candidate names included."""
    mentioned: dict[int, set[str]] = defaultdict(set)
    if article_ids:
        for article_id, entity_id in conn.execute(
            select(ArticleEntity.article_id, ArticleEntity.entity_id).where(
                ArticleEntity.article_id.in_(article_ids)
            )
        ):
            mentioned[article_id].add(entity_id)
    return mentioned


def sector_tags(conn: Connection, article_ids: list[int]) -> dict[int, list[str]]:
    """Sectors per article."""
    tags: dict[int, list[str]] = defaultdict(list)
    if article_ids:
        for article_id, sector in conn.execute(
            select(ArticleSector.article_id, ArticleSector.sector).where(
                ArticleSector.article_id.in_(article_ids)
            )
        ):
            tags[article_id].append(sector)
    return tags


def story_clusters(conn: Connection, cluster_ids: Iterable[str | None]) -> dict[str, Row]:
    """The story clusters with these ids, by id."""
    wanted = sorted({c for c in cluster_ids if c})
    if not wanted:
        return {}
    rows = conn.execute(select(StoryCluster).where(StoryCluster.cluster_id.in_(wanted)))
    return {row.cluster_id: row for row in rows}


def source_titles(conn: Connection) -> dict[str, str]:
    """Each source's title, by source name."""
    return {name: title for name, title in conn.execute(select(SourceRow.name, SourceRow.title))}


def first_weeks(conn: Connection) -> dict[str, date]:
    """The first week each knowledge-base entity was mentioned in relevant news."""
    mentions = mart_table("mart_weekly_entity_mentions")
    query = select(mentions.c.entity_id, func.min(mentions.c.week_start).label("first_week")).group_by(
        mentions.c.entity_id
    )
    return {entity_id: first_week for entity_id, first_week in conn.execute(query)}


def new_entities(conn: Connection, week_start: date) -> dict[str, tuple[str, str]]:
    """Entities (candidate names included) first mentioned in relevant news this week: id → (name, type)."""
    t = mart_table("mart_new_entities")
    query = select(t.c.entity_id, t.c.entity_name, t.c.entity_type).where(t.c.week_start == week_start)
    return {entity_id: (name, kind) for entity_id, name, kind in conn.execute(query)}


def source_health(conn: Connection, week_start: date) -> list[dict[str, Any]]:
    """The week's crawls (started Monday 00:00 to Sunday 23:59 HKT), per source, oldest first."""
    t = mart_table("mart_source_health")
    start, end = week_bounds_utc(week_start)
    query = (
        select(t.c.source, t.c.run_started_at, t.c["items"], t.c.errors, t.c.flagged, t.c.flag_reason)
        .where(t.c.run_started_at >= start, t.c.run_started_at < end)
        .order_by(t.c.source, t.c.run_started_at)
    )
    return _dicts(conn, query)


def latest_load_after(conn: Connection, moment: datetime) -> Row | None:
    """The latest load whose crawls all started at or after `moment` (naive UTC): run_id, loaded_at."""
    starts = (
        select(CrawlRun.run_id, func.min(CrawlRun.started_at).label("first_start"))
        .group_by(CrawlRun.run_id)
        .subquery()
    )
    query = (
        select(LoadAudit.run_id, LoadAudit.loaded_at, starts.c.first_start)
        .join(starts, starts.c.run_id == LoadAudit.run_id)
        .where(starts.c.first_start >= moment)
        .order_by(LoadAudit.loaded_at.desc())
        .limit(1)
    )
    return conn.execute(query).first()


def latest_load(conn: Connection) -> Row | None:
    """The most recent load of all: run_id, loaded_at."""
    query = select(LoadAudit.run_id, LoadAudit.loaded_at).order_by(LoadAudit.loaded_at.desc()).limit(1)
    return conn.execute(query).first()


def _dicts(conn: Connection, query: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(query)]
