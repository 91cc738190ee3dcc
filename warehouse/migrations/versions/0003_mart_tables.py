"""Weekly marts become tables refreshed incrementally (per affected week), for speed at scale.

Same names and columns as the views they replace; `mart_source_health` stays a view. The tables
and, for downgrade, the views they replace are frozen copies: this revision never reads the live
mart definitions (warehouse/marts/) or another revision.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WEEKLY_VIEWS = (
    "mart_weekly_entity_mentions",
    "mart_weekly_sector_share",
    "mart_weekly_source_volume",
    "mart_new_entities",
    "mart_entity_cooccurrence",
)


def upgrade() -> None:
    for name in WEEKLY_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.create_table(
        "mart_weekly_entity_mentions",
        sa.Column("week_start", sa.Date(), primary_key=True),
        sa.Column("entity_id", sa.String(120), primary_key=True),
        sa.Column("entity_name", sa.String(300), nullable=False),
        sa.Column("entity_type", sa.String(32), nullable=False),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.Column("clusters", sa.Integer(), nullable=False),
    )
    op.create_index("ix_mart_mentions_entity", "mart_weekly_entity_mentions", ["entity_id", "week_start"])
    op.create_table(
        "mart_weekly_sector_share",
        sa.Column("week_start", sa.Date(), primary_key=True),
        sa.Column("sector", sa.String(32), primary_key=True),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
    )
    op.create_table(
        "mart_weekly_source_volume",
        sa.Column("week_start", sa.Date(), primary_key=True),
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.Column("all_articles", sa.Integer(), nullable=False),
    )
    op.create_table(
        "mart_new_entities",
        sa.Column("week_start", sa.Date(), primary_key=True),
        sa.Column("entity_id", sa.String(120), primary_key=True),
        sa.Column("entity_name", sa.String(300), nullable=False),
        sa.Column("entity_type", sa.String(32), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=True),
        sa.Column("articles", sa.Integer(), nullable=False),
    )
    op.create_table(
        "mart_entity_cooccurrence",
        sa.Column("week_start", sa.Date(), primary_key=True),
        sa.Column("entity_a", sa.String(120), primary_key=True),
        sa.Column("entity_b", sa.String(120), primary_key=True),
        sa.Column("articles", sa.Integer(), nullable=False),
    )
    op.create_index("ix_article_entities_article", "article_entities", ["article_id"])
    op.create_index("ix_articles_loaded_run", "articles", ["loaded_run_id"])


def downgrade() -> None:
    op.drop_index("ix_articles_loaded_run", "articles")
    op.drop_index("ix_article_entities_article", "article_entities")
    for name in reversed(WEEKLY_VIEWS):
        op.drop_table(name)
    bind = op.get_bind()
    byte_order = ' COLLATE "C"' if bind.dialect.name == "postgresql" else ""
    for name, sql in _views_0002(byte_order).items():
        op.execute(f"CREATE VIEW {name} AS {sql}")


def _views_0002(byte_order: str) -> dict[str, str]:
    """The weekly views exactly as revision 0002 created them (a frozen copy, restored on downgrade)."""
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
    }
