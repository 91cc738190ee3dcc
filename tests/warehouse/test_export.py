"""Every mart exports as CSV and Parquet and reads back with pandas unchanged, on SQLite and PostgreSQL
(real saved news, tagged by the real tagger, in the marts)."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select, text

from tests.conftest import warehouse_url_for
from tests.warehouse.test_search import _snapshot_records
from warehouse.db import get_engine, upgrade
from warehouse.export import export_mart, mart_frame
from warehouse.load import load_articles, sync_kb_entities, sync_sources
from warehouse.marts import MART_NAMES, MARTS, mart_table, refresh_marts


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """One warehouse per database for the module: the tests only read it."""
    from spiders.registry import sources
    from transforms.kb import load_entities

    url = warehouse_url_for(request.param, tmp_path_factory.mktemp("export"))
    upgrade(url)
    engine = get_engine(url)
    with engine.begin() as conn:
        sync_sources(conn, sources())
        sync_kb_entities(conn, load_entities().values())
        conn.execute(
            text(
                "INSERT INTO crawl_runs (run_id, source, mode, started_at, requests, responses_by_status,"
                " feed_entries, items, skipped_known, article_pages, parse_failures, errors, blocked,"
                " paywalled, not_modified, duration_s, flagged, error_sample)"
                " VALUES ('run-1', 'rthk_zh', 'replay', '2025-12-01 02:00:00', 3, '{}', 3, 3, 0, 3, 0, 0, 0,"
                " 0, 0, 1.5, FALSE, '[]')"
            )
        )
    load_articles(engine, _snapshot_records(), "run-1")
    refresh_marts(engine)
    return engine


def _count(engine: Engine, mart: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(mart_table(mart))).scalar_one())


def test_every_mart_round_trips_through_csv_and_parquet(engine: Engine) -> None:
    assert _count(engine, "mart_weekly_entity_mentions") > 0, "the sample must fill the marts"
    for mart in MART_NAMES:
        frame = mart_frame(engine, mart)
        assert list(frame.columns) == list(MARTS[mart].column_names), mart
        assert len(frame) == _count(engine, mart), mart

        parquet = pd.read_parquet(io.BytesIO(export_mart(engine, mart, "parquet")))
        pd.testing.assert_frame_equal(parquet, frame, check_dtype=False, obj=mart)

        csv = pd.read_csv(io.BytesIO(export_mart(engine, mart, "csv")), keep_default_na=False, na_values=[""])
        assert list(csv.columns) == list(frame.columns), mart
        assert len(csv) == len(frame), mart
        for column in MARTS[mart].columns:
            if column.data_type == "datetime":  # timezone-aware UTC in the file
                assert all(str(v).endswith("+00:00") for v in csv[column.name].dropna()), (mart, column.name)
            if column.data_type == "string":
                assert (
                    csv[column.name].fillna("").astype(str).tolist() == frame[column.name].fillna("").tolist()
                )


def test_chinese_names_survive_the_export(engine: Engine) -> None:
    frame = pd.read_csv(io.BytesIO(export_mart(engine, "mart_weekly_entity_mentions", "csv")))
    named = frame.dropna(subset=["entity_name_zh_hant"])
    assert len(named) > 0
    with engine.connect() as conn:
        kb: dict[str, str] = dict(
            conn.execute(text("SELECT id, zh_hant FROM entities WHERE zh_hant IS NOT NULL")).all()
        )
    assert all(kb[row.entity_id] == row.entity_name_zh_hant for row in named.itertuples())


def test_unknown_mart_or_format_is_a_clear_error(engine: Engine) -> None:
    with pytest.raises(
        ValueError, match="unknown mart 'articles'; the marts are: .*mart_weekly_entity_mentions"
    ):
        export_mart(engine, "articles", "csv")
    with pytest.raises(ValueError, match="unknown format 'xlsx'"):
        export_mart(engine, "mart_weekly_sector_share", "xlsx")  # type: ignore[arg-type]
