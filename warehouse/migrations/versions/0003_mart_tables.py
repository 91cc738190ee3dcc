"""Weekly marts become tables refreshed incrementally (per affected week), for speed at scale.

Same names and columns as the views they replace; `mart_source_health` stays a view.

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
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("marts_0002", Path(__file__).with_name("0002_marts.py"))
    assert spec and spec.loader
    marts_0002 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(marts_0002)
    bind = op.get_bind()
    byte_order = ' COLLATE "C"' if bind.dialect.name == "postgresql" else ""
    for name, sql in marts_0002._views(byte_order).items():
        if name in WEEKLY_VIEWS:
            op.execute(f"CREATE VIEW {name} AS {sql}")
