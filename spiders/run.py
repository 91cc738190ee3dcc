"""Run one source's crawl in its own process and summarise its health.

Twisted's reactor cannot restart, and `airflow dags test` runs every task in one process, so each
crawl runs as `python -m spiders.run SOURCE ...` in a child process. The child writes the items
(`<source>.jsonl`) and the crawler stats (`<source>.stats.json`); the parent reads them. A crawl
that exits 0 with no entries, only errors or a block page is *flagged*, never a silent success.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from config.settings import REPO_ROOT, child_environment, get_settings

# Single article failures happen on every live site (a removed page, a timeout); a source is
# flagged when more than this share of its article requests fail, or when any feed fails.
ERROR_RATE_LIMIT = 0.1


@dataclass
class CrawlHealth:
    source: str
    requests: int = 0
    responses_by_status: dict[str, int] = field(default_factory=dict)
    feed_entries: int = 0
    items: int = 0
    skipped_known: int = 0
    article_pages: int = 0
    parse_failures: int = 0
    errors: int = 0
    blocked: int = 0
    paywalled: int = 0
    not_modified: int = 0
    duration_s: float = 0.0
    finish_reason: str = ""
    error_reasons: list[str] = field(default_factory=list)
    validators: dict[str, dict[str, str]] = field(default_factory=dict)
    flagged: bool = False
    flag_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def health_from_stats(source: str, stats: dict[str, Any], listings: int) -> CrawlHealth:
    """Turn Scrapy stats into the health record, and decide whether the source is flagged."""

    def stat(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    statuses = {
        key.rsplit("/", 1)[-1]: int(value)
        for key, value in stats.items()
        if key.startswith("downloader/response_status_count/")
    }
    health = CrawlHealth(
        source=source,
        requests=stat("downloader/request_count"),
        responses_by_status=statuses,
        feed_entries=stat("hkai/feed_entries"),
        items=stat("item_scraped_count"),
        skipped_known=stat("hkai/skipped_known"),
        article_pages=stat("hkai/article_pages"),
        parse_failures=stat("hkai/parse_failures"),
        errors=stat("hkai/errors"),
        blocked=stat("hkai/blocked"),
        paywalled=stat("hkai/paywalled"),
        not_modified=stat("hkai/listing_not_modified"),
        duration_s=float(stats.get("elapsed_time_seconds", 0.0) or 0.0),
        finish_reason=str(stats.get("finish_reason", "")),
        error_reasons=list(stats.get("hkai/error_reasons", [])),
        validators=dict(stats.get("hkai/validators", {})),
    )
    reasons: list[str] = []
    listing_errors = stat("hkai/listing_errors")
    if health.finish_reason not in {"finished", "closespider_itemcount"}:
        reasons.append(f"crawl ended with {health.finish_reason or 'no finish reason'}")
    if health.blocked:
        reasons.append(f"{health.blocked} response(s) were bot walls or blocks")
    if listings and listing_errors >= listings:
        reasons.append("every feed/listing request failed")
    elif health.feed_entries == 0 and health.not_modified == 0:
        reasons.append("feeds/listings yielded 0 entries")
    if health.parse_failures > ERROR_RATE_LIMIT * max(1, health.article_pages):
        reasons.append(f"{health.parse_failures} parse failure(s) out of {health.article_pages} pages")
    item_errors = health.errors - listing_errors
    if listing_errors and listing_errors < listings:
        reasons.append(f"{listing_errors} of {listings} feed/listing request(s) failed")
    if item_errors and item_errors > ERROR_RATE_LIMIT * max(1, health.article_pages + health.items):
        reasons.append(f"{item_errors} article error(s) out of {health.article_pages + health.items}")
    new_entries = max(0, stat("hkai/entries_new"))
    if new_entries and health.items == 0:
        reasons.append(f"{new_entries} new entries but 0 items")
    health.flagged = bool(reasons)
    health.flag_reason = "; ".join(reasons) or None
    return health


def crawl_here(
    source_name: str, out_dir: Path, state_file: Path | None, start_urls: list[str] | None
) -> Path:
    """Run the crawl in this process (the child). Returns the stats file path."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    import spiders.settings as project_settings
    from spiders.registry import spider_classes
    from spiders.replay_server import ReplayServer

    settings = get_settings()
    spider_cls = spider_classes()[source_name]
    scrapy_settings = Settings()
    scrapy_settings.setmodule(project_settings, priority="project")
    out_dir.mkdir(parents=True, exist_ok=True)
    scrapy_settings.set("HKAI_STAGING_FILE", str(out_dir / f"{source_name}.jsonl"), priority="cmdline")
    for key, value in settings.scrapy_settings.items():
        scrapy_settings.set(key, value, priority="cmdline")

    server: ReplayServer | None = None
    if settings.crawl_mode == "replay":
        for key, value in project_settings.REPLAY_SETTINGS.items():
            scrapy_settings.set(key, value, priority="cmdline")
        replay_url = settings.replay_url
        if not replay_url:
            server = ReplayServer(settings.snapshot_dir).__enter__()
            replay_url = server.url
        scrapy_settings.set("HKAI_REPLAY_URL", replay_url, priority="cmdline")

    process = CrawlerProcess(scrapy_settings)
    kwargs: dict[str, Any] = {"state_file": str(state_file) if state_file else None}
    if start_urls:
        kwargs["start_urls"] = ",".join(start_urls)
    crawler = process.create_crawler(spider_cls)
    process.crawl(crawler, **kwargs)
    started = time.monotonic()
    process.start()
    if server:
        server.__exit__()
    stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
    stats.setdefault("elapsed_time_seconds", time.monotonic() - started)
    stats_path = out_dir / f"{source_name}.stats.json"
    stats_path.write_text(json.dumps(stats, default=str, ensure_ascii=False, indent=1), encoding="utf-8")
    return stats_path


@dataclass
class CrawlResult:
    source: str
    items_path: Path
    health: CrawlHealth
    returncode: int


def crawl_source(
    source_name: str,
    out_dir: Path,
    *,
    state: dict[str, Any] | None = None,
    start_urls: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout_s: int = 3600,
) -> CrawlResult:
    """Run one crawl in a child process (the parent side), then read its items and stats."""
    from spiders.registry import get_source

    source = get_source(source_name)
    out_dir.mkdir(parents=True, exist_ok=True)
    state_file = out_dir / f"{source_name}.state.json"
    state_file.write_text(
        json.dumps(state or {"seen": {}, "validators": {}}, ensure_ascii=False), encoding="utf-8"
    )
    stats_path = out_dir / f"{source_name}.stats.json"
    stats_path.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "spiders.run",
        source_name,
        "--out",
        str(out_dir),
        "--state",
        str(state_file),
    ]
    if start_urls:
        command += ["--start-urls", ",".join(start_urls)]
    child_env = child_environment(env)
    log_path = out_dir / f"{source_name}.log"
    with log_path.open("w", encoding="utf-8") as log:
        completed = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=timeout_s,
            check=False,
        )
    listings = len(start_urls or source.start_urls)
    if stats_path.exists():
        stats = json.loads(stats_path.read_text(encoding="utf-8"))
        health = health_from_stats(source_name, stats, listings)
    else:
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-600:]
        health = CrawlHealth(source=source_name, flagged=True, flag_reason=f"crawl process failed: {tail}")
    if completed.returncode != 0:
        health.flagged = True
        health.flag_reason = (health.flag_reason or "") + f"; crawl process exited {completed.returncode}"
    return CrawlResult(source_name, out_dir / f"{source_name}.jsonl", health, completed.returncode)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--state", type=Path)
    parser.add_argument("--start-urls")
    args = parser.parse_args(argv)
    urls = args.start_urls.split(",") if args.start_urls else None
    crawl_here(args.source, args.out, args.state, urls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
