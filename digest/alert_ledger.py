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

from digest.claims import DEFAULT_LEASE, FAILED, PENDING, SENDING, SENT, UNKNOWN, ClaimLedger
from warehouse.models import AlertDelivery

# Re-exported: hkai/alerts.py uses them as `ledger.X`.
__all__ = ["DEFAULT_LEASE", "SENDING", "SENT", "UNKNOWN"]

# `record` always rewrites last_error: an alert sent first time leaves none behind.
CLAIMS = ClaimLedger(AlertDelivery, "alert_day", clear_error_on_record=True)
LEDGER = cast(Table, AlertDelivery.__table__)
NOTHING = "nothing"
CLAIMABLE = (PENDING,)  # a `failed` alert is planned again (back to `pending`), never claimed as is
REPLANNABLE = (NOTHING, FAILED, PENDING)


@dataclass(frozen=True)
class AlertClaim:
    """A sender's hold on one (recipient, day): valid while the row is `sending` with `token`."""

    recipient: str
    alert_day: date
    token: int


def get(engine: Engine, recipient: str, day: date) -> Row | None:
    return CLAIMS.get(engine, recipient, day)


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
    where = CLAIMS.where(recipient, day)
    with engine.begin() as conn:
        conn.execute(CLAIMS.insert_new(conn).values(recipient=recipient, alert_day=day, attempts=0, **values))
        conn.execute(update(LEDGER).where(where, AlertDelivery.status.in_(REPLANNABLE)).values(**values))
        return str(conn.execute(select(AlertDelivery.status).where(where)).scalar_one())


def pending(engine: Engine, day: date) -> list[Row]:
    with engine.connect() as conn:
        query = select(LEDGER).where(AlertDelivery.alert_day == day, AlertDelivery.status == PENDING)
        return list(conn.execute(query.order_by(AlertDelivery.recipient)))


def claim(engine: Engine, row: Row, *, owner: str, message_id: str) -> AlertClaim | None:
    """Claim a `pending` row; None when another sender won it."""
    token = CLAIMS.claim(engine, row, claimable=CLAIMABLE, owner=owner, values={"message_id": message_id})
    return None if token is None else AlertClaim(row.recipient, row.alert_day, token)


def still_mine(engine: Engine, held: AlertClaim) -> bool:
    """Renew the claim just before DATA; False when it was lost."""
    return CLAIMS.still_mine(engine, held.recipient, held.alert_day, held.token)


def record(engine: Engine, held: AlertClaim, status: str, error: str | None = None) -> bool:
    """The claim's outcome (only while the row still carries this claim's token); `error=None`
    clears the row's last error."""
    return CLAIMS.record(engine, held.recipient, held.alert_day, held.token, status, error)


def expire_stale(engine: Engine, day: date, *, lease: timedelta = DEFAULT_LEASE) -> list[str]:
    """`sending` rows whose sender died or overran its lease become `unknown` (never resent)."""
    return CLAIMS.expire_stale(
        engine, day, lease=lease, reason=lambda row: f"sender {row.claimed_by} stopped during the send"
    )


def rows(engine: Engine, day: date) -> list[dict[str, Any]]:
    return CLAIMS.fetch(engine, AlertDelivery.alert_day == day)
