"""Failed article pages, retried on later runs whatever their feed answers.

A page that failed (5xx, timeout, block, no item) is kept here until a later crawl stores it or
it is given up after a bounded number of attempts. The crawl reads the due rows into its state,
so a feed answering 304 does not hide a page that never arrived.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "failed_pages",
        sa.Column("canonical_url", sa.String(1000), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("first_failed_at", sa.DateTime(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("entry", sa.JSON(), nullable=True),
        sa.Column("last_run_id", sa.String(250), nullable=True),
        sa.Column("resolved_run_id", sa.String(250), nullable=True),
        sa.Column("gave_up_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_failed_pages_source", "failed_pages", ["source"])
    op.create_index("ix_failed_pages_resolved_run_id", "failed_pages", ["resolved_run_id"])


def downgrade() -> None:
    op.drop_index("ix_failed_pages_resolved_run_id", table_name="failed_pages")
    op.drop_index("ix_failed_pages_source", table_name="failed_pages")
    op.drop_table("failed_pages")
