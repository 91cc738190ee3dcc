"""The watchlist-alert ledger (`alert_deliveries`): one row per (recipient, Hong Kong day).

    (matches) ──plan──▶ pending ──claim──▶ sending ──final 250─────────────▶ sent
    (no match) ─plan──▶ nothing            │  ├──refused before DATA (after retries)──▶ failed
                                           │  └──no final 250 after DATA──────────────▶ unknown
                                           └──owner died / claim older than its lease──▶ unknown

`nothing` and `failed` rows are planned again by a rerun of the same day (a `failed` alert never
reached the relay, so sending it again cannot make a duplicate; a quiet day may have news by
then). `sent`, `unknown` and `sending` are never touched by a rerun: an alert goes out at most
once. A claim is a compare-and-set on `attempts` (the fencing token), as in digest/deliveries.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Row, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from digest.deliveries import DEFAULT_LEASE, is_stale, now_utc
from warehouse.models import AlertDelivery

LEDGER = cast(Table, AlertDelivery.__table__)
PENDING, SENDING, SENT, FAILED, UNKNOWN, NOTHING = (
    "pending",
    "sending",
    "sent",
    "failed",
    "unknown",
    "nothing",
)
REPLANNABLE = (NOTHING, FAILED, PENDING)


@dataclass(frozen=True)
class AlertClaim:
    """A sender's hold on one (recipient, day): valid while the row is `sending` with `token`."""

    recipient: str
    alert_day: date
    token: int


def _where(recipient: str, day: date) -> Any:
    return (AlertDelivery.recipient == recipient) & (AlertDelivery.alert_day == day)


def get(engine: Engine, recipient: str, day: date) -> Row | None:
    with engine.connect() as conn:
        return conn.execute(select(LEDGER).where(_where(recipient, day))).first()


def plan(
    engine: Engine,
    recipient: str,
    day: date,
    *,
    language: str,
    stories: list[dict[str, Any]],
    reasons: list[dict[str, Any]],
) -> str:
    """Record what the day holds for `recipient` (`pending` with its stories, or `nothing`);
    returns the row's status afterwards. Rows already sent, sending or unknown keep their state."""
    status = PENDING if reasons else NOTHING
    values = {"status": status, "language": language, "stories": stories, "reasons": reasons}
    with engine.begin() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(
            dialect.insert(LEDGER)
            .values(recipient=recipient, alert_day=day, attempts=0, **values)
            .on_conflict_do_nothing(index_elements=["recipient", "alert_day"])
        )
        conn.execute(
            update(LEDGER)
            .where(_where(recipient, day), AlertDelivery.status.in_(REPLANNABLE))
            .values(**values)
        )
        return str(conn.execute(select(AlertDelivery.status).where(_where(recipient, day))).scalar_one())


def pending(engine: Engine, day: date) -> list[Row]:
    with engine.connect() as conn:
        query = select(LEDGER).where(AlertDelivery.alert_day == day, AlertDelivery.status == PENDING)
        return list(conn.execute(query.order_by(AlertDelivery.recipient)))


def claim(engine: Engine, row: Row, *, owner: str, message_id: str) -> AlertClaim | None:
    """Claim a `pending` row; None when another sender won it."""
    token = row.attempts + 1
    with engine.begin() as conn:
        won = conn.execute(
            update(LEDGER)
            .where(
                _where(row.recipient, row.alert_day),
                AlertDelivery.status == PENDING,
                AlertDelivery.attempts == row.attempts,
            )
            .values(
                status=SENDING, attempts=token, claimed_at=now_utc(), claimed_by=owner, message_id=message_id
            )
        ).rowcount
    return AlertClaim(row.recipient, row.alert_day, token) if won == 1 else None


def _held(held: AlertClaim) -> tuple[Any, ...]:
    return (_where(held.recipient, held.alert_day), AlertDelivery.attempts == held.token)


def still_mine(engine: Engine, held: AlertClaim) -> bool:
    """Renew the claim just before DATA; False when it was lost."""
    with engine.begin() as conn:
        return (
            conn.execute(
                update(LEDGER)
                .where(*_held(held), AlertDelivery.status == SENDING)
                .values(claimed_at=now_utc())
            ).rowcount
            == 1
        )


def record(engine: Engine, held: AlertClaim, status: str, error: str | None = None) -> bool:
    """The claim's outcome (only while the row still carries this claim's token)."""
    values: dict[str, Any] = {"status": status, "last_error": error[:500] if error else None}
    if status == SENT:
        values["sent_at"] = now_utc()
    with engine.begin() as conn:
        return (
            conn.execute(
                update(LEDGER)
                .where(*_held(held), AlertDelivery.status.in_((SENDING, UNKNOWN)))
                .values(**values)
            ).rowcount
            == 1
        )


def expire_stale(engine: Engine, day: date, *, lease: timedelta = DEFAULT_LEASE) -> list[str]:
    """`sending` rows whose sender died or overran its lease become `unknown` (never resent)."""
    with engine.connect() as conn:
        rows = list(
            conn.execute(
                select(LEDGER).where(AlertDelivery.alert_day == day, AlertDelivery.status == SENDING)
            )
        )
    expired = []
    for row in rows:
        if not is_stale(row, lease=lease):
            continue
        with engine.begin() as conn:
            done = conn.execute(
                update(LEDGER)
                .where(
                    _where(row.recipient, day),
                    AlertDelivery.status == SENDING,
                    AlertDelivery.attempts == row.attempts,
                )
                .values(status=UNKNOWN, last_error=f"sender {row.claimed_by} stopped during the send")
            ).rowcount
        if done:
            expired.append(row.recipient)
    return expired


def rows(engine: Engine, day: date) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = select(LEDGER).where(AlertDelivery.alert_day == day).order_by(AlertDelivery.recipient)
        return [dict(row._mapping) for row in conn.execute(query)]
