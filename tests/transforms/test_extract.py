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
    # the page's own headline, with the full-width space the outlet wrote; JSON-LD first for date and authors
    assert result.title == "大埔宏福苑大火災｜消防料風吹雜物致火蔓延7座\u3000內部高溫難上樓"
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
        "title_suffixes": ["｜香港01", "| 香港01", " | 香港01"],
        "next_data": "spiders.sources.hk01.hk01_next_data",
        "drop_paragraphs": ["^[▼↓⬇]+.*[▼↓⬇]+$"],
        "prefer_page_title": True,
    }
    record = get_source("rthk_zh").registry_record()
    assert record["rules"]["unwrap"] == ["font[my=my]"]
    json.dumps(record)  # serialisable as it is


# -- trustworthy text: site rules on the regression corpus, generic clean-up, clean order ---------------

REGRESSION = FIXTURES / "regression"


def regression_page(file: str) -> tuple[str, str]:
    entry = next(
        json.loads(line)
        for line in (REGRESSION / "MANIFEST.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line)["file"] == file
    )
    return entry["url"], gzip.decompress((REGRESSION / file).read_bytes()).decode("utf-8")


MING_PAO_INSTANT = "mingpao/2216c18e5b33.html.gz"  # "… 被押至新蒲崗元朗馬鞍山調查 (15:34)"
MING_PAO_PLAYER = ("GliaStudios", "NEXT VIDEO", "PausePlay", "UnmuteMute", "Advertisements", "CANCEL")


def test_ming_pao_instant_title_loses_its_clock_which_gives_the_time() -> None:
    url, html = regression_page(MING_PAO_INSTANT)
    assert "(15:34)" in parse_document(html).cssselect("hgroup h1")[0].text_content()
    result = extract_article(html, url, rules=rules_for_url(url))
    assert result.title == "大埔宏福苑五級火｜3男涉誤殺被捕\u3000被押至新蒲崗元朗馬鞍山調查"
    assert result.published == datetime(2025, 11, 27, 15, 34, tzinfo=HKT)
    assert result.date_method == "site:div[itemprop=datePublished]+title-clock"


def _moved_player(html: str, how: str) -> str:
    """The page with its video player taken out of the ad slot it sits in, as other pages serve it."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for aside in soup.select("aside.mpadsaside"):
        aside.unwrap()  # the player now sits straight in the article text
    if how in {"paragraph", "renamed"}:
        for player in soup.select("[class*=gliaplayer]"):
            player.name = "p"  # inside a plain paragraph
            if how == "renamed":  # and with markup no selector knows: only its text gives it away
                player["class"] = ["x-video"]
                for node in player.find_all(True):
                    node.attrs = {}
    return str(soup)


@pytest.mark.parametrize("how", ["unwrapped", "paragraph", "renamed"])
def test_ming_pao_player_furniture_goes_whatever_wrapper_it_sits_in(how: str) -> None:
    url, html = regression_page(MING_PAO_INSTANT)
    moved = _moved_player(html, how)
    assert all(
        word in parse_document(moved).cssselect("article.txt4")[0].text_content() for word in ("GliaStudios",)
    )
    result = extract_article(moved, url, rules=rules_for_url(url))
    assert not [word for word in MING_PAO_PLAYER if word in result.body], result.body[:400]
    assert result.body.startswith("警方今日（27日）就大埔一宗五級火警拘捕3名男子")
    assert "相關字詞" not in result.body


def test_ming_pao_daily_related_reports_end_the_body_even_without_their_wrapper() -> None:
    url, html = regression_page("mingpao/0a8fb46c478d.html.gz")
    stripped = html.replace('id="pnsautornews"', 'id="x"')
    result = extract_article(stripped, url, rules=rules_for_url(url))
    assert "日報新聞-相關報道" not in result.body and "(2025-11-28)" not in result.body
    assert result.body.endswith("查詢電話2851 3822。")
    assert result.published == datetime(2025, 11, 28, tzinfo=HKT)  # the daily paper gives the date only


def test_hkej_placeholder_clock_gives_way_to_the_pages_own_time() -> None:
    url, html = regression_page("hkej/5760ccd870c3.html.gz")  # JSON-LD 05:00, page "昨日 15:32"
    result = extract_article(html, url, rules=rules_for_url(url))
    assert (result.published, result.date_method) == (
        datetime(2025, 11, 28, 15, 32, tzinfo=HKT),
        "jsonld+site-clock",
    )
    url, html = regression_page("hkej/083a843ca9ee.html.gz")  # the page gives the date only
    assert (
        extract_article(html, url, rules=rules_for_url(url)).published.date() == datetime(2025, 11, 27).date()
    )


def test_scmp_headline_label_in_json_ld_is_left_out() -> None:
    url, html = regression_page("scmp_tech/4f3638e35b95.html.gz")
    headline = "Contractor was warned over risks a week before deadly fire hit Hong Kong estate"
    # the label is in JSON-LD only (the first occurrence; the Next.js payload and the page keep the headline)
    labelled = html.replace(f'"headline":"{headline}"', f'"headline":"Exclusive | {headline}"', 1)
    assert jsonld_article(parse_document(labelled))["headline"].startswith("Exclusive | ")
    assert extract_article(labelled, url, rules=SCMP_RULES).title == headline
    assert extract_article(labelled, url).title == f"Exclusive | {headline}"  # without the rule: JSON-LD


def test_full_width_space_in_a_title_is_kept_as_written() -> None:
    url, html = regression_page("rthk_zh/15831b4c3648.html.gz")
    assert extract_article(html, url, rules=RTHK_RULES).title == (
        "宏福苑五級火｜有居民仍未能聯絡親人\u3000多名巿民自發協助整理物資"
    )


def test_escaped_markup_in_a_title_is_removed_not_stored_as_a_tag() -> None:
    from bs4 import BeautifulSoup

    url, html = regression_page("rthk_zh/15831b4c3648.html.gz")
    soup = BeautifulSoup(html, "lxml")
    # the page source now reads "&lt;script&gt;…&amp;amp;…": escaped markup, as double-escaping feeds send
    soup.select_one("h2.itemTitle").string = "<script>alert(1)</script>AI &amp; <b>HK</b>"
    page = str(soup)
    assert "&lt;script&gt;" in page
    title = extract_article(page, url, rules=RTHK_RULES).title
    assert title == "AI & HK"


def test_clean_text_and_title_unescape_then_strip() -> None:
    from transforms.text import clean_text, clean_title

    assert clean_title("&lt;script&gt;x()&lt;/script&gt;Headline") == "Headline"  # the script goes whole
    assert clean_title("<b>Bold</b> &amp;lt;i&amp;gt;news&amp;lt;/i&amp;gt;") == "Bold news"
    assert clean_title("人工智能\u3000新政策") == "人工智能\u3000新政策"
    assert clean_text("<p>first</p><p>second &lt;br&gt; line</p>") == "first\n\nsecond\nline"
    assert clean_text("<style>p{}</style><script>var a=1</script>text") == "text"
    assert clean_text("x < 5 and y > 2 &amp; z") == "x < 5 and y > 2 & z"


def test_bot_check_interstitial_is_not_an_article() -> None:
    html = gzip.decompress((FIXTURES / "inmedia-cloudflare-challenge.html.gz").read_bytes())
    with pytest.raises(ExtractionError, match="interstitial"):
        extract_article(html, "https://www.inmediahk.net/node/1")


def test_generic_text_drops_a_repeated_headline_and_follows_the_body_past_an_ad_slot() -> None:
    sentence = "The council met on Tuesday to discuss the new artificial intelligence rules for banks. "
    html = (
        "<html><head><title>AI rules for banks | Example News</title>"
        '<meta property="og:title" content="AI rules for banks"></head><body>'
        "<header><nav><a href='/'>Home</a></nav></header><article><h1>AI rules for banks</h1>"
        '<div class="grid"><div class="body-part">'
        + "".join(f"<p>{sentence}Part one, paragraph {n}.</p>" for n in range(6))
        + '</div></div><div class="ad-slot">Advertisement</div><div class="grid"><div class="body-part">'
        + "".join(f"<p>{sentence}Part two, paragraph {n}.</p>" for n in range(3))
        + "</div></div></article><footer>About us</footer></body></html>"
    )
    body = extract_article(html, "https://example.org/news/ai-rules").body
    assert not body.startswith("AI rules for banks")
    assert "Part one, paragraph 0." in body and body.rstrip().endswith("Part two, paragraph 2.")
