"""Parse tests per verified source, on real saved pages (snapshot) and raw server responses (fixtures)."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request, XmlResponse

from spiders.registry import get_source, sources, spider_classes
from tests.paths import FIXTURES, SNAPSHOT
from transforms.dates import HKT

SOURCE_FIXTURES = FIXTURES / "sources"


def _saved(root: Path, manifest: str) -> list[dict]:
    return [
        {**json.loads(line), "root": root}
        for line in (root / manifest).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


# Real saved responses: the replay snapshot and the per-source raw fixtures (tests/fixtures/sources).
MANIFEST = _saved(SNAPSHOT, "manifest.jsonl") + _saved(SOURCE_FIXTURES, "MANIFEST.jsonl")
VERIFIED = sorted(s.name for s in sources() if s.verified)


def _spider(name: str):  # type: ignore[no-untyped-def]
    spider = spider_classes()[name]()
    spider.fetched_at = datetime(2025, 11, 30, 12, 0, tzinfo=HKT)

    class Stats:
        def __init__(self) -> None:
            self.values: dict = {}

        def inc_value(self, key: str, n: int = 1) -> None:
            self.values[key] = self.values.get(key, 0) + n

        def get_value(self, key: str, default=None):  # type: ignore[no-untyped-def]
            return self.values.get(key, default)

        def set_value(self, key: str, value) -> None:  # type: ignore[no-untyped-def]
            self.values[key] = value

    spider.crawler = type("Crawler", (), {"stats": Stats()})()
    return spider


def test_registry_has_at_least_fifteen_sources_with_required_fields() -> None:
    registry = sources()
    assert len(registry) >= 15
    for source in registry:
        assert source.start_urls and source.languages and source.kind in {"rss", "sitemap", "api", "listing"}
    assert {"scmp_tech", "rthk_en", "rthk_zh", "gia_en", "gia_zh", "hkma", "mingpao", "hk01_tech"} <= {
        s.name for s in registry
    }


@pytest.mark.parametrize("name", VERIFIED)
def test_verified_source_parses_its_saved_article_pages(name: str) -> None:
    pages = [m for m in MANIFEST if m["source"] == name and m["kind"] == "page"]
    assert len(pages) >= 2, f"{name} is marked verified but has fewer than 2 saved pages"
    spider = _spider(name)
    for page in pages:
        body = gzip.decompress((page["root"] / page["file"]).read_bytes())
        response = HtmlResponse(url=page["url"], body=body, encoding="utf-8", request=Request(page["url"]))
        items = list(spider.parse_article(response, entry={}))
        assert len(items) == 1, f"{page['url']}: {spider.crawler.stats.values}"
        item = items[0]
        assert item["title"] and len(item["body"]) >= 40
        assert item["language"] == get_source(name).languages[0]
        assert item["published_at"] is not None and "+08:00" in item["published_at"]
        assert "<" not in item["title"]


@pytest.mark.parametrize("name", VERIFIED)
def test_verified_source_listing_yields_entries(name: str) -> None:
    listings = [m for m in MANIFEST if m["source"] == name and m["kind"] in {"feed", "api", "listing"}]
    assert listings
    spider = _spider(name)
    entry = listings[0]
    body = gzip.decompress((entry["root"] / entry["file"]).read_bytes())
    cls = XmlResponse if entry["kind"] == "feed" else HtmlResponse
    response = cls(url=entry["url"], body=body, encoding="utf-8", request=Request(entry["url"]))
    produced = list(spider.entries_to_requests(response))
    assert produced, f"{name}: no entries from {entry['url']}"
    assert spider.crawler.stats.values.get("hkai/feed_entries", 0) >= 1


def test_real_scmp_rss_feed_from_2019_yields_article_requests() -> None:
    body = gzip.decompress((FIXTURES / "scmp.xml.gz").read_bytes())
    spider = _spider("scmp_tech")
    response = XmlResponse(
        url="https://www.scmp.com/rss/2/feed", body=body, request=Request("https://www.scmp.com/rss/2/feed")
    )
    requests = list(spider.entries_to_requests(response))
    assert len(requests) >= 10
    assert all(r.url.startswith("https://www.scmp.com/") for r in requests)
    entry = requests[0].cb_kwargs["entry"]
    assert entry["published_at"].utcoffset().total_seconds() == 8 * 3600


def test_raw_rthk_page_from_2018_parses() -> None:
    body = gzip.decompress((FIXTURES / "rthk.html.gz").read_bytes())
    url = "https://news.rthk.hk/rthk/ch/component/k2/1404750-20180702.htm"
    spider = _spider("rthk_zh")
    items = list(spider.parse_article(HtmlResponse(url=url, body=body, request=Request(url)), entry={}))
    assert items and items[0]["published_at"].startswith("2018-07-02T12:58")
    assert items[0]["language"] == "zh-Hant"


def test_misdeclared_latin1_page_is_read_as_utf8() -> None:
    from spiders.base import response_text

    text = "數碼港人工智能超算中心"
    body = f'<html><head><meta charset="iso-8859-1"></head><body><p>{text}</p></body></html>'.encode()
    response = HtmlResponse(
        url="https://example.org/a", body=body, headers={"Content-Type": "text/html; charset=ISO-8859-1"}
    )
    assert text in response_text(response)


def test_big5_page_is_decoded() -> None:
    from spiders.base import response_text

    text = "香港科技大學"
    body = f'<html><head><meta charset="big5"></head><body><p>{text}</p></body></html>'.encode("big5")
    response = HtmlResponse(url="https://example.org/b", body=body)
    assert text in response_text(response)


def test_hkai_sources_json_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    from hkai.cli import main

    assert main(["sources", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == len(sources())
    assert {"name", "kind", "languages", "start_urls", "verified"} <= set(records[0])


def test_real_cloudflare_challenge_is_detected_as_a_bot_wall() -> None:
    from spiders.middlewares import bot_wall_reason

    body = gzip.decompress((FIXTURES / "inmedia-cloudflare-challenge.html.gz").read_bytes())
    assert bot_wall_reason(403, body, {b"Server": [b"cloudflare"]}) == "403 bot challenge"
    assert bot_wall_reason(200, body) == "challenge page"
    assert bot_wall_reason(202, b"<html><script>challenge()</script></html>") == "202 JavaScript challenge"
    real_article = gzip.decompress(
        next(m["root"] / m["file"] for m in MANIFEST if m["kind"] == "page").read_bytes()
    )
    assert bot_wall_reason(200, real_article) is None
