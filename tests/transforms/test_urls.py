"""Canonical URLs: one article is one key whatever tracking parameters, fragments or spellings a feed adds."""

from __future__ import annotations

import json
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest

from tests.paths import FIXTURES, SNAPSHOT
from transforms.urls import canonical_url

# Real article URLs of the saved pages in the repository: the replay snapshot and the per-source fixtures.
REAL_URLS = [
    json.loads(line)["url"]
    for manifest in (SNAPSHOT / "manifest.jsonl", FIXTURES / "sources" / "MANIFEST.jsonl")
    for line in manifest.read_text(encoding="utf-8").splitlines()
    if line.strip() and json.loads(line)["kind"] == "page"
]


def _spellings(url: str) -> list[str]:
    """Other ways a feed or a share link spells the same page."""
    parts = urlsplit(url)
    tracked = f"{url}{'&' if parts.query else '?'}utm_source=rss&utm_medium=feed&fbclid=IwAR0"
    return [
        url.replace("https://", "http://", 1)
        if url.startswith("https://")
        else url.replace("http://", "https://", 1),
        urlunsplit((parts.scheme.upper(), parts.netloc.upper(), parts.path, parts.query, "")),
        tracked,
        f"{url}#comments",
        urlunsplit((parts.scheme, parts.netloc, unquote(parts.path), parts.query, "")),
        f"  {url}\n",
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # utm_* in any case, and the known trackers; real parameters stay
        (
            "https://www.scmp.com/tech/article/3334575/slug?utm_source=rss_feed&UTM_Medium=x&fbclid=abc",
            "https://www.scmp.com/tech/article/3334575/slug",
        ),
        (
            "https://news.now.com/home/local/player?newsId=627464&fbclid=IwAR0&gclid=1",
            "https://news.now.com/home/local/player?newsId=627464",
        ),
        (
            "https://hongkongfp.com/2025/01/02/x/?mc_cid=1&mc_eid=2&ref=home&share=twitter",
            "https://hongkongfp.com/2025/01/02/x/",
        ),
        # RTHK's archive links carry the day as a parameter
        (
            "https://news.rthk.hk/rthk/en/component/k2/1833502-20251127.htm?archive_date=2025-11-27",
            "https://news.rthk.hk/rthk/en/component/k2/1833502-20251127.htm",
        ),
        # the remaining query is sorted, so parameter order does not matter
        (
            "https://www.thestandard.com.hk/breaking-news.php?sid=4&id=111401&story_id=111401&d_str=20180801",
            "https://www.thestandard.com.hk/breaking-news.php?d_str=20180801&id=111401&sid=4&story_id=111401",
        ),
    ],
)
def test_tracking_parameters_are_dropped_and_the_rest_sorted(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_fragment_is_dropped() -> None:
    assert (
        canonical_url("https://www.scmp.com/news/article/1/slug#comments")
        == "https://www.scmp.com/news/article/1/slug"
    )
    assert (
        canonical_url("https://www.scmp.com/news/article/1/slug?utm_source=x#")
        == "https://www.scmp.com/news/article/1/slug"
    )


def test_scheme_and_host_are_lower_cased_and_https_but_the_path_keeps_its_case() -> None:
    assert canonical_url("HTTP://WWW.SCMP.COM/News/Hong-Kong/article/1/Slug") == (
        "https://www.scmp.com/News/Hong-Kong/article/1/Slug"
    )
    assert canonical_url("//www.scmp.com/tech") == "https://www.scmp.com/tech"
    assert canonical_url("ftp://Example.org/A") == "ftp://example.org/A"


def test_trailing_slash_is_kept_and_an_empty_path_is_the_root() -> None:
    # /tech/ and /tech may be different resources to a server: the key keeps what the link said
    assert canonical_url("https://www.scmp.com/tech/") == "https://www.scmp.com/tech/"
    assert canonical_url("https://www.scmp.com/tech") == "https://www.scmp.com/tech"
    assert (
        canonical_url("https://www.scmp.com")
        == canonical_url("https://www.scmp.com/")
        == "https://www.scmp.com/"
    )


def test_default_ports_credentials_and_spaces_around_are_dropped() -> None:
    assert canonical_url("  https://example.org:443/a \n") == "https://example.org/a"
    assert canonical_url("http://example.org:80/a") == "https://example.org/a"
    assert canonical_url("https://example.org:8080/a") == "https://example.org:8080/a"
    assert canonical_url("https://user:secret@example.org/a") == "https://example.org/a"


def test_rthk_mirror_host_is_the_news_host() -> None:
    assert canonical_url("http://rthk9.rthk.hk/rthk/ch/component/k2/1833638-20251127.htm") == (
        "https://news.rthk.hk/rthk/ch/component/k2/1833638-20251127.htm"
    )


def test_chinese_paths_compare_equal_raw_or_encoded_in_either_hex_case() -> None:
    # Ming Pao links use lower-case percent escapes, HK01 links raw Chinese
    lower = "https://news.mingpao.com/ins/%e6%b8%af%e8%81%9e/article/20251127/s00001/1764217092926"
    upper = "https://news.mingpao.com/ins/%E6%B8%AF%E8%81%9E/article/20251127/s00001/1764217092926"
    raw = "https://news.mingpao.com/ins/港聞/article/20251127/s00001/1764217092926"
    assert canonical_url(lower) == canonical_url(upper) == canonical_url(raw) == upper
    assert canonical_url("https://www.hk01.com/突發/60297978/x") == (
        "https://www.hk01.com/%E7%AA%81%E7%99%BC/60297978/x"
    )


def test_an_encoded_slash_stays_inside_its_segment() -> None:
    assert canonical_url("https://example.org/a%2Fb/c") == "https://example.org/a%2Fb/c"
    assert canonical_url("https://example.org/a%2fb/c") == "https://example.org/a%2Fb/c"
    assert canonical_url("https://example.org/a%2Fb/c") != canonical_url("https://example.org/a/b/c")


def test_query_values_keep_their_meaning() -> None:
    assert canonical_url("https://example.org/s?q=a+b&x=%2F") == "https://example.org/s?q=a+b&x=%2F"
    assert canonical_url("https://example.org/s?q=a%20b") == canonical_url("https://example.org/s?q=a+b")


def test_real_saved_urls_get_one_stable_key_per_page_whatever_the_spelling() -> None:
    assert len(REAL_URLS) == len(set(REAL_URLS)) == 33  # 28 snapshot pages and 5 fixture pages
    keys = [canonical_url(url) for url in REAL_URLS]
    assert len(set(keys)) == len(REAL_URLS)  # different pages never share a key
    for url, key in zip(REAL_URLS, keys, strict=True):
        assert canonical_url(key) == key, url  # idempotent
        assert key.startswith("https://") and "#" not in key and "archive_date" not in key
        assert key.isascii() and " " not in key, key
        for spelling in _spellings(url):
            assert canonical_url(spelling) == key, spelling
