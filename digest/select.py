"""Select the week's content from the warehouse: top stories, entities, sectors, new names, health."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from transforms.dates import as_hkt
from warehouse.models import Article, ArticleEntity, ArticleSector, Entity, SourceRow, StoryCluster

ENTITY_WEIGHT = {
    "government-body": 1.0,
    "programme": 1.0,
    "organisation": 0.9,
    "university": 0.9,
    "research-institute": 0.9,
    "company": 0.8,
    "person": 0.7,
    "product": 0.6,
}


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


def _outlet(title: str) -> str:
    """Short outlet name from a source title: 'RTHK English news (local, …)' → 'RTHK English news'."""
    return title.split(":")[0].split(" (")[0].strip()


def latest_week(engine: Engine) -> date | None:
    with engine.connect() as conn:
        value = conn.execute(
            select(func.max(Article.published_week)).where(Article.relevant.is_(True))
        ).scalar()
    return value


def _extract(body: str, limit: int = 240) -> str:
    """The first sentence or two, cut at a sentence end when one is near."""
    flat = " ".join(body.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    for mark in ("。", ". ", "！", "？"):
        position = cut.rfind(mark)
        if position > limit // 3:
            return cut[: position + 1].strip()
    return cut.rstrip() + "…"


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
    """Everything the digest shows for one ISO week (HKT); filters narrow it per subscriber."""
    content = DigestContent(week_start=week_start)
    with Session(engine) as conn:
        articles = (
            conn.execute(
                select(Article).where(Article.published_week == week_start, Article.relevant.is_(True))
            )
            .scalars()
            .all()
        )
        content.all_articles = conn.execute(
            select(func.count()).select_from(Article).where(Article.published_week == week_start)
        ).scalar_one()
        ids = [a.id for a in articles]
        tags: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
        sector_tags: dict[int, list[str]] = defaultdict(list)
        if ids:
            for article_id, entity_id, name, etype in conn.execute(
                select(ArticleEntity.article_id, Entity.id, Entity.name, Entity.type)
                .join(Entity, Entity.id == ArticleEntity.entity_id)
                .where(ArticleEntity.article_id.in_(ids), Entity.status == "kb")
            ):
                tags[article_id].append((entity_id, name, etype))
            for article_id, sector in conn.execute(
                select(ArticleSector.article_id, ArticleSector.sector).where(
                    ArticleSector.article_id.in_(ids)
                )
            ):
                sector_tags[article_id].append(sector)
        outlets = {
            name: _outlet(title) for name, title in conn.execute(select(SourceRow.name, SourceRow.title))
        }
        cluster_ids = sorted({a.cluster_id for a in articles if a.cluster_id})
        clusters = (
            {
                c.cluster_id: c
                for c in conn.execute(
                    select(StoryCluster).where(StoryCluster.cluster_id.in_(cluster_ids))
                ).scalars()
            }
            if cluster_ids
            else {}
        )
        history = dict(
            conn.execute(
                text("SELECT entity_id, MIN(week_start) FROM mart_weekly_entity_mentions GROUP BY entity_id")
            ).all()
        )

        chosen: dict[str, Story] = {}
        for article in articles:
            names = [n for _, n, _ in tags[article.id]]
            if entities and not ({e for e, _, _ in tags[article.id]} & entities):
                continue
            if sectors and not (set(sector_tags[article.id]) & sectors):
                continue
            if languages and article.language not in languages:
                continue
            if article.relevance < min_relevance:
                continue
            importance = sum(ENTITY_WEIGHT.get(t, 0.5) for _, _, t in tags[article.id][:6])
            novelty = sum(
                1 for e, _, _ in tags[article.id] if str(history.get(e, ""))[:10] == str(week_start)
            )
            cluster_size = clusters[article.cluster_id].outlets if article.cluster_id in clusters else 1
            score = round(
                2.0 * article.relevance + 0.5 * importance + 0.5 * novelty + 1.0 * (cluster_size - 1), 3
            )
            published = as_hkt(article.published_at.replace(tzinfo=UTC)) if article.published_at else None
            why_parts = []
            if names:
                why_parts.append("entities: " + ", ".join(names[:4]))
            if sector_tags[article.id]:
                why_parts.append("sectors: " + ", ".join(sorted(sector_tags[article.id])))
            cluster = clusters.get(article.cluster_id or "")
            if cluster is not None and cluster.articles > 1:
                why_parts.append(
                    f"{cluster.articles} articles from {cluster.outlets} outlet(s), "
                    f"first reported by {outlets.get(cluster.first_source or '', cluster.first_source)}"
                )
            why_parts.append(f"relevance {article.relevance:.2f}")
            story = Story(
                article_id=article.id,
                title=article.title,
                url=article.url,
                source=outlets.get(article.source, article.source),
                language=article.language,
                published=published.strftime("%a %d %b %H:%M HKT") if published else "",
                extract=_extract(article.body),
                entities=names,
                sectors=sorted(sector_tags[article.id]),
                score=score,
                why="; ".join(why_parts),
            )
            key = article.cluster_id or f"a{article.id}"
            if key not in chosen or chosen[key].score < story.score:
                chosen[key] = story
        content.stories = sorted(chosen.values(), key=lambda s: (-s.score, s.article_id))[:max_stories]
        content.relevant_articles = len(articles)

        content.top_entities = [
            dict(r._mapping)
            for r in conn.execute(
                text(
                    "SELECT entity_id, entity_name, entity_type, articles FROM mart_weekly_entity_mentions "
                    "WHERE week_start = :w ORDER BY articles DESC, entity_name LIMIT 10"
                ),
                {"w": week_start},
            )
        ]
        content.sector_share = [
            dict(r._mapping)
            for r in conn.execute(
                text(
                    "SELECT sector, articles, share FROM mart_weekly_sector_share WHERE week_start = :w "
                    "ORDER BY articles DESC, sector"
                ),
                {"w": week_start},
            )
        ]
        content.new_entities = [
            dict(r._mapping)
            for r in conn.execute(
                text(
                    "SELECT entity_name, entity_type, articles FROM mart_new_entities WHERE week_start = :w "
                    "ORDER BY articles DESC, entity_name LIMIT 10"
                ),
                {"w": week_start},
            )
        ]
        content.spikes = [
            dict(r._mapping)
            for r in conn.execute(
                text(
                    "SELECT entity_name, articles, baseline, score FROM mart_entity_spikes WHERE week_start = :w "
                    "ORDER BY score DESC LIMIT 8"
                ),
                {"w": week_start},
            )
        ]
        top_ids = [e["entity_id"] for e in content.top_entities[:4]]
        for entity_id in top_ids:
            rows = conn.execute(
                text(
                    "SELECT week_start, articles FROM mart_weekly_entity_mentions WHERE entity_id = :e "
                    "AND week_start <= :w ORDER BY week_start"
                ),
                {"e": entity_id, "w": week_start},
            ).all()
            name = next(e["entity_name"] for e in content.top_entities if e["entity_id"] == entity_id)
            content.entity_trend[name] = [
                (r[0] if isinstance(r[0], date) else date.fromisoformat(str(r[0])[:10]), int(r[1]))
                for r in rows
            ][-8:]
        content.health = [
            dict(r._mapping)
            for r in conn.execute(
                text(
                    "SELECT source, COUNT(*) AS runs, SUM(items) AS items, SUM(errors) AS errors, SUM(blocked) AS blocked, "
                    "SUM(CASE WHEN flagged = TRUE THEN 1 ELSE 0 END) AS flagged_runs, MAX(flag_reason) AS reason "
                    "FROM crawl_runs GROUP BY source ORDER BY source"
                )
            )
        ]
    return content
