"""The ingest's trigger-form choices (`sources`, `since`) on real Scrapy, the replay snapshot and a
real SQLite warehouse: a subset crawls only those sources, `since` loads only entries published on
or after it, and a bad name or date is a clear error before anything is crawled."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from hkai import ingest
from transforms.dates import HKT
from warehouse.db import get_engine
from warehouse.models import Article, CrawlRun


def test_declared_source_names_are_the_registry() -> None:
    from spiders.registry import spider_classes

    assert ingest.declared_source_names() == sorted(spider_classes())


def test_an_unknown_source_fails_before_any_crawl(hkai_env: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown source\(s\): rthk_english; known sources: .*rthk_en"):
        ingest.run_all("bad-run", ["rthk_en", "rthk_english"])
    assert not (hkai_env / "data" / "warehouse.db").exists()  # nothing was crawled or written
    with pytest.raises(ValueError, match="since must be a date"):
        ingest.run_all("bad-run", ["rthk_en"], since="last Monday")


@pytest.mark.slow
def test_a_subset_with_since_crawls_only_those_sources_and_loads_only_newer_entries(
    hkai_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = ingest.run_all("all-of-it", ["scmp_tech"])
    with get_engine().connect() as conn:
        published = sorted(
            p
            for p in conn.execute(select(Article.published_at).where(Article.source == "scmp_tech")).scalars()
            if p
        )
    assert full["load"]["loaded"] == len(published) >= 2
    # a cut between the oldest and the newest entry (Hong Kong dates)
    days = sorted({p.replace(tzinfo=HKT.utc).astimezone(HKT).date() for p in published})  # type: ignore[attr-defined]
    assert len(days) >= 2
    cut = days[-1]
    expected = sum(1 for p in published if p.replace(tzinfo=HKT.utc).astimezone(HKT).date() >= cut)  # type: ignore[attr-defined]

    monkeypatch.setenv("HKAI_DATA_DIR", str(hkai_env / "backfill"))  # a fresh warehouse
    result = ingest.run_all("backfill", ["scmp_tech", "rthk_en"], since=cut.isoformat())
    with get_engine().connect() as conn:
        crawled = set(conn.execute(select(CrawlRun.source).where(CrawlRun.run_id == "backfill")).scalars())
        kept = conn.execute(select(Article.source, Article.published_at)).all()
    assert crawled == {"scmp_tech", "rthk_en"}
    assert {source for source, _ in kept} <= crawled
    scmp = [p for source, p in kept if source == "scmp_tech"]
    assert len(scmp) == expected < len(published)
    assert all(p is None or p.replace(tzinfo=HKT.utc).astimezone(HKT).date() >= cut for _, p in kept)  # type: ignore[attr-defined]
    assert result["load"]["before_since"] >= len(published) - expected
