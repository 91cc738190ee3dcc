"""Staging in the warehouse: the hand-off between crawl and load, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from warehouse.db import get_engine, upgrade
from warehouse.load import prune_staging, read_staged, stage_items, stage_validators
from warehouse.models import StagedItem


def item(url: str, title: str) -> dict[str, str]:
    return {"url": url, "canonical_url": url, "source": "rthk_en", "title": title, "fetched_at": "2025-11-20"}


def test_a_url_staged_twice_is_stored_once_and_counted(warehouse_url: str) -> None:
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    first = [item("https://news.rthk.hk/a", "old title"), item("https://news.rthk.hk/b", "b")]
    with engine.begin() as conn:
        assert stage_items(conn, "run-1", "rthk_en", first) == 0
        # the same story again in a second feed of the same run, and a duplicate inside one crawl
        again = [item("https://news.rthk.hk/a", "new title"), item("https://news.rthk.hk/c", "c")] * 2
        assert stage_items(conn, "run-1", "rthk_en", again) == 3
        assert stage_items(conn, "run-2", "rthk_en", first[:1]) == 0  # other runs are separate
        stage_validators(conn, "run-1", "rthk_en", {"https://rthk.hk/feed.xml": {"etag": '"x1"'}})
        stage_validators(conn, "run-1", "rthk_en", {"https://rthk.hk/feed.xml": {"etag": '"x2"'}})
    with engine.connect() as conn:
        items, validators = read_staged(conn, "run-1")
    assert [(i["canonical_url"], i["title"]) for i in items] == [
        ("https://news.rthk.hk/a", "new title"),
        ("https://news.rthk.hk/b", "b"),
        ("https://news.rthk.hk/c", "c"),
    ]
    assert validators == {"rthk_en": {"https://rthk.hk/feed.xml": {"etag": '"x2"'}}}


def test_old_staging_rows_are_pruned(warehouse_url: str) -> None:
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    with engine.begin() as conn:
        stage_items(conn, "old", "rthk_en", [item("https://news.rthk.hk/old", "old")])
        stage_items(conn, "new", "rthk_en", [item("https://news.rthk.hk/new", "new")])
        long_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=8)
        conn.execute(update(StagedItem).where(StagedItem.run_id == "old").values(staged_at=long_ago))
        assert prune_staging(conn, keep_days=7) == 1
    with engine.connect() as conn:
        assert read_staged(conn, "old")[0] == []
        assert len(read_staged(conn, "new")[0]) == 1
