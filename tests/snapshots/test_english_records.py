"""The dated English records and the third GIA day behind the demo snapshot: real dates, provenance, and a
replay crawl that stores each one in the week its page gives.

The records are real excerpts and CSV rows (snapshots/sources/english_ai/README-dated.md,
snapshots/sources/hknews/README.md); these tests check what the build and the demo rely on: every item
keeps the date its page prints (the URL's day for GIA and the Digital Policy Office), and the replay crawl
of the demo snapshot turns each into an article at that date in HKT.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.paths import REPO, SNAPSHOT

SOURCES = REPO / "snapshots" / "sources"
DATED = SOURCES / "english_ai" / "dated.jsonl"
GIA_FILES = (SOURCES / "hknews" / "gia.jsonl", SOURCES / "hknews" / "gia_more.jsonl")
HKT = timezone(timedelta(hours=8))
# the day a page's address gives: GIA's folder, the Digital Policy Office's file name, news.gov.hk's folder,
# the PCPD's statement file name
URL_DAY = (
    re.compile(r"/gia/general/(\d{4})(\d{2})/(\d{2})/"),
    re.compile(r"/sp_(\d{4})(\d{2})(\d{2})"),
    re.compile(r"/eng/\d{4}/\d{2}/(\d{4})(\d{2})(\d{2})/"),
    re.compile(r"/media_statements/press_(\d{4})(\d{2})(\d{2})\.html"),
)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _url_day(url: str) -> str | None:
    for pattern in URL_DAY:
        if found := pattern.search(url):
            return "-".join(found.groups())
    return None


def _manifest() -> dict[str, dict[str, Any]]:
    return {e["url"]: e for e in _jsonl(SNAPSHOT / "manifest.jsonl")}


def test_dated_excerpts_keep_the_day_their_page_gives() -> None:
    records = _jsonl(DATED)
    assert records
    for record in records:
        assert record["lang"] == "en" and record["excerpt"] is True
        assert record["provenance"] == {"page_url": record["url"]}
        assert record["published"], record["id"]
        day = _url_day(record["url"])
        # China Daily prints its time on the page, not in the address
        assert day == record["published"][:10] or "chinadailyhk.com" in record["url"], record["id"]
        paragraphs = record["body"].split("\n\n")
        assert all(p.strip() == p and p for p in paragraphs), record["id"]
        assert "<" not in record["body"] and "*****" not in record["body"]


def test_gia_rows_have_provenance_and_match_their_address() -> None:
    seen: set[str] = set()
    for data_file in GIA_FILES:
        for record in _jsonl(data_file):
            url = record["url"]
            assert url not in seen, url
            seen.add(url)
            assert record["id"] == "gia-" + url.rsplit("/", 1)[1].removesuffix(".htm")
            assert record["lang"] in {"en", "zh-Hant"}
            issued = datetime.fromisoformat(record["published"])
            assert issued.utcoffset() == timedelta(hours=8)
            assert _url_day(url) == issued.date().isoformat()
            provenance = record["provenance"]
            assert provenance["repo"] == "wusiuyu/hknews" and re.fullmatch(
                r"[0-9a-f]{40}", provenance["commit"]
            )
            assert provenance["path"] in {"gia_backup.csv", "gia_db.csv"} and provenance["row"] >= 0


def test_snapshot_serves_every_dated_record_as_a_regenerated_page() -> None:
    manifest = _manifest()
    expected = {
        "info.gov.hk": "gia_en",
        "news.gov.hk": "news_gov_hk",
        "digitalpolicy.gov.hk": "digital_policy_office",
    }
    expected["chinadailyhk.com"] = "chinadaily_hk"
    expected["pcpd.org.hk"] = "pcpd"
    for record in _jsonl(DATED) + _jsonl(GIA_FILES[1]):
        entry = manifest[record["url"]]
        host = next(h for h in expected if h in record["url"])
        source = expected[host] if record["lang"] == "en" else "gia_zh"
        assert entry["source"] == source and entry["kind"] == "generated_page" and entry["generated"] is True
        assert entry["provenance"]["record"].endswith("#" + record["id"])


def test_pcpd_listing_links_exactly_the_statements_its_source_follows() -> None:
    """A listing source follows only links matching its pattern: every regenerated PCPD page must be one
    of them (a page nothing links to would sit in the snapshot unread), and every link must be served."""
    import gzip

    from spiders.registry import get_source

    source = get_source("pcpd")
    manifest = _manifest()
    listing = manifest[source.start_urls[0]]
    assert listing["kind"] == "listing" and listing["generated"] is True
    html = gzip.decompress((SNAPSHOT / listing["file"]).read_bytes()).decode()
    pattern = re.compile(source.article_url_pattern or "")
    linked = {url for url in re.findall(r'href="([^"]+)"', html) if pattern.search(url)}
    pages = {e["url"] for e in manifest.values() if e["source"] == "pcpd" and e["kind"] == "generated_page"}
    assert linked and linked == pages


@pytest.mark.slow
def test_replay_crawl_stores_each_record_at_its_date(hkai_env: Path) -> None:
    from hkai import ingest
    from warehouse.db import get_engine
    from warehouse.models import Article

    result = ingest.run_all("dated", ["digital_policy_office", "chinadaily_hk", "news_gov_hk", "pcpd"])
    assert all(not c["flagged"] for c in result["crawls"]), result["crawls"]
    with get_engine().connect() as conn:
        stored = {
            row.url: row for row in conn.execute(select(Article.url, Article.published_at, Article.language))
        }
    records = [r for r in _jsonl(DATED) if "info.gov.hk" not in r["url"]]
    assert records
    for record in records:
        row = stored[record["url"]]
        assert row.language == "en"
        published = row.published_at if row.published_at.tzinfo else row.published_at.replace(tzinfo=UTC)
        want = datetime.fromisoformat(record["published"])
        want = want if want.tzinfo else want.replace(tzinfo=HKT)
        assert published == want, (record["id"], published, want)
