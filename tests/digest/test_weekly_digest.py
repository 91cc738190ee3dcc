"""Choosing the digest's week (hkai/weekly_digest.py): the request, the schedule, the quality gate
and "the week's data is loaded", on a real warehouse; the task log's preview lines."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from hkai.weekly_digest import (
    WeekNotLoaded,
    choose_week,
    not_loaded_reason,
    preview_lines,
    render_week,
    resolve_week,
)
from tests.digest.conftest import LOAD_RUN, WEEK, crawl_row, load_week
from transforms.dates import HKT
from warehouse.checks import QualityCheckFailed
from warehouse.db import get_engine, upgrade
from warehouse.load import record_load_audit
from warehouse.models import CrawlRun

MONDAY_RUN = datetime(2025, 12, 1, 9, 0, tzinfo=HKT)
LAST_WEEK = date(2025, 11, 24)


@pytest.fixture
def warehouse(digest_env: Path):  # type: ignore[no-untyped-def]
    upgrade()
    return get_engine()


def _ingest(engine, run_id: str, *crawl_starts: datetime) -> None:  # type: ignore[no-untyped-def]
    """An ingest run: its crawls (naive UTC start times) and its load."""
    with engine.begin() as conn:
        for n, started in enumerate(crawl_starts):
            conn.execute(CrawlRun.__table__.insert(), crawl_row(run_id, f"source{n}", started))
    record_load_audit(engine, run_id, staged=1, loaded=1, rejected=0)


def test_a_requested_week_is_the_monday_of_any_day_in_it(warehouse) -> None:  # type: ignore[no-untyped-def]
    _ingest(warehouse, "after", datetime(2025, 11, 30, 16, 0))
    assert choose_week("2025-11-27", moment=MONDAY_RUN) == LAST_WEEK
    assert resolve_week(date(2025, 11, 30)) == LAST_WEEK


def test_a_scheduled_monday_run_reports_the_week_before(warehouse) -> None:  # type: ignore[no-untyped-def]
    _ingest(warehouse, "after", datetime(2025, 12, 1, 0, 30))
    assert choose_week(None, moment=MONDAY_RUN) == LAST_WEEK
    late_sunday = datetime(2025, 11, 30, 15, 59, tzinfo=HKT.utc)  # Sunday 23:59 in Hong Kong
    assert choose_week(None, moment=late_sunday) == date(2025, 11, 17)


def test_the_week_waits_for_an_ingest_that_started_after_it_ended(warehouse) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WeekNotLoaded, match="no load is recorded"):
        choose_week(None, moment=MONDAY_RUN)
    # Sunday 22:00 HKT: its crawls began inside the week, so late-Sunday news may be missing
    _ingest(warehouse, "sunday-22", datetime(2025, 11, 30, 14, 0))
    reason = not_loaded_reason(LAST_WEEK)
    assert reason and "sunday-22" in reason and "2025-11-30 16:00 UTC" in reason
    # a run whose first crawl started before midnight and its last after it does not count either
    _ingest(warehouse, "straddling", datetime(2025, 11, 30, 15, 59), datetime(2025, 11, 30, 16, 5))
    assert not_loaded_reason(LAST_WEEK) is not None
    # the first 2-hourly run after Monday 00:00 HKT makes the week sendable, at 09:00
    _ingest(warehouse, "monday-00", datetime(2025, 11, 30, 16, 0), datetime(2025, 11, 30, 16, 10))
    assert not_loaded_reason(LAST_WEEK) is None
    assert choose_week(None, moment=MONDAY_RUN) == LAST_WEEK
    assert not_loaded_reason(date(2025, 12, 1)) is not None  # this week is not over


def test_a_failing_quality_gate_blocks_the_digest(warehouse) -> None:  # type: ignore[no-untyped-def]
    with warehouse.begin() as conn:
        conn.execute(text("INSERT INTO entities (id, name, type, status) VALUES ('x', 'X', 'place', 'kb')"))
    with pytest.raises(QualityCheckFailed, match="entities.type"):
        choose_week("2025-11-24", moment=MONDAY_RUN)


def test_an_empty_warehouse_has_no_latest_week(warehouse) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LookupError, match="run the ingest first"):
        resolve_week(None)


def test_preview_lines_are_paths_under_the_output_directory_with_subjects(digest_env: Path) -> None:
    load_week()
    lines = preview_lines(render_week(WEEK))
    assert not any("file://" in line or str(digest_env) in line for line in lines)
    assert lines[0] == "digests for the week of 2025-11-24 (paths under HKAI_OUT_DIR):"
    assert lines[1].startswith("  digests/2025-11-24/analyst-example-org-") and ".html" in lines[1]
    assert "3 stories  «Hong Kong AI weekly: 2025-W48 (24 Nov–30 Nov 2025)»" in lines[1]
    assert (digest_env / "out" / lines[1].split()[0]).exists()
    # and where the front door shows it: the archive id names the week and the recipient's file stem
    ui_line = next(line for line in lines if "/hkai/digests/" in line)
    stem = Path(lines[1].split()[0]).stem
    assert ui_line.endswith(f"/hkai/digests/2025-11-24_{stem}"), ui_line


def test_a_subset_of_subscribers_is_rendered_and_strangers_are_refused(
    digest_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_week()
    path = digest_env / "subscribers.yaml"
    path.write_text("- {email: one@example.org}\n- {email: two@example.org}\n", encoding="utf-8")
    monkeypatch.setenv("HKAI_DIGEST_RECIPIENTS_FILE", str(path))
    rendered = render_week(WEEK, only=["TWO@example.org"])
    assert [d["recipient"] for d in rendered["digests"]] == ["two@example.org"]
    with pytest.raises(LookupError, match="not subscribers: stranger@example.org"):
        render_week(WEEK, only=["stranger@example.org"])


def test_an_https_unsubscribe_setting_reaches_headers_and_footer(
    digest_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HKAI_DIGEST_UNSUBSCRIBE_URL (settings field `digest_unsubscribe_url`), `{email}` quoted."""
    import hkai.weekly_digest as weekly_digest

    monkeypatch.setattr(
        weekly_digest, "unsubscribe_url_template", lambda: "https://hkai.example.org/u?e={email}"
    )
    load_week()
    item = render_week(WEEK)["digests"][0]
    eml = Path(item["eml"]).read_text(encoding="utf-8")
    assert "<https://hkai.example.org/u?e=analyst%40example.org>" in eml
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in eml
    assert 'href="https://hkai.example.org/u?e=analyst%40example.org"' in Path(item["html"]).read_text(
        encoding="utf-8"
    )


def test_the_digest_command_line(digest_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hkai.cli import EXIT_ERROR, EXIT_USAGE, main

    with pytest.raises(SystemExit) as exit_info:
        main(["digest", "--send", "--status"])
    assert exit_info.value.code == EXIT_USAGE
    capsys.readouterr()
    assert main(["digest", "--resend", "a@example.org"]) == EXIT_ERROR
    assert "--resend needs --week" in capsys.readouterr().err
    upgrade()
    assert main(["digest", "--status"]) == 0
    assert capsys.readouterr().out == "no digest deliveries recorded\n"


def test_the_warehouse_event_says_what_an_ingest_brought(digest_env: Path) -> None:
    from hkai.assets import warehouse_event_extra

    load_week(crawls=[crawl_row(LOAD_RUN, "hk01_tech", datetime(2025, 11, 30, 17, 5), flagged=True)])
    assert warehouse_event_extra(LOAD_RUN, {"weeks_refreshed": 1}) == {
        "run_id": LOAD_RUN,
        "articles_loaded": 3,
        "weeks_touched": ["2025-11-24"],
        "sources_crawled": 2,
        "sources_flagged": ["hk01_tech"],
        "weeks_refreshed": 1,
    }
