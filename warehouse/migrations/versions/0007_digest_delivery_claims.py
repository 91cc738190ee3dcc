"""Digest deliveries are claimed before sending: who holds the claim and since when.

A `sending` row whose owner died (same host, process gone) or whose claim is older than its lease
is an ambiguous outcome (`unknown`), never a row to send again.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("digest_deliveries", sa.Column("claimed_at", sa.DateTime(), nullable=True))
    op.add_column("digest_deliveries", sa.Column("claimed_by", sa.String(200), nullable=True))
    # A row left `sending` by the at-least-once code could have reached the relay: never resend it.
    op.execute(
        "UPDATE digest_deliveries SET status = 'unknown', "
        "last_error = 'left sending before delivery claims existed' WHERE status = 'sending'"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE digest_deliveries DROP COLUMN claimed_by")
    op.execute("ALTER TABLE digest_deliveries DROP COLUMN claimed_at")
