"""The weekly digest, end to end: the `hk_ai_weekly_digest` DAG's tasks and `hkai digest`.

choose_week → render_week → deliver. The week is an ISO week in Hong Kong time; a scheduled run
(Mondays 09:00 HKT) reports the week before it, once an ingest whose crawls all started after the
week ended has loaded. Rendering stores each subscriber's message in the warehouse outbox and
writes .html, .txt and .eml previews under out/digests/<week>/; delivery sends the stored bytes,
so a retry, on any worker, sends exactly what was rendered.

Delivery is at most once per (recipient, week) (digest/deliveries.py holds the state machine):
each send is claimed in the ledger before any SMTP traffic, a definite failure before DATA is
retried with backoff a bounded number of times and then `failed`, and an ambiguous outcome is
`unknown`. Both fail the run and wait for `hkai digest --resend ADDRESS --week W`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from config.settings import get_settings
from digest import deliveries
from digest.outbox import (
    archive_id,
    digest_dir,
    load_message,
    recipient_key,
    relative,
    store_message,
    write_digest,
)
from digest.preview import screenshot_if_available
from digest.queries import latest_load, latest_load_after, latest_week, week_bounds_utc
from digest.recipients import display_name, frame_language, quiet_reason, recipients, subscriber_filters
from digest.render import render
from digest.select import Filters, WeekWindow, content_for, load_window
from digest.send import (
    DEFAULT_SENDER,
    MAX_RETRY_DELAY,
    Ambiguous,
    ClaimLost,
    NotSent,
    SmtpSettings,
    build_message,
    read_message,
    smtp_settings,
    transmit,
    unsubscribe_targets,
)
from transforms.dates import HKT, week_start_hkt
from warehouse.checks import run_checks
from warehouse.db import get_engine

log = logging.getLogger(__name__)

SENT_OUTCOME, ALREADY_SENT, SENT_ELSEWHERE = "sent", "already sent", "sent by another sender"
DRY_RUN = "dry run (.eml written)"
BUSY_POLL_SECONDS = 1.0


class WeekNotLoaded(RuntimeError):
    """The week's data is not in the warehouse yet: the scheduled run waits (its task retries)."""


class DeliveryProblems(RuntimeError):
    """Some digests are `unknown` or `failed`: they need a person (`hkai digest --resend`)."""


# --- the week ------------------------------------------------------------------------------------


def choose_week(requested: str | date | None, *, moment: datetime) -> date:
    """The week to report: `requested` (any date in it) if given, else the week before `moment`.

    The warehouse must pass the ingest's quality gate (QualityCheckFailed blocks the digest), and
    the week must be loaded (WeekNotLoaded: an ingest whose crawls all started after the week
    ended has loaded).
    """
    run_checks()
    week = resolve_week(requested) if requested else previous_week(moment)
    ensure_loaded(week)
    return week


def resolve_week(week: str | date | None) -> date:
    """Monday of the ISO week holding `week`; without one, the latest week with relevant articles."""
    if week is None:
        latest = latest_week(get_engine())
        if latest is None:
            raise LookupError("the warehouse has no relevant articles yet: run the ingest first")
        week = latest
    day = week if isinstance(week, date) else date.fromisoformat(str(week)[:10])
    return day - timedelta(days=day.weekday())


def previous_week(moment: datetime) -> date:
    """Monday of the ISO week before `moment`, in Hong Kong time (a Monday run reports last week)."""
    return week_start_hkt(moment) - timedelta(days=7)


def not_loaded_reason(week_start: date) -> str | None:
    """Why the week is not ready to send (None when it is): no ingest whose crawls all started
    after the week ended (Monday 00:00 HKT) has loaded yet."""
    _, week_end = week_bounds_utc(week_start)
    with get_engine().connect() as conn:
        if latest_load_after(conn, week_end) is not None:
            return None
        latest = latest_load(conn)
    last = (
        f"the latest load is {latest.run_id} at {latest.loaded_at:%Y-%m-%d %H:%M} UTC"
        if latest is not None
        else "no load is recorded"
    )
    return (
        f"the week of {week_start} is not fully loaded: no ingest started after it ended "
        f"({week_end:%Y-%m-%d %H:%M} UTC) has loaded yet; {last}"
    )


def ensure_loaded(week_start: date) -> None:
    reason = not_loaded_reason(week_start)
    if reason:
        raise WeekNotLoaded(reason)


# --- rendering -----------------------------------------------------------------------------------


def render_week(week: str | date | None = None, *, only: list[str] | None = None) -> dict[str, Any]:
    """Render one digest per subscriber (or the subscribers in `only`); returns the week and, per
    subscriber, the written files."""
    week_start = resolve_week(week)
    people = select_recipients(only)
    directory = digest_dir(week_start)
    directory.mkdir(parents=True, exist_ok=True)
    sender = sender_address()
    window = load_window(get_engine(), week_start)
    digests = [render_for(window, person, directory, sender) for person in people]
    return {"week_start": week_start.isoformat(), "digests": digests}


def select_recipients(only: list[str] | None) -> list[dict[str, Any]]:
    """Every subscriber, or those named in `only` (any letter case); naming a non-subscriber is an error."""
    people = recipients()
    if not only:
        return people
    wanted = {address.strip().lower() for address in only}
    chosen = [p for p in people if p["email"].lower() in wanted]
    missing = wanted - {p["email"].lower() for p in chosen}
    if missing:
        raise LookupError(f"not subscribers: {', '.join(sorted(missing))}")
    return chosen


def sender_address() -> str:
    smtp = smtp_settings(get_settings().smtp_conn_id)
    return smtp.from_email if smtp else DEFAULT_SENDER


def unsubscribe_url_template() -> str | None:
    """The https unsubscribe URL template (HKAI_DIGEST_UNSUBSCRIBE_URL), if any."""
    return get_settings().digest_unsubscribe_url


def render_for(window: WeekWindow, person: dict[str, Any], directory: Path, sender: str) -> dict[str, Any]:
    """One subscriber's digest: their filters and language, rendered, built and written."""
    email = person["email"]
    language = frame_language(person)
    filters = subscriber_filters(person)
    content = content_for(window, Filters.of(**filters), language=language)
    stories = len(content.stories)
    unsubscribe = unsubscribe_targets(email, sender, unsubscribe_url_template())
    rendered = render(
        content,
        display_name(person),
        quiet_reason=quiet_reason(filters, stories, language),
        unsubscribe_url=unsubscribe[-1],
    )
    message = build_message(
        rendered,
        to=email,
        sender=sender,
        week_start=window.week_start,
        language=language,
        unsubscribe=unsubscribe,
    )
    stem = write_digest(directory, email, rendered, message)
    store_message(get_engine(), email, window.week_start, message)
    log.info("rendered %s: %s stories, %s", relative(stem.with_suffix(".html")), stories, rendered.subject)
    return {
        "recipient": email,
        "key": recipient_key(email),
        "subject": rendered.subject,
        "eml": str(stem.with_suffix(".eml")),
        "html": str(stem.with_suffix(".html")),
        "png": screenshot_if_available(stem.with_suffix(".eml")),
        "stories": stories,
    }


def preview_lines(rendered: dict[str, Any]) -> list[str]:
    """Where to look at each rendered digest, for the task log: paths under the output directory
    (HKAI_OUT_DIR, mounted or copied where people read it), never a worker's file:// URL."""
    lines = [f"digests for the week of {rendered['week_start']} (paths under HKAI_OUT_DIR):"]
    for item in rendered["digests"]:
        lines.append(f"  {relative(item['html'])}  {item['stories']} stories  «{item.get('subject', '')}»")
        if item.get("png"):
            lines.append(f"  {relative(item['png'])}  screenshot")
        ident = archive_id(date.fromisoformat(str(rendered["week_start"])[:10]), item["recipient"])
        lines.append(f"  in the Airflow UI (make ui): /hkai/digests/{ident}")
    return lines


# --- delivery ------------------------------------------------------------------------------------


def claim_lease(smtp: SmtpSettings) -> timedelta:
    """How long a claim may stay `sending` before its sender is presumed dead (outcome `unknown`)."""
    return max(deliveries.DEFAULT_LEASE, timedelta(seconds=10 * smtp.timeout))


def deliver(
    rendered: dict[str, Any],
    *,
    send: bool = True,
    lease: timedelta | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Send each rendered .eml at most once; without an SMTP connection (or send=False) a dry run.

    Every recipient ends in a recorded outcome: sent (now, before, or by a concurrent sender),
    unknown or failed. A recipient another live sender holds is waited for (at most its lease).
    Returns the outcomes and `problems` (unknown or failed); `raise_for_problems` turns them into
    an error after all were tried.
    """
    week_start = date.fromisoformat(rendered["week_start"])
    engine = get_engine()
    smtp = smtp_settings(get_settings().smtp_conn_id) if send else None
    items = rendered["digests"]
    if smtp is None:
        outcomes = {item["recipient"]: _dry_run(engine, item["recipient"], week_start) for item in items}
        return {"week_start": rendered["week_start"], "deliveries": outcomes, "problems": []}
    lease = lease or claim_lease(smtp)
    deliveries.ensure_rows(engine, week_start, [item["recipient"] for item in items])
    run = _Delivery(engine, week_start, smtp, lease)
    waiting, retry_round = list(items), 0
    while True:
        deliveries.expire_stale(engine, week_start, lease=lease)
        run.backing_off = False
        waiting = [item for item in waiting if not run.step(item)]
        if not waiting:
            break
        if run.backing_off:
            sleep(min(smtp.retry_delay * 2**retry_round, MAX_RETRY_DELAY))
            retry_round += 1
        else:
            sleep(BUSY_POLL_SECONDS)
    problems = [f"{r}: {o}" for r, o in run.outcomes.items() if o.startswith(("unknown", "failed"))]
    return {"week_start": rendered["week_start"], "deliveries": run.outcomes, "problems": problems}


def raise_for_problems(result: dict[str, Any]) -> None:
    problems = result.get("problems") or []
    if problems:
        raise DeliveryProblems(
            f"{len(problems)} digest(s) for the week of {result['week_start']} need a person: "
            + "; ".join(problems)
        )


def _dry_run(engine: Engine, recipient: str, week_start: date) -> str:
    row = deliveries.get(engine, recipient, week_start)
    return ALREADY_SENT if row is not None and row.status == deliveries.SENT else DRY_RUN


def resend_hint(recipient: str, week_start: date) -> str:
    return f"resend with: hkai digest --resend {recipient} --week {week_start}"


class _Delivery:
    """One `deliver` call: per recipient, claim → send → record, and what happened."""

    def __init__(self, engine: Engine, week_start: date, smtp: SmtpSettings, lease: timedelta) -> None:
        self.engine, self.week_start, self.smtp, self.lease = engine, week_start, smtp, lease
        self.owner = deliveries.this_sender()
        self.outcomes: dict[str, str] = {}
        self.tries: dict[str, int] = {}
        self.waited: set[str] = set()
        self.backing_off = False

    def step(self, item: dict[str, Any]) -> bool:
        """One move for one recipient; True once its outcome is settled."""
        recipient = item["recipient"]
        row = deliveries.get(self.engine, recipient, self.week_start)
        if row is None:  # ensure_rows wrote it: only a concurrent delete gets here
            raise RuntimeError(f"the delivery row for {recipient} disappeared")
        if row.status == deliveries.SENT:
            self.outcomes[recipient] = SENT_ELSEWHERE if recipient in self.waited else ALREADY_SENT
            return True
        if row.status in deliveries.RESENDABLE:
            self.outcomes[recipient] = (
                f"{row.status}: {row.last_error or 'no detail'} ({resend_hint(recipient, self.week_start)})"
            )
            return True
        if row.status == deliveries.SENDING:
            self.waited.add(recipient)
            return False
        return self._send(item)

    def _send(self, item: dict[str, Any]) -> bool:
        recipient = item["recipient"]
        # the bytes rendered, from the warehouse outbox: the render may have run on another worker
        message = load_message(self.engine, recipient, self.week_start) or read_message(Path(item["eml"]))
        if str(message["To"]).strip().lower() != recipient.lower():
            raise ValueError(f"{item['eml']} is addressed to {message['To']}, not to {recipient}")
        held = deliveries.claim(
            self.engine,
            recipient,
            self.week_start,
            message_id=str(message["Message-ID"]),
            eml_path=item["eml"],
            owner=self.owner,
        )
        if held is None:  # another sender won the claim: wait for its outcome
            self.waited.add(recipient)
            return False
        del message["Date"]
        message["Date"] = format_datetime(datetime.now(HKT))
        try:
            reply = transmit(message, self.smtp, before_data=lambda: deliveries.still_mine(self.engine, held))
        except ClaimLost:
            self.waited.add(recipient)
            return False
        except NotSent as exc:
            tries = self.tries[recipient] = self.tries.get(recipient, 0) + 1
            if tries > self.smtp.retry_limit:
                detail = f"not sent after {tries} tries: {exc}"
                deliveries.record(self.engine, held, deliveries.FAILED, detail)
                log.error("digest for %s failed: %s", recipient, detail)
                self.outcomes[recipient] = f"failed: {detail} ({resend_hint(recipient, self.week_start)})"
                return True
            deliveries.record(self.engine, held, deliveries.RETRYING, f"try {tries}: {exc}")
            log.warning("digest for %s not sent (try %s, will retry): %s", recipient, tries, exc)
            self.backing_off = True
            return False
        except Ambiguous as exc:
            deliveries.record(self.engine, held, deliveries.UNKNOWN, str(exc))
            log.error("digest for %s may or may not have been delivered: %s", recipient, exc)
            self.outcomes[recipient] = f"unknown: {exc} ({resend_hint(recipient, self.week_start)})"
            return True
        except BaseException as exc:  # interrupted mid-send: the relay may have it
            deliveries.record(self.engine, held, deliveries.UNKNOWN, f"interrupted: {type(exc).__name__}")
            raise
        if not deliveries.record(self.engine, held, deliveries.SENT):
            log.warning("digest for %s was sent, but its claim had been taken over", recipient)
        log.info("digest for %s sent: %s", recipient, reply)
        self.outcomes[recipient] = SENT_OUTCOME
        return True


# --- commands ------------------------------------------------------------------------------------


def build_and_deliver(week: str | date | None = None, *, send: bool = False) -> dict[str, Any]:
    """`hkai digest`: render the week (default: the latest with articles), then deliver or dry-run.
    Sending needs the week to be loaded; the result lists any problems (see raise_for_problems)."""
    week_start = resolve_week(week)
    if send:
        ensure_loaded(week_start)
    rendered = render_week(week_start)
    delivered = deliver(rendered, send=send)
    return {**rendered, **delivered}


def resend(address: str, week: str | date) -> dict[str, Any]:
    """`hkai digest --resend`: send an `unknown` or `failed` digest again, on purpose."""
    week_start = resolve_week(week)
    smtp = smtp_settings(get_settings().smtp_conn_id)
    if smtp is None:
        raise LookupError(
            "no SMTP connection (smtp_default / AIRFLOW_CONN_SMTP_DEFAULT): nothing to resend with"
        )
    engine = get_engine()
    deliveries.expire_stale(engine, week_start, lease=claim_lease(smtp))
    rendered = render_week(week_start, only=[address])
    recipient = rendered["digests"][0]["recipient"]
    deliveries.reopen(engine, recipient, week_start)
    return {**rendered, **deliver(rendered, send=True)}


def delivery_status(week: str | date | None = None) -> list[dict[str, Any]]:
    """`hkai digest --status`: the ledger, after marking senders that died `unknown`."""
    engine = get_engine()
    week_start = resolve_week(week) if week else None
    smtp = smtp_settings(get_settings().smtp_conn_id)
    lease = claim_lease(smtp) if smtp else deliveries.DEFAULT_LEASE
    deliveries.expire_stale(engine, week_start, lease=lease)
    return deliveries.rows(engine, week_start)


def status_lines(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["no digest deliveries recorded"]
    lines = [f"{'week':<10}  {'status':<8}  {'tries':>5}  {'recipient':<32}  detail"]
    for row in rows:
        detail = row["last_error"] or ""
        if row["status"] == deliveries.SENT and row["sent_at"]:
            detail = f"sent {row['sent_at']:%Y-%m-%d %H:%M} UTC" + (f" after: {detail}" if detail else "")
        elif row["status"] == deliveries.SENDING:
            detail = f"claimed by {row['claimed_by']} at {row['claimed_at']:%Y-%m-%d %H:%M:%S} UTC"
        if row["status"] in deliveries.RESENDABLE:
            detail += f" ({resend_hint(row['recipient'], row['week_start'])})"
        lines.append(
            f"{row['week_start']!s:<10}  {row['status']:<8}  {row['attempts']:>5}  {row['recipient']:<32}  {detail}"
        )
    return lines
