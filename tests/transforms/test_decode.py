"""Decoding (transforms/decode.py) on real pages: as served, re-encoded and mislabelled, and through the
crawler's and `hkai extract`'s paths.

No real Big5 or GB18030 page exists in tests/fixtures or ../shared/fixtures (every saved Hong Kong page there
is UTF-8; see `test_every_saved_page_is_utf8_and_decodes_as_declared`), so the legacy-encoding cases are real
pages re-encoded: the text of an RTHK and an HK01 page (Traditional Chinese, with Hong Kong characters such
as 哋 that only Big5-HKSCS has) written out in Big5-HKSCS or GB18030 and labelled wrongly the ways sites do.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request

from tests.paths import FIXTURES, SHARED
from transforms.decode import Decoded, declared_charset, decode_html, header_charset
from transforms.extract import UndecodablePage, extract_article

REGRESSION = FIXTURES / "regression"
RTHK_ZH = REGRESSION / "rthk_zh" / "15831b4c3648.html.gz"  # 宏福苑五級火｜有居民仍未能聯絡親人…
HK01 = REGRESSION / "hk01_tech" / "226f41289e42.html.gz"  # 殉職消防員何偉豪同袍發文悼念…
STANDARD_2018 = (
    REGRESSION / "the_standard" / "page-2018-08-01-111401.html.gz"
)  # declares iso-8859-1, is UTF-8
RTHK_TITLE = "宏福苑五級火｜有居民仍未能聯絡親人"
# what Big5 bytes look like read as Latin-1: the mojibake the crawler must never store
LATIN1_GIBBERISH = re.compile(r"[\u00a4\u00b6\u00ba\u00bc\u00c6\u00e6]{2}|¤")


def _page(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def _relabel(text: str, charset: str) -> str:
    """The page with its own <meta> charset declaration changed."""
    return re.sub(r"charset=[\"']?utf-8", f"charset={charset}", text, flags=re.IGNORECASE)


def _reencoded(path: Path, codec: str, meta: str) -> bytes:
    """A real page written out in `codec`, declaring `meta`; characters the codec lacks become references."""
    return _relabel(_page(path), meta).encode(codec, errors="xmlcharrefreplace")


# -- the order: BOM, HTTP header, <meta>, detection ----------------------------------------------


def test_declarations_are_read_from_the_header_and_the_page() -> None:
    assert header_charset(b"text/html; charset=Big5") == "Big5"
    assert header_charset("text/html") is None
    assert declared_charset(b'<html><head><meta charset="gb2312"></head>') == "gb2312"
    assert declared_charset(b'<?xml version="1.0" encoding="ISO-8859-1"?><rss/>') == "ISO-8859-1"
    # a rendered page puts its <meta> after 80 KB of inline scripts: still found
    assert declared_charset(gzip.decompress(RTHK_ZH.read_bytes())) == "utf-8"


def test_a_real_page_decodes_as_its_page_declares() -> None:
    decoded = decode_html(gzip.decompress(RTHK_ZH.read_bytes()))
    assert (decoded.encoding, decoded.source, decoded.clean) == ("utf-8", "meta", True)
    assert RTHK_TITLE in decoded.text


def test_byte_order_mark_comes_before_the_header() -> None:
    body = b"\xef\xbb\xbf" + gzip.decompress(RTHK_ZH.read_bytes())
    decoded = decode_html(body, "text/html; charset=iso-8859-1")
    assert (decoded.encoding, decoded.source) == ("utf-8", "bom")
    assert RTHK_TITLE in decoded.text and not decoded.text.startswith("\ufeff")


def test_header_charset_comes_before_the_page_declaration() -> None:
    body = _reencoded(RTHK_ZH, "big5hkscs", "utf-8")  # the page still claims UTF-8
    decoded = decode_html(body, "text/html; charset=big5")
    assert (decoded.encoding, decoded.source) == ("big5hkscs", "http")
    assert RTHK_TITLE in decoded.text


# -- mislabelled pages: the mojibake check ---------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "header", "meta", "expected"),
    [
        # a Big5 page labelled iso-8859-1: read as Latin-1 it is "¤j®H§»ºÖ­b"
        ("big5hkscs", "text/html; charset=iso-8859-1", "iso-8859-1", "big5hkscs"),
        ("big5hkscs", None, "iso-8859-1", "big5hkscs"),
        # a GB18030 page labelled latin1
        ("gb18030", "text/html; charset=latin1", "latin1", "gb18030"),
        # a Big5 page labelled GB2312: decodes, but to a jumble of rare ideographs
        ("big5hkscs", "text/html; charset=gb2312", "gb2312", "big5hkscs"),
        # a Big5 page labelled UTF-8
        ("big5hkscs", "text/html; charset=utf-8", "utf-8", "big5hkscs"),
        # a UTF-8 page labelled Big5
        ("utf-8", "text/html; charset=big5", "big5", "utf-8"),
        # no label at all
        ("big5hkscs", None, "x-unknown", "big5hkscs"),
    ],
)
def test_mislabelled_real_page_is_read_in_the_encoding_that_gives_clean_text(
    codec: str, header: str | None, meta: str, expected: str
) -> None:
    for path, words in ((RTHK_ZH, RTHK_TITLE), (HK01, "感激你為我哋負（付）出所有")):
        decoded = decode_html(_reencoded(path, codec, meta), header)
        assert decoded.clean and decoded.encoding == expected, decoded.note
        assert words in decoded.text
        assert not LATIN1_GIBBERISH.search(decoded.text[:20000])
        if expected != "utf-8" or header:
            assert decoded.source == "detected" or decoded.encoding == expected


def test_hong_kong_characters_need_big5_hkscs_not_plain_big5() -> None:
    body = _reencoded(HK01, "big5hkscs", "big5")
    with pytest.raises(UnicodeDecodeError):
        body.decode("big5")  # 哋 (Cantonese "we") is not in plain Big5
    decoded = decode_html(body)
    assert decoded.encoding == "big5hkscs" and "感激你為我哋負（付）出所有" in decoded.text


def test_real_page_declaring_latin1_but_serving_utf8_is_read_as_utf8() -> None:
    """The Standard's 2018 page (raw server HTML) says iso-8859-1; its bytes are UTF-8."""
    raw = gzip.decompress(STANDARD_2018.read_bytes())
    assert declared_charset(raw) == "iso-8859-1"
    decoded = decode_html(raw, "text/html; charset=iso-8859-1")
    assert (decoded.encoding, decoded.clean) == ("utf-8", True)
    assert "the bytes are UTF-8" in decoded.note
    assert "â€" not in decoded.text  # what UTF-8 quotes look like read as windows-1252


def test_utf8_cut_mid_character_is_still_read() -> None:
    raw = gzip.decompress(RTHK_ZH.read_bytes())
    cut = raw.index(RTHK_TITLE.encode()) + 1  # inside the first character's three bytes
    decoded = decode_html(raw[:cut] + raw[cut + 1 :])
    assert decoded.clean and decoded.encoding == "utf-8" and "invalid UTF-8" in decoded.note


def test_bytes_that_read_clean_in_no_encoding_are_not_clean() -> None:
    noise = bytes(range(0x80, 0x100)) * 200
    decoded = decode_html(b"<html><body><p>" + noise + b"</p></body></html>", "text/html; charset=big5")
    assert isinstance(decoded, Decoded) and not decoded.clean
    assert "no encoding gives clean text" in decoded.note
    with pytest.raises(UndecodablePage):
        extract_article(b"<html><body><p>" + noise + b"</p></body></html>", "https://example.org/a")


# -- the two users: the crawler and `hkai extract` ----------------------------------------------


def _spider_items(body: bytes, headers: dict[str, str] | None = None) -> tuple[list[Any], dict[str, Any]]:
    from tests.spiders.test_sources import _spider

    spider = _spider("rthk_zh")
    url = "https://news.rthk.hk/rthk/ch/component/k2/1833520-20251127.htm"
    response = HtmlResponse(url=url, body=body, headers=headers or {}, request=Request(url))
    items = list(spider.parse_article(response, entry={}))
    return items, spider.crawler.stats.get_stats()


def test_crawler_reads_a_mislabelled_big5_page_and_stores_clean_text() -> None:
    body = _reencoded(RTHK_ZH, "big5hkscs", "iso-8859-1")
    items, stats = _spider_items(body, {"Content-Type": "text/html; charset=iso-8859-1"})
    assert len(items) == 1 and "hkai/undecodable" not in stats
    assert items[0]["title"].startswith(RTHK_TITLE)
    assert items[0]["body"].startswith("大埔宏福苑五級火死亡人數增至44人")
    assert not LATIN1_GIBBERISH.search(items[0]["title"] + items[0]["body"])


def test_crawler_counts_an_undecodable_page_and_stores_nothing() -> None:
    noise = bytes(range(0x80, 0x100)) * 200
    items, stats = _spider_items(b"<html><body><p>" + noise + b"</p></body></html>")
    assert items == []
    assert stats["hkai/undecodable"] == 1


def test_hkai_extract_decodes_file_bytes_the_same_way(tmp_path: Path) -> None:
    from hkai.cli import main

    big5 = tmp_path / "big5.html"
    big5.write_bytes(_reencoded(RTHK_ZH, "big5hkscs", "iso-8859-1"))
    noise = tmp_path / "noise.html"
    noise.write_bytes(b"<html><body><p>" + bytes(range(0x80, 0x100)) * 200 + b"</p></body></html>")
    records = tmp_path / "in.jsonl"
    url = "https://news.rthk.hk/rthk/ch/component/k2/1833520-20251127.htm"
    records.write_text(
        "\n".join(
            json.dumps({"id": name, "url": url, "html_path": str(path)})
            for name, path in (("big5", big5), ("noise", noise))
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    assert main(["extract", str(records), "-o", str(out)]) == 0
    rows = {row["id"]: row for row in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert rows["big5"]["encoding"] == "big5hkscs" and rows["big5"]["title"].startswith(RTHK_TITLE)
    assert rows["noise"]["body"] is None and "undecodable" in rows["noise"]["error"]


# -- every real saved page -----------------------------------------------------------------------


def _saved_pages() -> list[Path]:
    roots = [
        REGRESSION,
        FIXTURES / "sources",
        SHARED / "fixtures" / "pages",
        SHARED / "fixtures" / "raw-2019",
    ]
    return sorted(p for root in roots if root.exists() for p in root.rglob("*.gz") if "xml" not in p.name)


def test_every_saved_page_is_utf8_and_decodes_as_declared() -> None:
    """The real saved pages: all UTF-8 (no real Big5 page exists in the fixtures), all clean, none read in
    a legacy encoding; the two of The Standard that declare iso-8859-1 are read as the UTF-8 they are."""
    pages = _saved_pages()
    assert len(pages) >= 69
    for path in pages:
        decoded = decode_html(gzip.decompress(path.read_bytes()))
        assert decoded.clean and decoded.encoding == "utf-8", (path, decoded.note)
