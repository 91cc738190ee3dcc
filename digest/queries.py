"""The digest's reads from the warehouse, one function per question.

Core tables are read through the models; marts through their definitions (warehouse/marts/), so a
mart's name and columns are written in one place and a read of a column it lacks fails loudly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, Row, case, func, select

from warehouse.marts import mart_table
from warehouse.models import Article, ArticleEntity, ArticleSector, Entity, SourceRow, StoryCluster


def latest_week(engine: Engine) -> date | None:
    """The latest week with a relevant article."""
    with engine.connect() as conn:
        return conn.execute(
            select(func.max(Article.published_week)).where(Article.relevant.is_(True))
        ).scalar()


def week_articles(conn: Connection, week_start: date) -> list[Row]:
    """The week's relevant articles, by id."""
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
                Article.relevance,
                Article.cluster_id,
            )
            .where(Article.published_week == week_start, Article.relevant.is_(True))
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


def top_entities(conn: Connection, week_start: date, limit: int = 10) -> list[dict[str, Any]]:
    t = mart_table("mart_weekly_entity_mentions")
    query = (
        select(t.c.entity_id, t.c.entity_name, t.c.entity_type, t.c.articles)
        .where(t.c.week_start == week_start)
        .order_by(t.c.articles.desc(), t.c.entity_name)
        .limit(limit)
    )
    return _dicts(conn, query)


def sector_share(conn: Connection, week_start: date) -> list[dict[str, Any]]:
    t = mart_table("mart_weekly_sector_share")
    query = (
        select(t.c.sector, t.c.articles, t.c.share)
        .where(t.c.week_start == week_start)
        .order_by(t.c.articles.desc(), t.c.sector)
    )
    return _dicts(conn, query)


def new_entities(conn: Connection, week_start: date, limit: int = 10) -> list[dict[str, Any]]:
    t = mart_table("mart_new_entities")
    query = (
        select(t.c.entity_name, t.c.entity_type, t.c.articles)
        .where(t.c.week_start == week_start)
        .order_by(t.c.articles.desc(), t.c.entity_name)
        .limit(limit)
    )
    return _dicts(conn, query)


def spikes(conn: Connection, week_start: date, limit: int = 8) -> list[dict[str, Any]]:
    t = mart_table("mart_entity_spikes")
    query = (
        select(t.c.entity_name, t.c.articles, t.c.baseline, t.c.score)
        .where(t.c.week_start == week_start)
        .order_by(t.c.score.desc())
        .limit(limit)
    )
    return _dicts(conn, query)


def entity_weeks(conn: Connection, entity_ids: list[str], until: date) -> pd.DataFrame:
    """Weekly articles of these entities up to `until`: columns entity_id, week_start (date), articles."""
    t = mart_table("mart_weekly_entity_mentions")
    query = select(t.c.entity_id, t.c.week_start, t.c.articles).where(
        t.c.entity_id.in_(entity_ids), t.c.week_start <= until
    )
    frame = pd.DataFrame(conn.execute(query).all(), columns=["entity_id", "week_start", "articles"])
    frame["week_start"] = pd.to_datetime(frame["week_start"]).dt.date
    return frame.astype({"articles": int})


def source_health(conn: Connection) -> list[dict[str, Any]]:
    """Per source, over every crawl on record: runs, items, errors, blocks, flagged runs, a reason."""
    t = mart_table("mart_source_health")
    query = (
        select(
            t.c.source,
            func.count().label("runs"),
            func.sum(t.c["items"]).label("items"),
            func.sum(t.c.errors).label("errors"),
            func.sum(t.c.blocked).label("blocked"),
            func.sum(case((t.c.flagged.is_(True), 1), else_=0)).label("flagged_runs"),
            func.max(t.c.flag_reason).label("reason"),
        )
        .group_by(t.c.source)
        .order_by(t.c.source)
    )
    return _dicts(conn, query)


def _dicts(conn: Connection, query: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(query)]
