"""The deliveries ledger (`digest_deliveries`): one row per (recipient, week), and the claims that
make a digest go out at most once.

    pending ──claim──▶ sending ──final 250──────────────────▶ sent
       ▲                  │  ├──failed before DATA, retries left──▶ retrying ──claim──▶ sending
       │                  │  ├──failed before DATA, none left─────▶ failed
       │                  │  └──no final 250 after DATA───────────▶ unknown
       │                  └──owner died / claim older than its lease──▶ unknown
       └──────────── hkai digest --resend (unknown or failed only) ────────────┘

A claim is a compare-and-set: `UPDATE … WHERE status IN ('pending', 'retrying') AND attempts = n`,
which one sender wins and every other loses (rowcount 0), on SQLite and on PostgreSQL. `attempts`
is the claim's fencing token: a sender records its outcome only while the row still carries its
token, so a sender that lost its claim cannot overwrite another's outcome. Nothing leaves `sent`,
`unknown` or `failed` automatically.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Row, Table, select, update

from digest.claims import (
    DEFAULT_LEASE,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    UNKNOWN,
    ClaimLedger,
    is_stale,
    now_utc,
    owner_gone,
    this_sender,
)
from warehouse.models import DigestDelivery

# Re-exported: callers (hkai/, tests/) use them as `deliveries.X`.
__all__ = ["SENDING", "is_stale", "now_utc", "owner_gone", "this_sender"]

# A digest that finally went out after `retrying` keeps the last error on its row.
CLAIMS = ClaimLedger(DigestDelivery, "week_start", clear_error_on_record=False)
LEDGER = cast(Table, DigestDelivery.__table__)
KEY = CLAIMS.key

RETRYING = "retrying"
CLAIMABLE = (PENDING, RETRYING)
FINAL = (SENT, UNKNOWN, FAILED)
RESENDABLE = (UNKNOWN, FAILED)


@dataclass(frozen=True)
class Claim:
    """A sender's hold on one (recipient, week): valid while the row is `sending` with `token`."""

    recipient: str
    week_start: date
    token: int
    owner: str


def ensure_rows(engine: Engine, week_start: date, recipients: Iterable[str]) -> None:
    """A `pending` row for every recipient without one (INSERT … ON CONFLICT DO NOTHING)."""
    rows = [
        {"recipient": r, "week_start": week_start, "status": PENDING, "attempts": 0}
        for r in dict.fromkeys(recipients)
    ]
    if not rows:
        return
    with engine.begin() as conn:
        conn.execute(CLAIMS.insert_new(conn), rows)


def get(engine: Engine, recipient: str, week_start: date) -> Row | None:
    return CLAIMS.get(engine, recipient, week_start)


def claim(
    engine: Engine, recipient: str, week_start: date, *, message_id: str, eml_path: str, owner: str
) -> Claim | None:
    """Claim a `pending` or `retrying` row for sending; None when another sender has it (or it is final)."""
    row = get(engine, recipient, week_start)
    if row is None or row.status not in CLAIMABLE:
        return None
    token = CLAIMS.claim(
        engine, row, claimable=CLAIMABLE, owner=owner, values={"message_id": message_id, "eml_path": eml_path}
    )
    return None if token is None else Claim(recipient, week_start, token, owner)


def still_mine(engine: Engine, held: Claim) -> bool:
    """Renew the claim just before DATA; False when it was lost (expired, taken over)."""
    return CLAIMS.still_mine(engine, held.recipient, held.week_start, held.token)


def record(engine: Engine, held: Claim, status: str, error: str | None = None) -> bool:
    """The claim's outcome (see ClaimLedger.record); `error=None` keeps the row's last error."""
    return CLAIMS.record(engine, held.recipient, held.week_start, held.token, status, error)


def _stopped(row: Row) -> str:
    return (
        f"sender {row.claimed_by} stopped during the send (claimed {row.claimed_at:%Y-%m-%d %H:%M:%S} UTC)"
        if row.claimed_at
        else f"sender {row.claimed_by} left no claim time"
    )


def expire_stale(
    engine: Engine, week_start: date | None = None, *, lease: timedelta = DEFAULT_LEASE
) -> list[str]:
    """Mark `sending` rows whose sender died or overran its lease `unknown`; returns the recipients."""
    return CLAIMS.expire_stale(engine, week_start, lease=lease, reason=_stopped)


def reopen(engine: Engine, recipient: str, week_start: date) -> Row:
    """`hkai digest --resend`: an `unknown` or `failed` row becomes `pending` again (compare-and-set)."""
    row = get(engine, recipient, week_start)
    if row is None:
        raise LookupError(f"no digest for {recipient} in the week of {week_start} was ever attempted")
    if row.status not in RESENDABLE:
        raise ValueError(
            f"the digest for {recipient} in the week of {week_start} is {row.status}: "
            f"only {' or '.join(RESENDABLE)} digests are resent"
        )
    with engine.begin() as conn:
        done = conn.execute(
            update(LEDGER)
            .where(
                *CLAIMS.held(recipient, week_start, row.attempts),
                DigestDelivery.status == row.status,
            )
            .values(
                status=PENDING,
                last_error=f"resend requested after {row.status}: {row.last_error or ''}"[:500],
            )
        ).rowcount
    if done != 1:
        raise RuntimeError(f"the digest for {recipient} changed while reopening it: try again")
    return row


def rows(engine: Engine, week_start: date | None = None) -> list[dict[str, Any]]:
    """Ledger rows for `hkai digest --status`: one week, or every week's unsettled rows and the
    latest week's."""
    if week_start is not None:
        return CLAIMS.fetch(engine, DigestDelivery.week_start == week_start)
    with engine.connect() as conn:
        latest = conn.execute(
            select(DigestDelivery.week_start).order_by(DigestDelivery.week_start.desc())
        ).scalar()
    return CLAIMS.fetch(engine, (DigestDelivery.week_start == latest) | DigestDelivery.status.not_in((SENT,)))
