"""Parse tests on real raw server responses per source, listed in tests/fixtures/sources/MANIFEST.jsonl.

Every fixture is a byte-for-byte copy (gzipped) of a file from a public repository; the manifest line gives
repository, path and commit. Feeds and listings must yield article URLs of their source; article pages must
yield the page's own headline, a body of real text and the right HKT publication time.
"""

from __future__ import annotations

import gzip
import json
import re
from typing import Any
from urllib.parse import urlsplit

import lxml.html
import pytest
import scrapy
from scrapy.http import HtmlResponse, Request, XmlResponse

from spiders.registry import get_source, sources
from tests.paths import FIXTURES as ALL_FIXTURES
from tests.spiders.test_sources import _spider

FIXTURES = ALL_FIXTURES / "sources"
MANIFEST: list[dict[str, Any]] = [
    json.loads(line)
    for line in (FIXTURES / "MANIFEST.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]
LISTINGS = [m for m in MANIFEST if m["kind"] in {"feed", "listing"}]
PAGES = [m for m in MANIFEST if m["kind"] == "page"]
# Words of page furniture that must not leak into an article body.
NAVIGATION = (
    "Facebook",
    "twitter",
    "Print",
    "TS Channel",
    "googletag",
    "Captcha",
    "Font",
    "Issued at HKT",
    "NNNN",
)


def _body(entry: dict[str, Any]) -> bytes:
    return gzip.decompress((FIXTURES / entry["file"]).read_bytes())


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def _page_headline(raw: bytes) -> str:
    """The headline as the page itself states it (og:title), independent of the spider's selectors."""
    doc = lxml.html.fromstring(raw)
    values = doc.xpath('//meta[@property="og:title"]/@content')
    return " ".join(values[0].split()) if values else ""


def test_manifest_lines_have_provenance_and_files_exist() -> None:
    assert MANIFEST
    for entry in MANIFEST:
        assert entry["kind"] in {"feed", "listing", "page"}
        assert entry["source_repo"] and entry["source_path"]
        assert entry.get("source_commit") or entry.get("source_url")
        assert entry["file"].endswith(".gz") and (FIXTURES / entry["file"]).exists()
        assert entry["url"].startswith("http")


@pytest.mark.parametrize("name", sorted({m["source"] for m in MANIFEST}))
def test_source_with_fixtures_is_fully_covered(name: str) -> None:
    """At least two article pages per source, and for a verified source one feed or listing too; the
    source knows its fixtures. (An unverified source may have real pages but no copy of its feed.)"""
    entries = [m for m in MANIFEST if m["source"] == name]
    assert sum(m["kind"] == "page" for m in entries) >= 2
    if get_source(name).verified:
        assert any(m["kind"] in {"feed", "listing"} for m in entries)
    assert f"tests/fixtures/sources/{name}/" in get_source(name).notes


def test_every_verified_source_without_a_demo_snapshot_has_fixtures() -> None:
    covered = {m["source"] for m in MANIFEST}
    legacy = {"scmp_tech", "rthk_en", "rthk_zh", "mingpao", "hk01_tech", "hkej"}
    assert {s.name for s in sources() if s.verified} - legacy <= covered


@pytest.mark.parametrize("entry", LISTINGS, ids=lambda m: m["file"])
def test_feed_or_listing_yields_article_urls_of_its_source(entry: dict[str, Any]) -> None:
    spider = _spider(entry["source"])
    cls = XmlResponse if entry["kind"] == "feed" else HtmlResponse
    response = cls(url=entry["url"], body=_body(entry), request=Request(entry["url"]))
    requests = [r for r in spider.entries_to_requests(response) if isinstance(r, scrapy.Request)]
    assert requests, spider.crawler.stats.get_stats()
    assert spider.crawler.stats.get_stats().get("hkai/errors", 0) == 0, spider.crawler.stats.get_stats()
    home = _host(get_source(entry["source"]).homepage)
    pattern = re.compile(get_source(entry["source"]).article_url_pattern or ".")
    for request in requests:
        assert _host(request.url) == home, request.url
        assert pattern.search(request.url), request.url
    # the saved article pages of the same source and date are among the listed links
    listed = {r.url.replace("http://", "https://") for r in requests}
    pages = [
        m["url"].replace("http://", "https://")
        for m in PAGES
        if m["source"] == entry["source"] and m["source_commit"] == entry.get("source_commit")
    ]
    assert set(pages) <= listed


@pytest.mark.parametrize("entry", PAGES, ids=lambda m: m["file"])
def test_article_page_yields_headline_body_and_hkt_date(entry: dict[str, Any]) -> None:
    raw = _body(entry)
    spider = _spider(entry["source"])
    # no encoding forced: the page's own declaration (sometimes wrong) is what a crawl sees
    response = HtmlResponse(url=entry["url"], body=raw, request=Request(entry["url"]))
    items = list(spider.parse_article(response, entry={}))
    assert len(items) == 1, spider.crawler.stats.get_stats()
    item = items[0]

    headline = _page_headline(raw)
    assert item["title"] == entry["expected_title"] == headline

    body = item["body"]
    assert len(body) >= 500
    assert headline not in body
    assert "<" not in body and "&nbsp;" not in body
    for word in NAVIGATION:
        assert word not in body, word

    assert item["published_at"] == entry["expected_published"]
    assert item["published_at"].endswith("+08:00")
    assert item["language"] == get_source(entry["source"]).languages[0]
    assert item["source"] == entry["source"]
