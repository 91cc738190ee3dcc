"""Mart views and reference rows (sectors, themes).

Only relevant articles (about AI and about Hong Kong) count in the trend marts;
`mart_weekly_source_volume.all_articles` counts everything. This migration keeps its own copy of
the views and of the labels as they were when it was written: it must build the same schema
whatever the live marts (warehouse/marts/) and models say today.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SECTORS = {
    "finance": "banking, insurance, fintech, trading",
    "healthcare": "hospitals, diagnosis, medicine, elderly care",
    "smart-city": "urban planning, public services, e-government, utilities",
    "transport": "vehicles, autonomous driving, drones, traffic, aviation",
    "education": "schools, universities as teaching places, learning",
    "retail": "shops, e-commerce, consumer services",
    "logistics": "ports, shipping, warehousing, delivery",
    "property": "real estate, construction, buildings",
    "manufacturing": "factories, industry, robotics in production",
    "media": "news, entertainment, creative content",
    "legal": "courts, law firms, legal services",
    "infrastructure": "data centres, cloud, compute, chips, telecom",
    "security": "cybersecurity, surveillance, public safety, fraud and deepfake crime",
}
THEMES = {
    "regulation-policy": "laws, guidelines, government strategy and policy",
    "privacy-ethics": "privacy, integrity, bias, hallucination harms",
    "funding-investment": "funding rounds, investment, subsidies, budgets",
    "talent": "education, training, talent schemes",
    "research": "research results, labs, papers",
    "product-launch": "new product, service or facility opening",
    "partnership": "agreements, MOUs, collaborations",
}


def _views(byte_order: str) -> dict[str, str]:
    return {
        "mart_weekly_entity_mentions": """
            SELECT a.published_week AS week_start, e.id AS entity_id, e.name AS entity_name,
                   e.type AS entity_type, COUNT(DISTINCT a.id) AS articles,
                   COUNT(DISTINCT COALESCE(a.cluster_id, 'a' || CAST(a.id AS VARCHAR(20)))) AS clusters
            FROM article_entities ae
            JOIN articles a ON a.id = ae.article_id
            JOIN entities e ON e.id = ae.entity_id
            WHERE a.relevant = TRUE AND a.published_week IS NOT NULL AND e.status = 'kb'
            GROUP BY a.published_week, e.id, e.name, e.type""",
        "mart_weekly_sector_share": """
            WITH totals AS (
                SELECT published_week, COUNT(*) AS n FROM articles
                WHERE relevant = TRUE AND published_week IS NOT NULL GROUP BY published_week)
            SELECT a.published_week AS week_start, s.sector AS sector, COUNT(DISTINCT a.id) AS articles,
                   ROUND(1.0 * COUNT(DISTINCT a.id) / t.n, 4) AS share
            FROM article_sectors s
            JOIN articles a ON a.id = s.article_id
            JOIN totals t ON t.published_week = a.published_week
            WHERE a.relevant = TRUE
            GROUP BY a.published_week, s.sector, t.n""",
        "mart_weekly_source_volume": """
            SELECT published_week AS week_start, source,
                   SUM(CASE WHEN relevant = TRUE THEN 1 ELSE 0 END) AS articles,
                   COUNT(*) AS all_articles
            FROM articles WHERE published_week IS NOT NULL
            GROUP BY published_week, source""",
        "mart_new_entities": """
            WITH mentions AS (
                SELECT ae.entity_id, a.id AS article_id, a.published_at, a.published_week
                FROM article_entities ae JOIN articles a ON a.id = ae.article_id
                WHERE a.relevant = TRUE AND a.published_week IS NOT NULL),
            firsts AS (
                SELECT entity_id, MIN(published_week) AS first_week, MIN(published_at) AS first_seen_at
                FROM mentions GROUP BY entity_id)
            SELECT f.first_week AS week_start, e.id AS entity_id, e.name AS entity_name,
                   e.type AS entity_type, f.first_seen_at, COUNT(DISTINCT m.article_id) AS articles
            FROM firsts f
            JOIN entities e ON e.id = f.entity_id
            JOIN mentions m ON m.entity_id = f.entity_id AND m.published_week = f.first_week
            GROUP BY f.first_week, e.id, e.name, e.type, f.first_seen_at""",
        "mart_entity_cooccurrence": f"""
            SELECT a.published_week AS week_start, x.entity_id AS entity_a, y.entity_id AS entity_b,
                   COUNT(DISTINCT a.id) AS articles
            FROM article_entities x
            JOIN article_entities y ON y.article_id = x.article_id AND x.entity_id < y.entity_id{byte_order}
            JOIN articles a ON a.id = x.article_id
            WHERE a.relevant = TRUE AND a.published_week IS NOT NULL
              AND x.entity_id NOT LIKE 'cand:%' AND y.entity_id NOT LIKE 'cand:%'
            GROUP BY a.published_week, x.entity_id, y.entity_id""",
        "mart_source_health": """
            SELECT started_at AS run_started_at, source, requests, items, errors, blocked, flagged,
                   flag_reason, run_id, feed_entries, skipped_known, parse_failures, duration_s
            FROM crawl_runs""",
    }


def upgrade() -> None:
    bind = op.get_bind()
    byte_order = ' COLLATE "C"' if bind.dialect.name == "postgresql" else ""
    for name, sql in _views(byte_order).items():
        op.execute(f"CREATE VIEW {name} AS {sql}")
    sectors = sa.table("sectors", sa.column("id", sa.String), sa.column("description", sa.String))
    themes = sa.table("themes", sa.column("id", sa.String), sa.column("description", sa.String))
    op.bulk_insert(sectors, [{"id": k, "description": v} for k, v in SECTORS.items()])
    op.bulk_insert(themes, [{"id": k, "description": v} for k, v in THEMES.items()])


def downgrade() -> None:
    for name in reversed(list(_views(""))):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.execute("DELETE FROM themes")
    op.execute("DELETE FROM sectors")
