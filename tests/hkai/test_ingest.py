"""The ingest path on real Scrapy, the loopback replay server and a real SQLite warehouse."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hkai import ingest
from tests.paths import SNAPSHOT
from warehouse.db import get_engine
from warehouse.models import Article, ArticleEntity, CrawlRun


def _count(model) -> int:  # type: ignore[no-untyped-def]
    with get_engine().connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.mark.slow
def test_replay_ingest_is_incremental_and_idempotent(hkai_env: Path) -> None:
    first = ingest.run_all("run-1", ["rthk_en", "scmp_tech", "mingpao"])
    assert all(not c["flagged"] for c in first["crawls"]), first["crawls"]
    articles, tags = _count(Article), _count(ArticleEntity)
    assert articles == 16 and first["load"]["loaded"] == 16

    second = ingest.run_all("run-2", ["rthk_en", "scmp_tech", "mingpao"])
    assert _count(Article) == articles and _count(ArticleEntity) == tags  # no duplicates
    for crawl in second["crawls"]:
        health = crawl["health"]
        assert health["article_pages"] == 0, crawl  # nothing already stored is fetched again
        assert health["items"] == 0 and not crawl["flagged"]
        assert health["not_modified"] >= 1  # conditional GET answered 304
    assert _count(CrawlRun) == 6


def _broken_snapshot(tmp_path: Path) -> Path:
    """A copy of the demo snapshot where HKMA's feed answers HTTP 500 and unwire's is malformed XML."""
    root = tmp_path / "snapshot"
    shutil.copytree(SNAPSHOT, root)
    (root / "files" / "bad").mkdir()
    malformed = b'<?xml version="1.0"?><rss><channel><item><title>broken'
    (root / "files" / "bad" / "malformed.xml").write_bytes(malformed)
    lines = [
        {
            "url": "https://www.hkma.gov.hk/eng/other-information/rss/rss_press-release.xml",
            "file": None,
            "status": 500,
            "source": "hkma",
            "kind": "feed",
        },
        {
            "url": "https://unwire.hk/feed/",
            "file": "files/bad/malformed.xml",
            "status": 200,
            "source": "unwire",
            "kind": "feed",
            "content_type": "application/rss+xml",
        },
    ]
    with (root / "manifest.jsonl").open("a", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line) + "\n")
    return root


@pytest.mark.slow
def test_broken_sources_are_flagged_and_others_carry_on(
    hkai_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HKAI_SNAPSHOT_DIR", str(_broken_snapshot(hkai_env)))
    monkeypatch.setenv("HKAI_SCRAPY_SETTINGS", json.dumps({"RETRY_TIMES": 1}))
    result = ingest.run_all("run-bad", ["hkma", "unwire", "rthk_en"])
    by_source = {c["source"]: c for c in result["crawls"]}
    assert by_source["hkma"]["flagged"] and "every feed/listing request failed" in by_source["hkma"]["reason"]
    assert by_source["unwire"]["flagged"] and "parse failure" in by_source["unwire"]["reason"]
    assert not by_source["rthk_en"]["flagged"] and by_source["rthk_en"]["items"] == 4
    assert _count(Article) == 4  # the healthy source was loaded
    with get_engine().connect() as conn:
        rows = conn.execute(select(CrawlRun.source, CrawlRun.flagged, CrawlRun.error_sample)).all()
    runs = {row.source: row for row in rows}
    assert runs["hkma"].flagged and any("500" in e for e in runs["hkma"].error_sample)
    assert runs["unwire"].flagged and any("malformed feed" in e for e in runs["unwire"].error_sample)
    with pytest.raises(ingest.SourceFlagged, match="hkma"):
        ingest.assert_sources_healthy("run-bad")


def test_snapshot_manifest_has_provenance_for_every_file() -> None:
    for line in (SNAPSHOT / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        assert entry["provenance"], entry["url"]
        assert isinstance(entry["generated"], bool)
        assert (SNAPSHOT / entry["file"]).exists()
        gzip.decompress((SNAPSHOT / entry["file"]).read_bytes())
