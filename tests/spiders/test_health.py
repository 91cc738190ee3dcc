"""Crawl-health monitors: each problem is recognised by its own rule, and a clean crawl is not flagged."""

from __future__ import annotations

from typing import Any

import pytest

from spiders.health import CrawlHealth, assess, health_from_stats

# Shaped like a real Scrapy stats dump of one replayed RTHK crawl (`<source>.stats.json`).
CLEAN_STATS: dict[str, Any] = {
    "downloader/request_count": 14,
    "downloader/response_status_count/200": 13,
    "downloader/response_status_count/304": 1,
    "hkai/feed_entries": 40,
    "hkai/entries_new": 12,
    "item_scraped_count": 12,
    "hkai/skipped_known": 28,
    "hkai/article_pages": 12,
    "elapsed_time_seconds": 3.5,
    "finish_reason": "finished",
    "hkai/error_reasons": [],
}


def judged(stats: dict[str, Any], listings: int = 2, recent: tuple[int, ...] = ()) -> CrawlHealth:
    return assess(health_from_stats("rthk_en", stats, listings), recent)


def test_health_from_stats_reads_scrapy_and_spider_counters() -> None:
    health = health_from_stats("rthk_en", CLEAN_STATS, listings=2)
    assert health.requests == 14
    assert health.responses_by_status == {"200": 13, "304": 1}
    assert (health.feed_entries, health.new_entries, health.items, health.skipped_known) == (40, 12, 12, 28)
    assert health.duration_s == 3.5 and health.finish_reason == "finished"
    assert health.flagged is False and health.flag_reason is None  # not judged yet


def test_clean_crawl_is_not_flagged() -> None:
    health = judged(CLEAN_STATS, recent=(38, 41, 40))
    assert health.flagged is False and health.flag_reason is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"finish_reason": "closespider_timeout"}, "crawl ended with closespider_timeout"),
        ({"hkai/blocked": 2}, "2 response(s) were bot walls or blocks"),
        ({"hkai/listing_errors": 2, "hkai/errors": 2}, "every feed/listing request failed"),
        ({"hkai/feed_entries": 0, "hkai/entries_new": 0, "item_scraped_count": 0}, "0 entries"),
        ({"hkai/parse_failures": 3}, "3 parse failure(s) out of 12 pages"),
        ({"hkai/listing_errors": 1, "hkai/errors": 1}, "1 of 2 feed/listing request(s) failed"),
        ({"hkai/errors": 5}, "5 article error(s) out of 24"),
        ({"item_scraped_count": 0}, "12 new entries but 0 items"),
    ],
)
def test_each_problem_has_its_own_rule(changes: dict[str, Any], reason: str) -> None:
    health = judged({**CLEAN_STATS, **changes})
    assert health.flagged is True
    assert reason in (health.flag_reason or "")


def test_one_failed_article_in_many_is_tolerated() -> None:
    assert judged({**CLEAN_STATS, "hkai/errors": 1}).flagged is False


def test_volume_drop_needs_history_and_ignores_unchanged_feeds() -> None:
    few = {**CLEAN_STATS, "hkai/feed_entries": 5}
    assert "volume drop: 5 entries vs recent average 40" in (
        judged(few, recent=(40, 40, 40)).flag_reason or ""
    )
    assert judged(few, recent=(40, 40)).flagged is False  # too little history to judge
    unchanged = {**few, "hkai/listing_not_modified": 2}
    assert judged(unchanged, recent=(40, 40, 40)).flagged is False  # a 304 lists nothing new


def test_a_hung_or_crashed_crawl_is_flagged_with_its_cause_only() -> None:
    health = CrawlHealth(source="rthk_en", listings=2, process_problem="crawl process timed out after 5 s")
    assess(health)
    assert health.flagged is True
    assert health.flag_reason == "crawl process timed out after 5 s"
