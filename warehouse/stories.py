"""Rebuild story clusters for recent relevant articles and store them (`story_clusters`, `articles.cluster_id`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import Engine, delete, func, insert, select, update

from transforms.clusters import ClusterInput, cluster_articles
from warehouse.models import Article, ArticleEntity, Entity, StoryCluster

WINDOW = timedelta(days=60)


def rebuild_clusters(engine: Engine, window: timedelta = WINDOW) -> dict[str, int]:
    """Recluster the relevant articles of the last `window` (by publication) in one transaction."""
    with engine.begin() as conn:
        latest = conn.execute(
            select(func.max(Article.published_at)).where(Article.relevant.is_(True))
        ).scalar()
        if latest is None:
            return {"articles": 0, "clusters": 0, "multi_article_clusters": 0}
        since = latest - window
        rows = conn.execute(
            select(
                Article.id,
                Article.canonical_url,
                Article.source,
                Article.language,
                Article.title,
                Article.body,
                Article.published_at,
                Article.cluster_id,
            ).where(Article.relevant.is_(True), Article.published_at >= since)
        ).all()
        ids = [r.id for r in rows]
        entities: dict[int, set[str]] = defaultdict(set)
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            for article_id, entity_id in conn.execute(
                select(ArticleEntity.article_id, ArticleEntity.entity_id)
                .join(Entity, Entity.id == ArticleEntity.entity_id)
                .where(ArticleEntity.article_id.in_(chunk), Entity.status == "kb")
            ):
                entities[article_id].add(entity_id)
        items = [
            ClusterInput(
                r.id, r.canonical_url, r.source, r.language, r.title, r.body, r.published_at, entities[r.id]
            )
            for r in rows
        ]
        clusters = cluster_articles(items)
        old_ids = {r.cluster_id for r in rows if r.cluster_id}
        if old_ids:
            conn.execute(delete(StoryCluster).where(StoryCluster.cluster_id.in_(sorted(old_ids))))
        new_ids = [c.cluster_id for c in clusters]
        for start in range(0, len(new_ids), 900):
            conn.execute(
                delete(StoryCluster).where(StoryCluster.cluster_id.in_(new_ids[start : start + 900]))
            )
        if clusters:
            conn.execute(insert(StoryCluster), [c.summary() for c in clusters])
        for cluster in clusters:
            conn.execute(
                update(Article)
                .where(Article.id.in_([m.article_id for m in cluster.members]))
                .values(cluster_id=cluster.cluster_id)
            )
    return {
        "articles": len(items),
        "clusters": len(clusters),
        "multi_article_clusters": sum(1 for c in clusters if len(c.members) > 1),
        "cross_language_clusters": sum(1 for c in clusters if len({m.language[:2] for m in c.members}) > 1),
        "press_release_reprints": sum(1 for c in clusters if c.is_press_release_reprint),
    }
