"""Digest stages: select → render (files under out/digests/) → deliver exactly once per (recipient, week).

Rendering writes the .html, .txt and .eml for each recipient; delivery reads the .eml, so a retry
sends the same bytes it rendered. A delivery row is written before sending and marked `sent`
after; a (recipient, week) already `sent` is never sent again.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from config.settings import get_settings

log = logging.getLogger(__name__)


def recipients() -> list[dict[str, Any]]:
    """Subscribers from HKAI_DIGEST_RECIPIENTS_FILE (YAML list), else one default reader."""
    path = get_settings().recipients_file
    if path and path.exists():
        records = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        return [r for r in records if isinstance(r, dict) and r.get("email")]
    return [{"email": get_settings().digest_to, "name": "Analyst"}]


def resolve_week(week: str | date | None) -> date:
    from digest.select import latest_week
    from warehouse.db import get_engine

    if week is None:
        latest = latest_week(get_engine())
        if latest is None:
            raise LookupError("the warehouse has no relevant articles yet: run the ingest first")
        return latest if isinstance(latest, date) else date.fromisoformat(str(latest)[:10])
    day = week if isinstance(week, date) else date.fromisoformat(str(week)[:10])
    return day - timedelta(days=day.weekday())


def previous_week(moment: datetime) -> date:
    """Monday of the ISO week before `moment`, in Hong Kong time (a Monday run reports last week)."""
    from transforms.dates import week_start_hkt

    return week_start_hkt(moment) - timedelta(days=7)


def pending_recipients(week_start: date) -> list[str]:
    """Subscribers whose digest for this week has not been sent yet."""
    from warehouse.db import get_engine
    from warehouse.models import DigestDelivery

    with get_engine().connect() as conn:
        sent = set(
            conn.execute(
                select(DigestDelivery.recipient).where(
                    DigestDelivery.week_start == week_start, DigestDelivery.status == "sent"
                )
            ).scalars()
        )
    return [r["email"] for r in recipients() if r["email"] not in sent]


def _slug(email: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", email.lower()).strip("-")


def digest_dir(week_start: date) -> Path:
    return get_settings().out_dir / "digests" / week_start.isoformat()


def render_week(week: str | date | None = None) -> dict[str, Any]:
    """Render one digest per recipient; returns the week and the written file paths."""
    from digest.render import render
    from digest.select import select_content
    from digest.send import build_message, smtp_settings
    from warehouse.db import get_engine

    week_start = resolve_week(week)
    engine = get_engine()
    directory = digest_dir(week_start)
    directory.mkdir(parents=True, exist_ok=True)
    sender = smtp_settings(get_settings().smtp_conn_id) or None
    from_email = sender.from_email if sender else "digest@hkai.local"
    outputs = []
    for person in recipients():
        filters = {
            "entities": set(person.get("entities") or []) or None,
            "sectors": set(person.get("sectors") or []) or None,
            "languages": set(person.get("languages") or []) or None,
            "min_relevance": float(person.get("min_relevance") or 0.0),
        }
        content = select_content(engine, week_start, **filters)
        active = [k for k, v in filters.items() if v]
        quiet_reason = f"filters: {', '.join(active)}" if active and not content.stories else None
        rendered = render(content, person.get("name") or person["email"], quiet_reason=quiet_reason)
        message = build_message(rendered, to=person["email"], sender=from_email)
        stem = directory / _slug(person["email"])
        stem.with_suffix(".html").write_text(rendered.html, encoding="utf-8")
        stem.with_suffix(".txt").write_text(rendered.text, encoding="utf-8")
        stem.with_suffix(".eml").write_bytes(message.as_bytes())
        outputs.append(
            {
                "recipient": person["email"],
                "eml": str(stem.with_suffix(".eml")),
                "html": str(stem.with_suffix(".html")),
                "png": _screenshot(stem.with_suffix(".eml")),
                "stories": len(content.stories),
            }
        )
        log.info(
            "rendered digest for %s: %s stories -> %s", _slug(person["email"]), len(content.stories), stem
        )
    return {"week_start": week_start.isoformat(), "digests": outputs}


def _screenshot(eml: Path) -> str | None:
    """A PNG preview when Chromium is installed; a missing browser never blocks the digest."""
    from digest.preview import chromium_path, screenshot

    if not get_settings().digest_screenshot or chromium_path() is None:
        return None
    try:
        report = screenshot(eml)
    except Exception as exc:  # a preview problem is logged, the digest still goes out
        log.warning("digest preview failed for %s: %s", eml.name, exc)
        return None
    if report.broken_images:
        log.warning("digest preview %s has broken images: %s", eml.name, report.broken_images)
    return str(report.screenshot)


def deliver(rendered: dict[str, Any], *, send: bool = True) -> dict[str, Any]:
    """Send each rendered .eml once; without an SMTP connection (or send=False) it is a dry run."""
    from digest.send import send_message, smtp_settings
    from warehouse.db import get_engine
    from warehouse.load import upsert
    from warehouse.models import DigestDelivery

    week_start = date.fromisoformat(rendered["week_start"])
    settings = smtp_settings(get_settings().smtp_conn_id) if send else None
    engine = get_engine()
    results: dict[str, str] = {}
    failures: list[str] = []
    for item in rendered["digests"]:
        recipient = item["recipient"]
        with engine.begin() as conn:
            existing = conn.execute(
                select(DigestDelivery.status, DigestDelivery.attempts).where(
                    DigestDelivery.recipient == recipient, DigestDelivery.week_start == week_start
                )
            ).first()
        if existing is not None and existing.status == "sent":
            results[recipient] = "already sent"
            continue
        if settings is None:
            results[recipient] = "dry run (.eml written)"
            continue
        message = BytesParser(policy=policy.default).parsebytes(Path(item["eml"]).read_bytes())
        attempts = (existing.attempts if existing else 0) + 1
        row = {
            "recipient": recipient,
            "week_start": week_start,
            "status": "sending",
            "message_id": str(message["Message-ID"]),
            "eml_path": item["eml"],
            "attempts": attempts,
            "last_error": None,
            "sent_at": None,
        }
        with engine.begin() as conn:
            upsert(conn, DigestDelivery.__table__, [row], ["recipient", "week_start"])
        try:
            send_message(message, settings)
        except (OSError, Exception) as exc:  # smtplib raises OSError subclasses and SMTPException
            with engine.begin() as conn:
                upsert(
                    conn,
                    DigestDelivery.__table__,
                    [{**row, "status": "failed", "last_error": str(exc)[:500]}],
                    ["recipient", "week_start"],
                )
            failures.append(f"{recipient}: {exc}")
            results[recipient] = f"failed: {exc}"
            continue
        with engine.begin() as conn:
            upsert(
                conn,
                DigestDelivery.__table__,
                [{**row, "status": "sent", "sent_at": datetime.now(UTC).replace(tzinfo=None)}],
                ["recipient", "week_start"],
            )
        results[recipient] = "sent"
    if failures:
        raise RuntimeError(f"{len(failures)} digest(s) failed to send: {'; '.join(failures)}")
    return {"week_start": rendered["week_start"], "deliveries": results}


def build_and_deliver(week: str | date | None = None, *, send: bool = False) -> dict[str, Any]:
    rendered = render_week(week)
    delivered = deliver(rendered, send=send)
    return {**rendered, **delivered}
