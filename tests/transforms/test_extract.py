"""The extraction cascade on real saved pages: the generic steps alone, and site rules handed in the way the
spiders and `hkai extract` hand them (`rules=` from the source registry)."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime
from functools import cache

import lxml.html
import pytest

from spiders.registry import get_source, rules_for_url
from spiders.sources.gia import GIA_RULES
from spiders.sources.hk01 import HK01_RULES, hk01_next_data
from spiders.sources.rthk import RTHK_RULES
from spiders.sources.scmp import SCMP_RULES, scmp_next_data
from tests.paths import FIXTURES, SNAPSHOT
from transforms.dates import HKT, parse_date
from transforms.extract import (
    ExtractionError,
    Page,
    SiteRules,
    cleaned_fragment,
    extract_article,
    jsonld_article,
    next_data,
    paragraph_text,
    parse_document,
)

SNAPSHOT_URLS = {
    json.loads(line)["file"]: json.loads(line)["url"]
    for line in (SNAPSHOT / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
}
RTHK_EN = "files/rthk_en/cec7f57d4810aac3.gz"  # "Tai Po fire death toll climbs to 44"
RTHK_ZH = "files/rthk_zh/8a369e4a64330dad.gz"  # text wrapped in <font my="my">
HK01_LEAD_IN_TEASER = "files/hk01_tech/d6d72dc27da9bed6.gz"
HK01_LEAD_IN_SUMMARY_BLOCK = "files/hk01_tech/b7a364c17c365456.gz"
SCMP = "files/scmp_tech/6a03f3d2901b4330.gz"
MING_PAO_DAILY = "files/mingpao/6279e29514a2c2aa.gz"
GIA = FIXTURES / "sources" / "gia_en" / "P2020010700549.htm.gz"
GIA_URL = "https://www.info.gov.hk/gia/general/202001/07/P2020010700549.htm"


@cache
def snapshot_page(file: str) -> tuple[str, bytes]:
    return SNAPSHOT_URLS[file], gzip.decompress((SNAPSHOT / file).read_bytes())


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# -- the generic cascade ------------------------------------------------------------------------


def test_unknown_site_json_ld_gives_body_title_date_authors_and_section() -> None:
    url, html = snapshot_page(SCMP)
    result = extract_article(html, url)
    assert result.body_method == "jsonld" and result.date_method == "jsonld"
    assert result.title == "‘Our spirit is tougher’: Hong Kong fire survivor’s ordeal and rescue"
    assert result.body.startswith(
        "William Li, 40, is one of the survivors of Hong Kong’s Tai Po fire tragedy."
    )
    assert result.published == datetime(2025, 11, 28, 21, 44, 1, tzinfo=HKT)
    assert result.modified is not None and result.modified > result.published
    assert result.authors == ["SCMP Reporters"]
    assert result.section == "Society"
    assert result.language == "en"


def test_without_structured_data_or_rules_trafilatura_and_htmldate_answer() -> None:
    url, html = snapshot_page(RTHK_EN)
    result = extract_article(html, url)
    assert (result.body_method, result.date_method) == ("trafilatura", "htmldate")
    assert result.title == "Tai Po fire death toll climbs to 44"
    assert "The death toll in a devastating fire that engulfed seven residential buildings" in result.body
    assert result.published is not None and result.published.date() == datetime(2025, 11, 27).date()


def test_page_parse_reads_json_ld_once_and_no_payload_without_a_reader() -> None:
    url, html = snapshot_page(SCMP)
    page = Page.parse(html, url, SiteRules())
    assert page.jsonld is not None and page.jsonld["headline"].startswith("‘Our spirit is tougher’")
    assert page.jsonld == jsonld_article(page.doc)
    assert next_data(page.doc) is not None  # the page has a payload, but nothing here reads it
    assert page.payload is None


def test_empty_or_articleless_pages_raise() -> None:
    with pytest.raises(ExtractionError, match="empty page"):
        extract_article(b"  ", "https://example.org/")
    with pytest.raises(ExtractionError, match="no article text"):
        extract_article("<html><body><nav></nav></body></html>", "https://example.org/")


def test_paragraph_text_breaks_on_br_and_around_block_tags_only() -> None:
    element = lxml.html.fragment_fromstring(
        "<div>First <b>line</b><br>second line<p>A   paragraph</p><span>inline</span> tail<li>item</li></div>"
    )
    # text right before a block is its own paragraph, not glued to the block's first word
    assert paragraph_text(cleaned_fragment(element, SiteRules())) == (
        "First line\n\nsecond line\n\nA paragraph\n\ninline tail\n\nitem"
    )


# -- site rules through the rules mechanism ------------------------------------------------------


def test_rthk_rules_give_the_site_body_time_and_title_without_the_suffix() -> None:
    url, html = snapshot_page(RTHK_EN)
    rules = rules_for_url(url)  # as `hkai extract` calls it
    assert rules is RTHK_RULES is get_source("rthk_en").rules
    result = extract_article(html, url, rules=rules)
    assert (result.body_method, result.date_method) == ("site:div.itemFullText", "site:div.createddate")
    assert result.published == datetime(2025, 11, 27, 7, 30, tzinfo=HKT)  # the page's time, not midnight
    assert result.title == "Tai Po fire death toll climbs to 44"
    paragraphs = result.body.split("\n\n")
    assert paragraphs[0].startswith("The death toll in a devastating fire that engulfed seven residential")
    assert len(paragraphs) > 5 and all(p.strip() == p and p for p in paragraphs)


def test_title_suffix_rule_strips_the_site_name_of_a_raw_2018_rthk_page() -> None:
    html = gzip.decompress((FIXTURES / "rthk.html.gz").read_bytes())
    url = "https://news.rthk.hk/rthk/ch/component/k2/1404750-20180702.htm"
    assert extract_article(html, url).title == "香港航空往來沖繩4航班延至今日出發 - RTHK"
    result = extract_article(html, url, rules=RTHK_RULES)
    assert result.title == "香港航空往來沖繩4航班延至今日出發"
    assert result.published == datetime(2018, 7, 2, 12, 58, tzinfo=HKT)


def test_rthk_unwrap_rule_removes_the_font_wrappers_and_keeps_their_text() -> None:
    url, html = snapshot_page(RTHK_ZH)
    body = parse_document(html).cssselect("div.itemFullText")[0]
    assert body.xpath('.//font[@my="my"]')
    unwrapped = cleaned_fragment(body, RTHK_RULES)
    assert not unwrapped.select("font")
    assert _squeeze(unwrapped.get_text()) == _squeeze(cleaned_fragment(body, SiteRules()).get_text())
    result = extract_article(html, url, rules=RTHK_RULES)
    assert result.body.startswith("九龍倉集團宣布，透過「九龍倉緊急支援基金」捐出3千萬元")
    assert result.title == "宏福苑五級火｜九龍倉向受災居民捐款3千萬元"


def test_gia_drop_rule_removes_the_closing_block_with_beautifulsoup() -> None:
    html = gzip.decompress(GIA.read_bytes())
    release = parse_document(html).cssselect("span#pressrelease")[0]
    assert "Issued at HKT" in release.text_content() and "NNNN" in release.text_content()

    cleaned = paragraph_text(cleaned_fragment(release, GIA_RULES))
    assert "Issued at HKT" not in cleaned and "NNNN" not in cleaned and "Ends/" not in cleaned
    kept = paragraph_text(cleaned_fragment(release, SiteRules(body=GIA_RULES.body)))
    assert "Issued at HKT" in kept  # the drop selectors, not the body selector, remove it

    result = extract_article(html, GIA_URL, rules=rules_for_url(GIA_URL))
    assert result.body == cleaned
    assert result.title == "Public hospital daily update on Wuhan-related cases"
    # the date is read from the page, where the closing block is still there
    assert (result.published, result.date_method) == (
        datetime(2020, 1, 7, 17, 12, tzinfo=HKT),
        "site:div.mB15.f15",
    )


def test_ming_pao_drop_rules_remove_ads_video_player_related_links_and_tags() -> None:
    url, html = snapshot_page(MING_PAO_DAILY)
    section = parse_document(html).cssselect("article.txt4")[0]
    furniture = ("GliaStudios", "PausePlay", "Advertisements", "日報新聞-相關報道", "相關字詞")
    assert all(word in section.text_content() for word in furniture)

    result = extract_article(html, url, rules=rules_for_url(url))
    assert result.body_method == "site:article.txt4"
    assert not [word for word in furniture if word in result.body]
    paragraphs = result.body.split("\n\n")
    assert paragraphs[0].startswith("【明報專訊】37歲消防員何偉豪前日在大埔宏福苑五級火殉職。")
    assert paragraphs[-1].startswith("校方表示，昨在早會向學生提及火災及殉職校友")
    assert "稱無法接受 「你係我的驕傲」" in paragraphs  # the cross-heads stay
    assert result.title == "女友發文悼殉職何偉豪：好想再拖你手"
    assert result.published == datetime(2025, 11, 28, tzinfo=HKT)


def test_hk01_payload_reader_gives_the_lead_and_the_text_blocks() -> None:
    url, html = snapshot_page(HK01_LEAD_IN_TEASER)
    result = extract_article(html, url, rules=rules_for_url(url))
    assert result.body_method == "next_data"
    paragraphs = result.body.split("\n\n")
    assert paragraphs[0].startswith("大埔宏福苑發生五級火災，造成多人死傷，一名消防員殉職。")  # the teaser
    assert paragraphs[1].startswith("陳慶勇指，消防處於今午2時51分接報")  # the first text block
    assert "香港01直播截圖" not in result.body  # image captions are not text blocks
    # every paragraph is text the page itself shows in its article section
    shown = _squeeze(parse_document(html).cssselect("article#article-content-section")[0].text_content())
    assert all(_squeeze(p) in shown for p in paragraphs)
    # JSON-LD still comes first for title, date and authors
    assert result.title == "大埔宏福苑大火災｜消防料風吹雜物致火蔓延7座 內部高溫難上樓"
    assert (result.published, result.date_method) == (
        datetime(2025, 11, 26, 21, 31, 44, tzinfo=HKT),
        "jsonld",
    )
    assert result.authors == ["凌逸德"]
    assert extract_article(html, url).body_method == "trafilatura"  # no rules, no payload reader


def test_hk01_payload_reader_reads_summary_blocks() -> None:
    url, html = snapshot_page(HK01_LEAD_IN_SUMMARY_BLOCK)
    payload = hk01_next_data(next_data(parse_document(html)) or {})
    assert payload is not None and payload.body is not None
    assert payload.body.split("\n\n")[1].startswith("位於火炭的大型屋苑穗禾苑，已進行大維修兩年")
    assert "有居民稱，穗禾苑從2023年9月開始搭棚圍執進行外牆大維修" in payload.body
    assert parse_date(payload.published) == datetime(2025, 11, 27, 23, 24, 59, tzinfo=HKT)  # epoch seconds


def test_scmp_payload_reader_agrees_with_the_pages_json_ld() -> None:
    url, html = snapshot_page(SCMP)
    page = Page.parse(html, url, SCMP_RULES)
    assert page.payload == scmp_next_data(next_data(page.doc) or {})
    assert page.payload is not None and page.jsonld is not None
    assert page.payload.title == page.jsonld["headline"]
    assert page.payload.authors == ("SCMP Reporters",)
    assert parse_date(page.payload.published) == parse_date(
        page.jsonld["datePublished"]
    )  # epoch milliseconds
    assert page.payload.body and page.payload.body.startswith("William Li, 40, is one of the survivors")
    assert scmp_next_data({"props": {"pageProps": {}}}) is None


def test_site_rules_are_recorded_as_data_with_readers_by_name() -> None:
    assert HK01_RULES.as_record() == {
        "body": ["article#article-content-section", "div.article-grid__content-section"],
        "title": ["h1#articleTitle"],
        "authors": ["[data-testid=article-author]"],
        "next_data": "spiders.sources.hk01.hk01_next_data",
    }
    record = get_source("rthk_zh").registry_record()
    assert record["rules"]["unwrap"] == ["font[my=my]"]
    json.dumps(record)  # serialisable as it is
