"""Watchlist alerts: one claim row per (recipient, Hong Kong day), so an alert goes out at most once.

The row is written before any SMTP traffic (status `sending`); a send whose outcome is unknown
stays `unknown` and is never retried automatically. Days with nothing to report are recorded
as `nothing` so a quiet day is visible, not silent.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("alert_day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("stories", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.String(300), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("recipient", "alert_day", name="uq_alert_recipient_day"),
    )
    op.create_index("ix_alert_deliveries_alert_day", "alert_deliveries", ["alert_day"])


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_alert_day", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
