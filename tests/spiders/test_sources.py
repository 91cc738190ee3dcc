"""Parse tests per verified source, on real saved pages (snapshot) and raw server responses (fixtures)."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree
from scrapy.http import HtmlResponse, Request, XmlResponse
from scrapy.utils.test import get_crawler

from spiders.base import ArticleSpider
from spiders.registry import get_source, rules_for_url, sources, spider_classes
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


def _spider(name: str) -> ArticleSpider:
    """The source's spider on a test crawler, so its counters land in real crawler stats."""
    cls = spider_classes()[name]
    spider = cls()
    spider.fetched_at = datetime(2025, 11, 30, 12, 0, tzinfo=HKT)
    spider.crawler = get_crawler(cls)
    return spider


# Every source researched in research/hk-sources.md: (kind, languages, verified by saved pages).
EXPECTED_SOURCES = {
    "chinadaily_hk": ("rss", ("en",), False),
    "cradio": ("listing", ("zh-Hant",), False),
    "cyberport": ("listing", ("en",), False),
    "digital_policy_office": ("rss", ("en",), False),
    "ezone": ("listing", ("zh-Hant",), False),
    "gia_en": ("rss", ("en",), False),
    "gia_zh": ("rss", ("zh-Hant",), False),
    "hk01_tech": ("api", ("zh-Hant",), True),
    "hkej": ("listing", ("zh-Hant",), True),
    "hkfp": ("rss", ("en",), False),
    "hkma": ("rss", ("en",), False),
    "hkstp": ("listing", ("en",), False),
    "investhk": ("listing", ("en",), False),
    "mingpao": ("rss", ("zh-Hant",), True),
    "news_gov_hk": ("rss", ("en",), False),
    "pcpd": ("listing", ("en",), False),
    "rthk_en": ("rss", ("en",), True),
    "rthk_zh": ("rss", ("zh-Hant",), True),
    "scmp_tech": ("rss", ("en",), True),
    "the_standard": ("listing", ("en",), True),
    "unwire": ("rss", ("zh-Hant",), False),
}


def test_registry_declares_exactly_the_researched_sources() -> None:
    registry = {s.name: (s.kind, s.languages, s.verified) for s in sources()}
    assert registry == EXPECTED_SOURCES
    for name, cls in spider_classes().items():
        assert cls.name == cls.source.name == name
        assert cls.source.homepage.startswith("https://")
        assert cls.source.start_urls and all(u.startswith("https://") for u in cls.source.start_urls)


def test_saved_pages_are_exactly_the_verified_sources_and_get_their_own_rules() -> None:
    """The sources with saved article pages are the verified ones plus GIA (pages but no feed copy),
    and `rules_for_url` (used by `hkai extract`) finds each page's own source rules from its URL."""
    pages = [m for m in MANIFEST if m["kind"] == "page"]
    assert {m["source"] for m in pages} == set(VERIFIED) | {"gia_en"}
    for page in pages:
        assert rules_for_url(page["url"]) is get_source(page["source"]).rules, page["url"]


@pytest.mark.parametrize("name", VERIFIED)
def test_verified_source_parses_its_saved_article_pages(name: str) -> None:
    pages = [m for m in MANIFEST if m["source"] == name and m["kind"] == "page"]
    assert len(pages) >= 2, f"{name} is marked verified but has fewer than 2 saved pages"
    spider = _spider(name)
    for page in pages:
        body = gzip.decompress((page["root"] / page["file"]).read_bytes())
        response = HtmlResponse(url=page["url"], body=body, encoding="utf-8", request=Request(page["url"]))
        items = list(spider.parse_article(response, entry={}))
        assert len(items) == 1, f"{page['url']}: {spider.crawler.stats.get_stats()}"
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
    assert spider.crawler.stats.get_stats().get("hkai/feed_entries", 0) >= 1


def test_real_scmp_rss_feed_from_2019_yields_article_requests() -> None:
    body = gzip.decompress((FIXTURES / "scmp.xml.gz").read_bytes())
    spider = _spider("scmp_tech")
    response = XmlResponse(
        url="https://www.scmp.com/rss/2/feed", body=body, request=Request("https://www.scmp.com/rss/2/feed")
    )
    requests = list(spider.entries_to_requests(response))
    # one request per <item>, in feed order, for exactly the feed's own links
    links = [link.strip() for link in etree.fromstring(body).xpath("//item/link/text()")]
    assert len(links) == 50
    assert [r.url for r in requests] == links
    entry = requests[0].cb_kwargs["entry"]
    assert entry["title"].startswith("Hong Kong protests: no plans for foreign exchange controls")
    assert entry["published_at"] == datetime(
        2019, 10, 6, 16, 28, 27, tzinfo=HKT
    )  # Sun, 06 Oct 2019 16:28:27 +0800


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
