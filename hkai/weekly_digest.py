"""The weekly digest, end to end: the `hk_ai_weekly_digest` DAG's tasks and `hkai digest`.

choose_week → render_week → deliver. The week is an ISO week in Hong Kong time, and a scheduled run
reports the week before it. Rendering writes the .html, .txt and .eml of every subscriber's digest
under out/digests/<week>/; delivery reads the .eml back, so a retry sends the bytes it rendered,
and the deliveries ledger makes it exactly once per (recipient, week). The pieces are in digest/.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from config.settings import get_settings
from digest import deliveries
from digest.outbox import digest_dir, slug, write_digest
from digest.preview import screenshot_if_available
from digest.queries import latest_week
from digest.recipients import display_name, quiet_reason, recipients, subscriber_filters
from digest.render import render
from digest.select import select_content
from digest.send import SmtpSettings, build_message, read_message, send_message, smtp_settings
from transforms.dates import week_start_hkt
from warehouse.checks import run_checks
from warehouse.db import get_engine

log = logging.getLogger(__name__)

DEFAULT_SENDER = "digest@hkai.local"
FAILED = "failed: "


@dataclass(frozen=True)
class WeekChoice:
    week_start: date
    skip_reason: str | None = None  # set when there is nothing to do for the week


def choose_week(
    requested: str | date | None, *, moment: datetime, asset_triggered: bool = False
) -> WeekChoice:
    """The week to report: `requested` (any date in it) if given, else the week before `moment`.

    The warehouse must pass the ingest's quality gate first (QualityCheckFailed blocks the digest).
    A run triggered by a warehouse update when every subscriber already has the week's digest has
    nothing to do: the choice then carries a skip reason.
    """
    run_checks()
    if requested:
        return WeekChoice(resolve_week(requested))
    week = previous_week(moment)
    if asset_triggered and not pending_recipients(week):
        return WeekChoice(week, f"every digest for the week of {week} has been sent")
    return WeekChoice(week)


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


def pending_recipients(week_start: date) -> list[str]:
    """Subscribers whose digest for this week has not been sent yet."""
    sent = deliveries.sent_recipients(get_engine(), week_start)
    return [person["email"] for person in recipients() if person["email"] not in sent]


def render_week(week: str | date | None = None) -> dict[str, Any]:
    """Render one digest per subscriber; returns the week and, per subscriber, the written files."""
    week_start = resolve_week(week)
    directory = digest_dir(week_start)
    directory.mkdir(parents=True, exist_ok=True)
    sender = sender_address()
    engine = get_engine()
    digests = [render_for(engine, person, week_start, directory, sender) for person in recipients()]
    return {"week_start": week_start.isoformat(), "digests": digests}


def sender_address() -> str:
    smtp = smtp_settings(get_settings().smtp_conn_id)
    return smtp.from_email if smtp else DEFAULT_SENDER


def render_for(
    engine: Engine, person: dict[str, Any], week_start: date, directory: Path, sender: str
) -> dict[str, Any]:
    """One subscriber's digest: select with their filters, render, build the message, write the files."""
    filters = subscriber_filters(person)
    content = select_content(engine, week_start, **filters)
    stories = len(content.stories)
    rendered = render(content, display_name(person), quiet_reason=quiet_reason(filters, stories))
    message = build_message(rendered, to=person["email"], sender=sender)
    stem = write_digest(directory, person["email"], rendered, message)
    log.info("rendered digest for %s: %s stories -> %s", slug(person["email"]), stories, stem)
    return {
        "recipient": person["email"],
        "eml": str(stem.with_suffix(".eml")),
        "html": str(stem.with_suffix(".html")),
        "png": screenshot_if_available(stem.with_suffix(".eml")),
        "stories": stories,
    }


def preview_lines(rendered: dict[str, Any]) -> list[str]:
    """Where to look at each rendered digest, for the task log."""
    lines = []
    for item in rendered["digests"]:
        lines += [
            f"digest for {item['recipient']}: {item['stories']} stories",
            f"  preview: file://{item['html']}",
        ]
        if item.get("png"):
            lines.append(f"  screenshot: file://{item['png']}")
    return lines


def deliver(rendered: dict[str, Any], *, send: bool = True) -> dict[str, Any]:
    """Send each rendered .eml once; without an SMTP connection (or send=False) it is a dry run.

    Raises RuntimeError naming every digest that failed, after trying them all.
    """
    week_start = date.fromisoformat(rendered["week_start"])
    smtp = smtp_settings(get_settings().smtp_conn_id) if send else None
    engine = get_engine()
    results: dict[str, str] = {}
    failures: list[str] = []
    for item in rendered["digests"]:
        outcome = deliver_one(engine, item, week_start, smtp)
        results[item["recipient"]] = outcome
        if outcome.startswith(FAILED):
            failures.append(f"{item['recipient']}: {outcome.removeprefix(FAILED)}")
    if failures:
        raise RuntimeError(f"{len(failures)} digest(s) failed to send: {'; '.join(failures)}")
    return {"week_start": rendered["week_start"], "deliveries": results}


def deliver_one(engine: Engine, item: dict[str, Any], week_start: date, smtp: SmtpSettings | None) -> str:
    """One recipient's digest: never twice, a dry run without SMTP, else recorded, sent, recorded."""
    recipient = item["recipient"]
    previous = deliveries.previous_delivery(engine, recipient, week_start)
    if previous is not None and previous.status == "sent":
        return "already sent"
    if smtp is None:
        return "dry run (.eml written)"
    message = read_message(Path(item["eml"]))
    attempt = deliveries.start_attempt(
        engine,
        recipient,
        week_start,
        message_id=str(message["Message-ID"]),
        eml_path=item["eml"],
        attempts=(previous.attempts if previous is not None else 0) + 1,
    )
    try:
        send_message(message, smtp)
    except Exception as exc:  # smtplib raises OSError subclasses and SMTPException
        deliveries.mark_failed(engine, attempt, exc)
        return f"{FAILED}{exc}"
    deliveries.mark_sent(engine, attempt)
    return "sent"


def build_and_deliver(week: str | date | None = None, *, send: bool = False) -> dict[str, Any]:
    """`hkai digest`: render the week (default: the latest with articles), then deliver or dry-run."""
    rendered = render_week(week)
    delivered = deliver(rendered, send=send)
    return {**rendered, **delivered}
