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

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Row, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from warehouse.models import DigestDelivery

LEDGER = cast(Table, DigestDelivery.__table__)
KEY = ["recipient", "week_start"]

PENDING, SENDING, RETRYING = "pending", "sending", "retrying"
SENT, UNKNOWN, FAILED = "sent", "unknown", "failed"
CLAIMABLE = (PENDING, RETRYING)
FINAL = (SENT, UNKNOWN, FAILED)
RESENDABLE = (UNKNOWN, FAILED)
DEFAULT_LEASE = timedelta(minutes=15)


@dataclass(frozen=True)
class Claim:
    """A sender's hold on one (recipient, week): valid while the row is `sending` with `token`."""

    recipient: str
    week_start: date
    token: int
    owner: str


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def this_sender() -> str:
    """Who holds a claim: host and process, so a dead owner on this host is seen at once."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _where(recipient: str, week_start: date) -> Any:
    return (DigestDelivery.recipient == recipient) & (DigestDelivery.week_start == week_start)


def ensure_rows(engine: Engine, week_start: date, recipients: Iterable[str]) -> None:
    """A `pending` row for every recipient without one (INSERT … ON CONFLICT DO NOTHING)."""
    rows = [
        {"recipient": r, "week_start": week_start, "status": PENDING, "attempts": 0}
        for r in dict.fromkeys(recipients)
    ]
    if not rows:
        return
    with engine.begin() as conn:
        conn.execute(_insert_new(conn), rows)


def _insert_new(conn: Connection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(LEDGER).on_conflict_do_nothing(index_elements=KEY)


def get(engine: Engine, recipient: str, week_start: date) -> Row | None:
    with engine.connect() as conn:
        return conn.execute(select(DigestDelivery.__table__).where(_where(recipient, week_start))).first()


def claim(
    engine: Engine, recipient: str, week_start: date, *, message_id: str, eml_path: str, owner: str
) -> Claim | None:
    """Claim a `pending` or `retrying` row for sending; None when another sender has it (or it is final)."""
    row = get(engine, recipient, week_start)
    if row is None or row.status not in CLAIMABLE:
        return None
    token = row.attempts + 1
    with engine.begin() as conn:
        won = conn.execute(
            update(LEDGER)
            .where(
                _where(recipient, week_start),
                DigestDelivery.status.in_(CLAIMABLE),
                DigestDelivery.attempts == row.attempts,
            )
            .values(
                status=SENDING,
                attempts=token,
                claimed_at=now_utc(),
                claimed_by=owner,
                message_id=message_id,
                eml_path=eml_path,
            )
        ).rowcount
    return Claim(recipient, week_start, token, owner) if won == 1 else None


def still_mine(engine: Engine, held: Claim) -> bool:
    """Renew the claim just before DATA; False when it was lost (expired, taken over)."""
    with engine.begin() as conn:
        return (
            conn.execute(
                update(LEDGER)
                .where(*_held(held), DigestDelivery.status == SENDING)
                .values(claimed_at=now_utc())
            ).rowcount
            == 1
        )


def _held(held: Claim) -> tuple[Any, ...]:
    return (_where(held.recipient, held.week_start), DigestDelivery.attempts == held.token)


def record(engine: Engine, held: Claim, status: str, error: str | None = None) -> bool:
    """The claim's outcome. A claim declared stale (`unknown`) meanwhile still records what its
    sender learnt; a row claimed again since (another token) is left alone (returns False)."""
    values: dict[str, Any] = {"status": status}
    if error is not None:
        values["last_error"] = error[:500]
    if status == SENT:
        values["sent_at"] = now_utc()
    with engine.begin() as conn:
        return (
            conn.execute(
                update(LEDGER)
                .where(*_held(held), DigestDelivery.status.in_((SENDING, UNKNOWN)))
                .values(**values)
            ).rowcount
            == 1
        )


def owner_gone(owner: str | None) -> bool:
    """True when the claim's owner was a process on this host that no longer runs."""
    host, _, pid_text = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:  # a killed child its parent has not reaped yet is a zombie: gone all the same
        return stat.read_text().rpartition(")")[2].split()[0] in {"Z", "X"}
    except (OSError, IndexError):
        return False


def is_stale(row: Row, *, lease: timedelta, now: datetime | None = None) -> bool:
    if row.status != SENDING:
        return False
    if owner_gone(row.claimed_by):
        return True
    return row.claimed_at is None or row.claimed_at < (now or now_utc()) - lease


def expire_stale(
    engine: Engine, week_start: date | None = None, *, lease: timedelta = DEFAULT_LEASE
) -> list[str]:
    """Mark `sending` rows whose sender died or overran its lease `unknown`; returns the recipients."""
    query = select(DigestDelivery.__table__).where(DigestDelivery.status == SENDING)
    if week_start is not None:
        query = query.where(DigestDelivery.week_start == week_start)
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    expired = []
    for row in rows:
        if not is_stale(row, lease=lease):
            continue
        reason = (
            f"sender {row.claimed_by} stopped during the send (claimed {row.claimed_at:%Y-%m-%d %H:%M:%S} UTC)"
            if row.claimed_at
            else f"sender {row.claimed_by} left no claim time"
        )
        with engine.begin() as conn:
            done = conn.execute(
                update(LEDGER)
                .where(
                    _where(row.recipient, row.week_start),
                    DigestDelivery.status == SENDING,
                    DigestDelivery.attempts == row.attempts,
                )
                .values(status=UNKNOWN, last_error=reason)
            ).rowcount
        if done:
            expired.append(row.recipient)
    return expired


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
                _where(recipient, week_start),
                DigestDelivery.status == row.status,
                DigestDelivery.attempts == row.attempts,
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
    table = DigestDelivery.__table__
    with engine.connect() as conn:
        if week_start is None:
            latest = conn.execute(
                select(DigestDelivery.week_start).order_by(DigestDelivery.week_start.desc())
            ).scalar()
            query = select(table).where(
                (DigestDelivery.week_start == latest) | DigestDelivery.status.not_in((SENT,))
            )
        else:
            query = select(table).where(DigestDelivery.week_start == week_start)
        found = conn.execute(query.order_by(DigestDelivery.week_start, DigestDelivery.recipient))
        return [dict(row._mapping) for row in found]
