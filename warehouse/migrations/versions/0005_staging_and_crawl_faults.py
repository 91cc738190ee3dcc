"""Staging in the warehouse (no hand-off through a worker's disk) and crawl-fault counters.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FAULT_COUNTERS = ("duplicate_items", "future_dated", "undecodable", "invalid_urls", "gave_up_pages")


def upgrade() -> None:
    op.create_table(
        "staged_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("canonical_url", sa.Text(), nullable=False),
        sa.Column("item", sa.JSON(), nullable=False),
        sa.Column("staged_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("run_id", "canonical_url", name="uq_staged_items_run_url"),
    )
    op.create_index("ix_staged_items_staged_at", "staged_items", ["staged_at"])
    op.create_table(
        "staged_crawls",
        sa.Column("run_id", sa.String(250), primary_key=True),
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("validators", sa.JSON(), nullable=False),
        sa.Column("staged_at", sa.DateTime(), nullable=False),
    )
    # Plain ALTER TABLE (not a batch copy): SQLite keeps the views that read crawl_runs valid.
    for name in FAULT_COUNTERS:
        op.add_column("crawl_runs", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    for name in FAULT_COUNTERS:
        op.execute(f"ALTER TABLE crawl_runs DROP COLUMN {name}")
    op.drop_table("staged_crawls")
    op.drop_index("ix_staged_items_staged_at", table_name="staged_items")
    op.drop_table("staged_items")
