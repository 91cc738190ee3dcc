"""Select the week's content: top stories (ranked in ranking.py, worded in prose.py), entities,
sectors, new names, spikes and source health, read through queries.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, Row

from digest import queries
from digest.prose import extract, outlet_name, published_label, why
from digest.ranking import Candidate, Ranked, rank_stories

TREND_ENTITIES = 4
TREND_WEEKS = 8


@dataclass
class Story:
    article_id: int
    title: str
    url: str
    source: str
    language: str
    published: str
    extract: str
    entities: list[str]
    sectors: list[str]
    score: float
    why: str


@dataclass
class DigestContent:
    week_start: date
    stories: list[Story] = field(default_factory=list)
    top_entities: list[dict[str, Any]] = field(default_factory=list)
    sector_share: list[dict[str, Any]] = field(default_factory=list)
    new_entities: list[dict[str, Any]] = field(default_factory=list)
    spikes: list[dict[str, Any]] = field(default_factory=list)
    entity_trend: dict[str, list[tuple[date, int]]] = field(default_factory=dict)
    health: list[dict[str, Any]] = field(default_factory=list)
    relevant_articles: int = 0
    all_articles: int = 0

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)


@dataclass(frozen=True)
class Filters:
    """A subscriber's filters; an empty filter lets everything through."""

    entities: set[str] | None = None
    sectors: set[str] | None = None
    languages: set[str] | None = None
    min_relevance: float = 0.0

    def accepts(self, article: Row, week: WeekArticles) -> bool:
        entity_ids = {entity_id for entity_id, _, _ in week.entities[article.id]}
        return (
            (not self.entities or bool(entity_ids & self.entities))
            and (not self.sectors or bool(set(week.sectors[article.id]) & self.sectors))
            and (not self.languages or article.language in self.languages)
            and article.relevance >= self.min_relevance
        )


@dataclass
class WeekArticles:
    """The week's relevant articles with their tags and stories."""

    articles: list[Row]
    entities: dict[int, list[tuple[str, str, str]]]  # article id → (entity id, name, type)
    sectors: dict[int, list[str]]
    clusters: dict[str, Row]


def select_content(
    engine: Engine,
    week_start: date,
    *,
    max_stories: int = 10,
    entities: set[str] | None = None,
    sectors: set[str] | None = None,
    languages: set[str] | None = None,
    min_relevance: float = 0.0,
) -> DigestContent:
    """Everything the digest shows for one ISO week (HKT); filters narrow the stories per subscriber."""
    filters = Filters(entities, sectors, languages, min_relevance)
    with engine.connect() as conn:
        week = load_week(conn, week_start)
        top = queries.top_entities(conn, week_start)
        trend_ids = [e["entity_id"] for e in top[:TREND_ENTITIES]]
        return DigestContent(
            week_start=week_start,
            stories=top_stories(conn, week, week_start, filters, max_stories),
            top_entities=top,
            sector_share=queries.sector_share(conn, week_start),
            new_entities=queries.new_entities(conn, week_start),
            spikes=queries.spikes(conn, week_start),
            entity_trend=entity_trend(queries.entity_weeks(conn, trend_ids, week_start), top),
            health=queries.source_health(conn),
            relevant_articles=len(week.articles),
            all_articles=queries.count_articles(conn, week_start),
        )


def load_week(conn: Connection, week_start: date) -> WeekArticles:
    articles = queries.week_articles(conn, week_start)
    ids = [a.id for a in articles]
    return WeekArticles(
        articles=articles,
        entities=queries.entity_tags(conn, ids),
        sectors=queries.sector_tags(conn, ids),
        clusters=queries.story_clusters(conn, (a.cluster_id for a in articles)),
    )


def top_stories(
    conn: Connection, week: WeekArticles, week_start: date, filters: Filters, limit: int
) -> list[Story]:
    """The week's best stories that pass the subscriber's filters, as digest items."""
    chosen = [candidate(article, week) for article in week.articles if filters.accepts(article, week)]
    ranked = rank_stories(chosen, queries.first_weeks(conn), week_start, limit)
    outlets = {name: outlet_name(title) for name, title in queries.source_titles(conn).items()}
    by_id = {a.id: a for a in week.articles}
    return [story(by_id[r.candidate.article_id], r, week, outlets) for r in ranked]


def candidate(article: Row, week: WeekArticles) -> Candidate:
    cluster = week.clusters.get(article.cluster_id or "")
    return Candidate(
        article_id=article.id,
        relevance=article.relevance,
        entities=tuple((entity_id, kind) for entity_id, _, kind in week.entities[article.id]),
        cluster_id=article.cluster_id,
        outlets=cluster.outlets if cluster is not None else 1,
    )


def story(article: Row, ranked: Ranked, week: WeekArticles, outlets: dict[str, str]) -> Story:
    names = [name for _, name, _ in week.entities[article.id]]
    sectors = sorted(week.sectors[article.id])
    return Story(
        article_id=article.id,
        title=article.title,
        url=article.url,
        source=outlets.get(article.source, article.source),
        language=article.language,
        published=published_label(article.published_at),
        extract=extract(article.body),
        entities=names,
        sectors=sectors,
        score=ranked.score,
        why=why(
            names,
            sectors,
            article.relevance,
            **coverage(week.clusters.get(article.cluster_id or ""), outlets),
        ),
    )


def coverage(cluster: Row | None, outlets: dict[str, str]) -> dict[str, Any]:
    """How widely the article's story was carried, for `why`."""
    if cluster is None:
        return {}
    return {
        "story_articles": cluster.articles,
        "story_outlets": cluster.outlets,
        "first_reported_by": outlets.get(cluster.first_source or "", cluster.first_source),
    }


def entity_trend(weekly: pd.DataFrame, top: list[dict[str, Any]]) -> dict[str, list[tuple[date, int]]]:
    """The last TREND_WEEKS weeks of each of the top entities (in their order), by entity name."""
    recent = weekly.sort_values(["entity_id", "week_start"]).groupby("entity_id").tail(TREND_WEEKS)
    trend: dict[str, list[tuple[date, int]]] = {}
    for entity in top[:TREND_ENTITIES]:
        rows = recent[recent["entity_id"] == entity["entity_id"]]
        trend[entity["entity_name"]] = [
            (week, int(articles)) for week, articles in zip(rows["week_start"], rows["articles"], strict=True)
        ]
    return trend
