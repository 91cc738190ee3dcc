"""Run one source's crawl in its own process and collect what it did.

Twisted's reactor cannot restart, and `airflow dags test` runs every task in one process, so each
crawl runs as `python -m spiders.run SOURCE ...` in a child process. The child writes the items
(`<source>.jsonl`) and the crawler stats (`<source>.stats.json`); the parent reads them into a
`CrawlHealth` record that `spiders.health.assess` judges.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.settings import REPO_ROOT, child_environment, get_settings
from spiders.health import CrawlHealth, health_from_stats


def crawl_here(
    source_name: str, out_dir: Path, state_file: Path | None, start_urls: list[str] | None
) -> Path:
    """Run the crawl in this process (the child). Returns the stats file path."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    import spiders.settings as project_settings
    from spiders.fetch_mode import download_backend
    from spiders.registry import spider_classes

    settings = get_settings()
    spider_cls = spider_classes()[source_name]
    scrapy_settings = Settings()
    scrapy_settings.setmodule(project_settings, priority="project")
    out_dir.mkdir(parents=True, exist_ok=True)
    scrapy_settings.set("HKAI_STAGING_FILE", str(out_dir / f"{source_name}.jsonl"), priority="cmdline")
    kwargs: dict[str, Any] = {"state_file": str(state_file) if state_file else None}
    if start_urls:
        kwargs["start_urls"] = ",".join(start_urls)
    started = time.monotonic()
    with download_backend(settings) as backend_settings:
        for key, value in {**backend_settings, **settings.scrapy_settings}.items():
            scrapy_settings.set(key, value, priority="cmdline")
        process = CrawlerProcess(scrapy_settings)
        crawler = process.create_crawler(spider_cls)
        process.crawl(crawler, **kwargs)
        process.start()
    stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
    stats.setdefault("elapsed_time_seconds", time.monotonic() - started)
    stats_path = out_dir / f"{source_name}.stats.json"
    stats_path.write_text(json.dumps(stats, default=str, ensure_ascii=False, indent=1), encoding="utf-8")
    return stats_path


@dataclass
class CrawlResult:
    """A finished crawl: where its items are, its counters (not yet judged), its feed validators, and
    its article pages that failed (to retry later) or settled (failed before, now stored or skipped)."""

    source: str
    items_path: Path
    health: CrawlHealth
    returncode: int | None
    log_path: Path
    validators: dict[str, dict[str, str]] = field(default_factory=dict)
    failed_pages: list[dict[str, Any]] = field(default_factory=list)
    settled_pages: list[str] = field(default_factory=list)


def crawl_source(
    source_name: str,
    out_dir: Path,
    *,
    state: dict[str, Any] | None = None,
    start_urls: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout_s: float = 3600,
) -> CrawlResult:
    """Run one crawl in a child process (the parent side), then read its items and stats.

    A child that hangs past `timeout_s` is killed and reported, never raised: the other sources
    carry on, and the health record says what happened.
    """
    from spiders.registry import get_source

    out_dir.mkdir(parents=True, exist_ok=True)
    state_file = out_dir / f"{source_name}.state.json"
    state_file.write_text(
        json.dumps(state or {"seen": {}, "validators": {}}, ensure_ascii=False), encoding="utf-8"
    )
    stats_path = out_dir / f"{source_name}.stats.json"
    stats_path.unlink(missing_ok=True)
    log_path = out_dir / f"{source_name}.log"
    returncode = _run_child(source_name, out_dir, state_file, start_urls, env, log_path, timeout_s)
    listings = len(start_urls or get_source(source_name).start_urls)
    stats: dict[str, Any] = {}
    if stats_path.exists():
        stats = json.loads(stats_path.read_text(encoding="utf-8"))
        health = health_from_stats(source_name, stats, listings)
    else:
        health = CrawlHealth(source=source_name, listings=listings)
    health.process_problem = _process_problem(returncode, stats_path.exists(), log_path, timeout_s)
    validators = dict(stats.get("hkai/validators", {}))
    items_path = out_dir / f"{source_name}.jsonl"
    return CrawlResult(
        source_name,
        items_path,
        health,
        returncode,
        log_path,
        validators,
        failed_pages=list(stats.get("hkai/failed_pages", [])),
        settled_pages=list(stats.get("hkai/settled_pages", [])),
    )


def _run_child(
    source_name: str,
    out_dir: Path,
    state_file: Path,
    start_urls: list[str] | None,
    env: dict[str, str] | None,
    log_path: Path,
    timeout_s: float,
) -> int | None:
    """`python -m spiders.run SOURCE` with its output in `log_path`; None when it timed out."""
    command = [sys.executable, "-m", "spiders.run", source_name, "--out", str(out_dir)]
    command += ["--state", str(state_file)]
    if start_urls:
        command += ["--start-urls", ",".join(start_urls)]
    with log_path.open("w", encoding="utf-8") as log:
        try:
            completed = subprocess.run(
                command,
                cwd=REPO_ROOT,
                env=child_environment(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None
    return completed.returncode


def _process_problem(
    returncode: int | None, wrote_stats: bool, log_path: Path, timeout_s: float
) -> str | None:
    if returncode is None:
        return f"crawl process timed out after {timeout_s:g} s and was killed"
    if not wrote_stats:
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-600:]
        return f"crawl process failed (exit {returncode}): {tail}"
    if returncode != 0:
        return f"crawl process exited {returncode}"
    return None


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
