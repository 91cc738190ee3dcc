"""Crawl health: one small rule (a *monitor*) per kind of problem, decided once per crawl.

A crawl that exits 0 can still be broken: no entries, bot walls, parse failures, a sudden drop in
volume. Each monitor looks at the crawl's counters and returns a reason when its problem is
present; a source is *flagged* when any monitor fires. The orchestration calls `assess` once and
the warehouse writes the result as it is (`crawl_runs`), so the rules live only here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# Single article failures happen on every live site (a removed page, a timeout); a source is
# flagged when more than this share of its article requests fail, or when any feed fails.
ERROR_RATE_LIMIT = 0.1
# A crawl whose feeds list fewer than this share of the source's recent average is flagged.
VOLUME_DROP_RATIO = 0.3
# How many earlier crawls with entries the volume check needs before it judges.
VOLUME_HISTORY_MIN = 3


@dataclass
class CrawlHealth:
    """What one crawl of one source did, from Scrapy's stats and the crawl process."""

    source: str
    requests: int = 0
    responses_by_status: dict[str, int] = field(default_factory=dict)
    feed_entries: int = 0
    new_entries: int = 0
    listings: int = 0
    listing_errors: int = 0
    items: int = 0
    skipped_known: int = 0
    article_pages: int = 0
    parse_failures: int = 0
    errors: int = 0
    blocked: int = 0
    paywalled: int = 0
    not_modified: int = 0
    duplicate_items: int = 0
    future_dated: int = 0
    undecodable: int = 0
    invalid_urls: int = 0
    gave_up_pages: int = 0
    duration_s: float = 0.0
    finish_reason: str = ""
    error_reasons: list[str] = field(default_factory=list)
    process_problem: str | None = None
    flagged: bool = False
    flag_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def health_from_stats(source: str, stats: dict[str, Any], listings: int) -> CrawlHealth:
    """Scrapy's stats (including the spiders' `hkai/*` counters) as a health record, not yet judged."""

    def stat(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    return CrawlHealth(
        source=source,
        requests=stat("downloader/request_count"),
        responses_by_status={
            key.rsplit("/", 1)[-1]: int(value)
            for key, value in stats.items()
            if key.startswith("downloader/response_status_count/")
        },
        feed_entries=stat("hkai/feed_entries"),
        new_entries=max(0, stat("hkai/entries_new")),
        listings=listings,
        listing_errors=stat("hkai/listing_errors"),
        items=stat("item_scraped_count"),
        skipped_known=stat("hkai/skipped_known"),
        article_pages=stat("hkai/article_pages"),
        parse_failures=stat("hkai/parse_failures"),
        errors=stat("hkai/errors"),
        blocked=stat("hkai/blocked"),
        paywalled=stat("hkai/paywalled"),
        not_modified=stat("hkai/listing_not_modified"),
        future_dated=stat("hkai/future_dated"),
        undecodable=stat("hkai/undecodable"),
        invalid_urls=stat("hkai/invalid_urls"),
        gave_up_pages=stat("hkai/gave_up_pages"),
        duration_s=float(stats.get("elapsed_time_seconds", 0.0) or 0.0),
        finish_reason=str(stats.get("finish_reason", "")),
        error_reasons=list(stats.get("hkai/error_reasons", [])),
    )


Monitor = Callable[[CrawlHealth, Sequence[int]], str | None]


def crawl_process_failed(health: CrawlHealth, _recent: Sequence[int]) -> str | None:
    """The child process timed out, crashed or wrote no stats."""
    return health.process_problem


def crawl_did_not_finish(health: CrawlHealth, _recent: Sequence[int]) -> str | None:
    if health.process_problem or health.finish_reason in {"finished", "closespider_itemcount"}:
        return None
    return f"crawl ended with {health.finish_reason or 'no finish reason'}"


def bot_walls(health: CrawlHealth, _recent: Sequence[int]) -> str | None:
    return f"{health.blocked} response(s) were bot walls or blocks" if health.blocked else None


def no_entries(health: CrawlHealth, _recent: Sequence[int]) -> str | None:
    """Every feed failed, or the feeds answered with nothing (a changed layout or an empty feed)."""
    if health.process_problem:
        return None
    if health.listings and health.listing_errors >= health.listings:
        return "every feed/listing request failed"
    if health.feed_entries == 0 and health.not_modified == 0:
        return "feeds/listings yielded 0 entries"
    return None


def parse_failures(health: CrawlHealth, _recent: Sequence[int]) -> str | None:
    if health.parse_failures > ERROR_RATE_LIMIT * max(1, health.article_pages):
        return f"{health.parse_failures} parse failure(s) out of {health.article_pages} pages"
    return None


def undecodable_pages(health: CrawlHealth, _recent: Sequence[int]) -> str | None:
    """Pages whose bytes decode to no clean text in any likely charset: never stored as gibberish."""
    if health.undecodable > ERROR_RATE_LIMIT * max(1, health.article_pages + health.items):
        return f"{health.undecodable} undecodable page(s)"
    return None


def some_listings_failed(health: CrawlHealth, _recent: Sequence[int]) -> str | None:
    if health.listing_errors and health.listing_errors < health.listings:
        return f"{health.listing_errors} of {health.listings} feed/listing request(s) failed"
    return None


def article_errors(health: CrawlHealth, _recent: Sequence[int]) -> str | None:
    item_errors = health.errors - health.listing_errors
    pages = health.article_pages + health.items
    if item_errors and item_errors > ERROR_RATE_LIMIT * max(1, pages):
        return f"{item_errors} article error(s) out of {pages}"
    return None


def entries_without_items(health: CrawlHealth, _recent: Sequence[int]) -> str | None:
    """New entries were listed but none became an item: the article parser is broken."""
    if health.new_entries and health.items == 0:
        return f"{health.new_entries} new entries but 0 items"
    return None


def volume_drop(health: CrawlHealth, recent: Sequence[int]) -> str | None:
    """Far fewer entries than the source's recent crawls (a partial feed or a silent block)."""
    if len(recent) < VOLUME_HISTORY_MIN or health.not_modified or health.process_problem:
        return None
    average = sum(recent) / len(recent)
    if health.feed_entries < VOLUME_DROP_RATIO * average:
        return f"volume drop: {health.feed_entries} entries vs recent average {average:.0f}"
    return None


MONITORS: tuple[Monitor, ...] = (
    crawl_process_failed,
    crawl_did_not_finish,
    bot_walls,
    no_entries,
    parse_failures,
    undecodable_pages,
    some_listings_failed,
    article_errors,
    entries_without_items,
    volume_drop,
)


def assess(health: CrawlHealth, recent_feed_entries: Sequence[int] = ()) -> CrawlHealth:
    """Run every monitor and set `flagged` / `flag_reason`; `recent_feed_entries` are earlier crawls'."""
    reasons = [reason for monitor in MONITORS if (reason := monitor(health, recent_feed_entries))]
    health.flagged = bool(reasons)
    health.flag_reason = "; ".join(reasons) or None
    return health
