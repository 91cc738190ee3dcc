"""One claim ledger for every "send at most once per (recipient, period)" table: the weekly digest
(digest/deliveries.py, period `week_start`) and the watchlist alerts (digest/alert_ledger.py,
period `alert_day`) share the same compare-and-set claim, lease and record logic, kept here once so
a fix to the fencing cannot reach one ledger and miss the other.

A claim is `UPDATE … WHERE status IN (claimable) AND attempts = n`: one sender wins, every other
gets rowcount 0, on SQLite and on PostgreSQL. `attempts` is the fencing token: an outcome is
recorded only while the row still carries the claim's token. The ledgers differ in small ways that
are parameters here, not copies: which statuses are claimable, which extra columns a claim sets,
whether `record` without an error clears `last_error`, and the reason written when a claim expires.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Row, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

PENDING, SENDING, SENT, UNKNOWN, FAILED = "pending", "sending", "sent", "unknown", "failed"
DEFAULT_LEASE = timedelta(minutes=15)


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def this_sender() -> str:
    """Who holds a claim: host and process, so a dead owner on this host is seen at once."""
    return f"{socket.gethostname()}:{os.getpid()}"


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


class ClaimLedger:
    """The claim/lease/record logic over one ledger table keyed by (recipient, `period`).

    `clear_error_on_record`: whether `record(…, error=None)` resets `last_error` (alerts: an alert
    sent after retries says so or says nothing) or keeps the last one (digests: the `retrying`
    history stays visible on the row that finally went out).
    """

    def __init__(self, model: Any, period: str, *, clear_error_on_record: bool) -> None:
        self.model = model
        self.table = cast(Table, model.__table__)
        self.period = period
        self.key = ["recipient", period]
        self.clear_error_on_record = clear_error_on_record

    @property
    def status(self) -> Any:
        return self.model.status

    @property
    def period_column(self) -> Any:
        return getattr(self.model, self.period)

    def where(self, recipient: str, period: date) -> Any:
        return (self.model.recipient == recipient) & (self.period_column == period)

    def held(self, recipient: str, period: date, token: int) -> tuple[Any, ...]:
        return (self.where(recipient, period), self.model.attempts == token)

    def insert_new(self, conn: Connection) -> Any:
        """INSERT … ON CONFLICT (recipient, period) DO NOTHING, in the connection's dialect."""
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        return dialect.insert(self.table).on_conflict_do_nothing(index_elements=self.key)

    def get(self, engine: Engine, recipient: str, period: date) -> Row | None:
        with engine.connect() as conn:
            return conn.execute(select(self.table).where(self.where(recipient, period))).first()

    def claim(
        self,
        engine: Engine,
        row: Row,
        *,
        claimable: tuple[str, ...],
        owner: str,
        values: Mapping[str, Any],
    ) -> int | None:
        """Compare-and-set `row` (as read) to `sending`; the claim's token, or None when another
        sender won it (or its status is not in `claimable`). `values`: extra columns the claim sets."""
        token = int(row.attempts) + 1
        with engine.begin() as conn:
            won = conn.execute(
                update(self.table)
                .where(
                    self.where(row.recipient, getattr(row, self.period)),
                    self.status.in_(claimable),
                    self.model.attempts == row.attempts,
                )
                .values(status=SENDING, attempts=token, claimed_at=now_utc(), claimed_by=owner, **values)
            ).rowcount
        return token if won == 1 else None

    def still_mine(self, engine: Engine, recipient: str, period: date, token: int) -> bool:
        """Renew the claim just before DATA; False when it was lost (expired, taken over)."""
        with engine.begin() as conn:
            return (
                conn.execute(
                    update(self.table)
                    .where(*self.held(recipient, period, token), self.status == SENDING)
                    .values(claimed_at=now_utc())
                ).rowcount
                == 1
            )

    def record(
        self, engine: Engine, recipient: str, period: date, token: int, status: str, error: str | None
    ) -> bool:
        """The claim's outcome. A claim declared stale (`unknown`) meanwhile still records what its
        sender learnt; a row claimed again since (another token) is left alone (returns False)."""
        values: dict[str, Any] = {"status": status}
        if self.clear_error_on_record:
            values["last_error"] = error[:500] if error else None
        elif error is not None:
            values["last_error"] = error[:500]
        if status == SENT:
            values["sent_at"] = now_utc()
        with engine.begin() as conn:
            return (
                conn.execute(
                    update(self.table)
                    .where(*self.held(recipient, period, token), self.status.in_((SENDING, UNKNOWN)))
                    .values(**values)
                ).rowcount
                == 1
            )

    def expire_stale(
        self, engine: Engine, period: date | None, *, lease: timedelta, reason: Callable[[Row], str]
    ) -> list[str]:
        """Mark `sending` rows (of one period, or all when None) whose sender died or overran its
        lease `unknown`, with `reason(row)` as `last_error`; returns the recipients."""
        query = select(self.table).where(self.status == SENDING)
        if period is not None:
            query = query.where(self.period_column == period)
        with engine.connect() as conn:
            found = list(conn.execute(query))
        expired = []
        for row in found:
            if not is_stale(row, lease=lease):
                continue
            with engine.begin() as conn:
                done = conn.execute(
                    update(self.table)
                    .where(
                        *self.held(row.recipient, getattr(row, self.period), row.attempts),
                        self.status == SENDING,
                    )
                    .values(status=UNKNOWN, last_error=reason(row))
                ).rowcount
            if done:
                expired.append(row.recipient)
        return expired

    def fetch(self, engine: Engine, *conditions: Any) -> list[dict[str, Any]]:
        """Rows matching `conditions`, by period then recipient, as plain dicts."""
        query = select(self.table).where(*conditions).order_by(self.period_column, self.model.recipient)
        with engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]
