"""The deliveries ledger (`digest_deliveries`): one row per (recipient, week), written `sending`
before a message goes out and `sent` or `failed` after, so a (recipient, week) already `sent` is
never sent again."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Engine, Row, Table, select

from warehouse.load import upsert
from warehouse.models import DigestDelivery

LEDGER = cast(Table, DigestDelivery.__table__)
KEY = ["recipient", "week_start"]


def previous_delivery(engine: Engine, recipient: str, week_start: date) -> Row | None:
    """The (status, attempts) of this recipient's digest for the week, if one was attempted."""
    with engine.begin() as conn:
        return conn.execute(
            select(DigestDelivery.status, DigestDelivery.attempts).where(
                DigestDelivery.recipient == recipient, DigestDelivery.week_start == week_start
            )
        ).first()


def sent_recipients(engine: Engine, week_start: date) -> set[str]:
    """Recipients whose digest for the week has been sent."""
    with engine.connect() as conn:
        return set(
            conn.execute(
                select(DigestDelivery.recipient).where(
                    DigestDelivery.week_start == week_start, DigestDelivery.status == "sent"
                )
            ).scalars()
        )


def start_attempt(
    engine: Engine, recipient: str, week_start: date, *, message_id: str, eml_path: str, attempts: int
) -> dict[str, Any]:
    """Record a send as under way (`sending`); returns the row, for `mark_sent` / `mark_failed`."""
    row = {
        "recipient": recipient,
        "week_start": week_start,
        "status": "sending",
        "message_id": message_id,
        "eml_path": eml_path,
        "attempts": attempts,
        "last_error": None,
        "sent_at": None,
    }
    _save(engine, row)
    return row


def mark_sent(engine: Engine, attempt: dict[str, Any]) -> None:
    _save(engine, {**attempt, "status": "sent", "sent_at": datetime.now(UTC).replace(tzinfo=None)})


def mark_failed(engine: Engine, attempt: dict[str, Any], error: BaseException) -> None:
    _save(engine, {**attempt, "status": "failed", "last_error": str(error)[:500]})


def _save(engine: Engine, row: dict[str, Any]) -> None:
    with engine.begin() as conn:
        upsert(conn, LEDGER, [row], KEY)
