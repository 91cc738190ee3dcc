"""The digest outbox: each rendered message kept in the warehouse, so any worker can send it.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_outbox",
        sa.Column("recipient", sa.String(320), primary_key=True),
        sa.Column("week_start", sa.Date(), primary_key=True),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("eml", sa.LargeBinary(), nullable=False),
        sa.Column("rendered_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("digest_outbox")
