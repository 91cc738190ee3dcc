"""`hkai export` as a user meets it: help, the file it writes, the message, the exit codes."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from hkai.cli import EXIT_ERROR, EXIT_USAGE, main
from warehouse.marts import MART_NAMES


@pytest.fixture
def warehouse(hkai_env: Path) -> Path:
    """The default (SQLite) warehouse of the test's data dir, holding real saved news in its marts."""
    from spiders.registry import sources
    from tests.warehouse.test_search import _snapshot_records
    from transforms.kb import load_entities
    from warehouse.db import get_engine, upgrade
    from warehouse.load import load_articles, sync_kb_entities, sync_sources
    from warehouse.marts import refresh_marts

    upgrade()
    engine = get_engine()
    with engine.begin() as conn:
        sync_sources(conn, sources())
        sync_kb_entities(conn, load_entities().values())
    load_articles(engine, _snapshot_records(), "run-1")
    refresh_marts(engine)
    return hkai_env


def test_help_exits_0_and_names_every_mart(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "--format" in out and "-o FILE" in out
    assert all(name in out for name in MART_NAMES)


def test_export_writes_the_file_and_says_how_many_rows(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from warehouse.db import get_engine
    from warehouse.export import export_mart

    target = warehouse / "exports" / "mentions.parquet"
    assert main(["export", "mart_weekly_entity_mentions", "--format", "parquet", "-o", str(target)]) == 0
    frame = pd.read_parquet(target)
    assert len(frame) > 0 and "entity_name_zh_hant" in frame.columns
    assert (
        f"exported {len(frame)} rows of mart_weekly_entity_mentions as parquet to {target}"
        in capsys.readouterr().err
    )
    assert list(target.parent.glob(".*")) == [], "no temporary file is left behind"

    csv_target = warehouse / "mentions.csv"
    assert main(["export", "mart_weekly_entity_mentions", "-o", str(csv_target)]) == 0
    assert csv_target.read_bytes() == export_mart(get_engine(), "mart_weekly_entity_mentions", "csv")


def test_csv_goes_to_stdout_by_default(warehouse: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["export", "mart_weekly_sector_share"]) == 0
    captured = capsysbinary.readouterr()
    frame = pd.read_csv(io.BytesIO(captured.out))
    assert list(frame.columns) == ["week_start", "sector", "articles", "share"]
    assert f"exported {len(frame)} rows".encode() in captured.err


def test_unknown_mart_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["export", "articles"])
    assert exit_.value.code == EXIT_USAGE
    assert "invalid choice: 'articles'" in capsys.readouterr().err


def test_a_failed_export_keeps_the_previous_file(hkai_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No warehouse yet (nothing migrated): one line on stderr, exit 1, the old file untouched."""
    target = hkai_env / "mentions.csv"
    target.write_text("previous export\n", encoding="utf-8")
    assert main(["export", "mart_weekly_entity_mentions", "-o", str(target)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("hkai export: error: ") and err.count("\n") == 1
    assert target.read_text(encoding="utf-8") == "previous export\n"
    assert list(hkai_env.glob(".mentions.csv*")) == []
