"""The words around a story (digest/prose.py)."""

from __future__ import annotations

from datetime import datetime

from digest.prose import extract, outlet_name, published_label, why


def test_why_names_entities_sectors_reach_and_relevance() -> None:
    assert why(["A", "B", "C", "D", "E"], ["media", "finance"], 0.876) == (
        "entities: A, B, C, D; sectors: finance, media; relevance 0.88"
    )
    assert why([], [], 0.5, story_articles=3, story_outlets=2, first_reported_by="RTHK English news") == (
        "3 articles from 2 outlet(s), first reported by RTHK English news; relevance 0.50"
    )
    assert why([], [], 1.0, story_articles=1, story_outlets=1, first_reported_by="x") == "relevance 1.00"


def test_extract_cuts_at_a_sentence_end() -> None:
    assert extract("  short\n text ") == "short text"
    first = "The first sentence runs on for long enough to pass a third of the limit, " + "so it is kept."
    assert extract(first + " " + "word " * 80) == first
    assert extract("Too short. " + "word " * 80).endswith("word…")  # a sentence end too early is ignored
    assert extract("x" * 300).endswith("…") and len(extract("x" * 300)) == 241
    assert extract("香港推出人工智能計劃。" * 30).endswith("。")


def test_outlet_and_time_labels() -> None:
    assert outlet_name("RTHK English news (local, finance): AI") == "RTHK English news"
    assert published_label(datetime(2025, 11, 25, 1, 0)) == "Tue 25 Nov 09:00 HKT"  # stored as naive UTC
    assert published_label(None) == ""


def test_a_crawl_flag_reads_as_one_line_without_its_log_tail() -> None:
    from digest.prose import health_reason

    crashed = (
        'crawl process failed (exit 1): Traceback (most recent call last):\n  File "/opt/x.py"\nKeyError: k'
    )
    assert health_reason(crashed) == "crawl process failed (exit 1)"
    assert health_reason("feeds/listings yielded 0 entries; 3 response(s) were bot walls or blocks") == (
        "feeds/listings yielded 0 entries; 3 response(s) were bot walls or blocks"
    )
    assert health_reason("first line\nsecond line") == "first line"
    assert health_reason(None) == "" and len(health_reason("x" * 500)) == 160


def test_the_words_in_traditional_chinese() -> None:
    assert why(["A", "B"], ["finance", "healthcare"], 0.5, language="zh-Hant") == (
        "機構及人物：A、B；行業：金融、醫療；相關度 0.50"
    )
    assert published_label(datetime(2025, 11, 25, 1, 0), "zh-Hant") == "11月25日（二）09:00 香港時間"
