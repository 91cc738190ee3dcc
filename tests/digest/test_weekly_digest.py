"""Choosing the digest's week (hkai/weekly_digest.py): the request, the schedule, the quality gate
and the "nothing left to send" skip, on a real (empty) warehouse."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from digest import deliveries
from hkai.weekly_digest import choose_week, pending_recipients, preview_lines, resolve_week
from transforms.dates import HKT
from warehouse.checks import QualityCheckFailed
from warehouse.db import get_engine, upgrade

MONDAY_RUN = datetime(2025, 12, 1, 9, 0, tzinfo=HKT)
LAST_WEEK = date(2025, 11, 24)


@pytest.fixture
def warehouse(hkai_env: Path):  # type: ignore[no-untyped-def]
    upgrade()
    return get_engine()


def _mark_sent(engine, recipient: str, week: date) -> None:  # type: ignore[no-untyped-def]
    attempt = deliveries.start_attempt(
        engine, recipient, week, message_id="<m@x>", eml_path="x.eml", attempts=1
    )
    deliveries.mark_sent(engine, attempt)


def test_a_requested_week_is_the_monday_of_any_day_in_it(warehouse) -> None:  # type: ignore[no-untyped-def]
    choice = choose_week("2025-11-27", moment=MONDAY_RUN, asset_triggered=True)
    assert choice.week_start == LAST_WEEK and choice.skip_reason is None
    assert resolve_week(date(2025, 11, 30)) == LAST_WEEK


def test_a_scheduled_monday_run_reports_the_week_before(warehouse) -> None:  # type: ignore[no-untyped-def]
    assert choose_week(None, moment=MONDAY_RUN).week_start == LAST_WEEK
    late_sunday = datetime(2025, 11, 30, 15, 59, tzinfo=HKT.utc)  # Sunday 23:59 in Hong Kong
    assert choose_week(None, moment=late_sunday).week_start == date(2025, 11, 17)


def test_a_data_triggered_run_skips_when_every_digest_was_sent(warehouse) -> None:  # type: ignore[no-untyped-def]
    assert pending_recipients(LAST_WEEK) == ["analyst@example.org"]
    assert choose_week(None, moment=MONDAY_RUN, asset_triggered=True).skip_reason is None
    _mark_sent(warehouse, "analyst@example.org", LAST_WEEK)
    assert pending_recipients(LAST_WEEK) == []
    skipped = choose_week(None, moment=MONDAY_RUN, asset_triggered=True)
    assert skipped.week_start == LAST_WEEK and "has been sent" in (skipped.skip_reason or "")
    # the Monday schedule and an explicit request still run (the send step then reports "already sent")
    assert choose_week(None, moment=MONDAY_RUN).skip_reason is None
    assert choose_week("2025-11-24", moment=MONDAY_RUN, asset_triggered=True).skip_reason is None


def test_a_failing_quality_gate_blocks_the_digest(warehouse) -> None:  # type: ignore[no-untyped-def]
    with warehouse.begin() as conn:
        conn.execute(text("INSERT INTO entities (id, name, type, status) VALUES ('x', 'X', 'place', 'kb')"))
    with pytest.raises(QualityCheckFailed, match="entities.type"):
        choose_week("2025-11-24", moment=MONDAY_RUN)


def test_an_empty_warehouse_has_no_latest_week(warehouse) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LookupError, match="run the ingest first"):
        resolve_week(None)


def test_preview_lines_point_at_the_files() -> None:
    rendered = {
        "week_start": "2025-11-24",
        "digests": [
            {"recipient": "a@x", "stories": 3, "html": "/o/a.html", "png": "/o/a.png"},
            {"recipient": "b@x", "stories": 0, "html": "/o/b.html", "png": None},
        ],
    }
    assert preview_lines(rendered) == [
        "digest for a@x: 3 stories",
        "  preview: file:///o/a.html",
        "  screenshot: file:///o/a.png",
        "digest for b@x: 0 stories",
        "  preview: file:///o/b.html",
    ]
