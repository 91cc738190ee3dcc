"""Orchestration of the ingest DAG (`hk_ai_news_ingest`): one function per task, also run by `hkai run`.

Tasks pass run ids, never DataFrames or local paths: a crawl stages its items and feed validators
in the warehouse (`staged_items`, `staged_crawls`), tag-and-load reads them from there, so any
task may run on any worker. Crawl health is judged once, by `spiders.health`, and written once.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from config.settings import REPO_ROOT, get_settings

log = logging.getLogger(__name__)


class SourceFlagged(RuntimeError):
    """A crawl finished but its health check failed (0 entries, blocks, parse failures...)."""


def prepare_warehouse() -> None:
    """Migrate the schema and refresh reference rows (sources, KB entities); idempotent."""
    from spiders.registry import sources
    from transforms.kb import load_entities
    from warehouse.db import get_engine, upgrade
    from warehouse.load import prune_staging, sync_kb_entities, sync_sources

    upgrade()
    with get_engine().begin() as conn:
        sync_sources(conn, sources())
        sync_kb_entities(conn, load_entities().values())
        dropped = prune_staging(conn)
    if dropped:
        log.info("dropped %s staged items of runs older than a week", dropped)


def crawlable_sources() -> list[str]:
    """Every registered source live; in replay mode, the sources the snapshot covers."""
    from spiders.fetch_mode import crawlable_sources as for_mode

    return for_mode(get_settings())


def declared_source_names() -> list[str]:
    """Source names as declared in spiders/sources/*.py (`Source(name=...)`), read without
    importing Scrapy, so a DAG file can offer them in its trigger form at parse time.
    tests/hkai/test_ingest_params.py checks they equal the registry's."""
    import ast

    names = set()
    for path in sorted((REPO_ROOT / "spiders" / "sources").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Source":
                for keyword in node.keywords:
                    if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                        names.add(str(keyword.value.value))
    return sorted(names)


def select_sources(requested: list[str] | None) -> list[str]:
    """The sources to crawl: `requested` (any order, duplicates dropped), else every crawlable one.

    A name that is not registered is a ValueError that names it and lists the valid names, before
    anything is crawled. A registered source that the replay snapshot lacks is crawled all the same:
    every request fails, so it is flagged in source health, as a broken live source would be.
    """
    available = crawlable_sources()
    if not requested:
        return available
    wanted = list(dict.fromkeys(name.strip() for name in requested if name.strip()))
    from spiders.registry import spider_classes

    unknown = [name for name in wanted if name not in spider_classes()]
    if unknown:
        raise ValueError(
            f"unknown source(s): {', '.join(unknown)}; known sources: {', '.join(spider_classes())}"
        )
    return wanted


def parse_since(since: str | date | None) -> date | None:
    """The backfill start date (YYYY-MM-DD), or None; anything else is a clear ValueError."""
    if since is None or since == "":
        return None
    if isinstance(since, date):
        return since
    try:
        return date.fromisoformat(str(since).strip()[:10])
    except ValueError:
        raise ValueError(f"since must be a date (YYYY-MM-DD), not {since!r}") from None


def published_since(items: list[dict[str, Any]], since: date | None) -> tuple[list[dict[str, Any]], int]:
    """Items published on or after `since` (Hong Kong date); items without a date are kept, as
    nothing says they are older. Returns the kept items and how many were left out."""
    if since is None:
        return items, 0
    from transforms.dates import as_hkt, parse_date

    kept = []
    for item in items:
        published = parse_date(item.get("published_at"))
        if published is None or as_hkt(published).date() >= since:
            kept.append(item)
    return kept, len(items) - len(kept)


@dataclass
class CrawlSummary:
    source: str
    items: int
    flagged: bool
    reason: str | None
    health: dict[str, Any]


def crawl(
    source: str,
    run_id: str,
    *,
    start_urls: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout_s: float | None = None,
) -> CrawlSummary:
    """Crawl one source in a child process, stage its items in the warehouse, judge and record its health.

    The child works in a directory of this task only; what the load needs goes to the warehouse's
    staging tables, so the load may run on another worker. A child running past `timeout_s`
    (default: `spiders.run.crawl_source`'s) is killed, and the crawl is recorded and flagged.
    Failed article pages are recorded for a retry on later runs (`failed_pages`).
    """
    from spiders.health import assess
    from spiders.run import crawl_source
    from warehouse.db import get_engine
    from warehouse.load import (
        crawl_state,
        recent_feed_entries,
        record_crawl_run,
        record_failed_pages,
        stage_items,
        stage_validators,
        staged_urls,
    )

    engine = get_engine()
    with engine.connect() as conn:
        state = crawl_state(conn, source, run_id=run_id)
        recent = recent_feed_entries(conn, source, run_id)
    started = datetime.now(UTC)
    limits = {"timeout_s": timeout_s} if timeout_s is not None else {}
    with tempfile.TemporaryDirectory(prefix=f"hkai-crawl-{source}-") as workdir:
        result = crawl_source(source, Path(workdir), state=state, start_urls=start_urls, env=env, **limits)
        _log_child_output(source, result.log_path)
        items = _read_items(result.items_path)
    with engine.begin() as conn:
        # a rerun of this crawl (same run) restages its own items: those are not duplicates
        restaged = staged_urls(conn, run_id, source) & {item["canonical_url"] for item in items}
        result.health.duplicate_items = stage_items(conn, run_id, source, items) - len(restaged)
        # a killed crawl wrote no stats, but the items it wrote before dying are staged all the same
        result.health.items = max(result.health.items, len(items))
        stage_validators(conn, run_id, source, result.validators)
        record_failed_pages(conn, run_id, source, result.failed_pages, result.settled_pages)
        health = assess(result.health, recent).as_dict()
        record_crawl_run(conn, run_id, get_settings().crawl_mode, started, health)
    log.info(
        "crawl %s: %s requests, %s entries, %s new items (%s duplicates), %s known, %s errors, flagged=%s %s",
        source,
        health["requests"],
        health["feed_entries"],
        health["items"],
        health["duplicate_items"],
        health["skipped_known"],
        health["errors"],
        health["flagged"],
        health["flag_reason"] or "",
    )
    return CrawlSummary(source, health["items"], health["flagged"], health["flag_reason"], health)


def _read_items(path: Path) -> list[dict[str, Any]]:
    """Items the child wrote; a line it could not finish (a killed crawl) is skipped and logged."""
    if not path.exists():
        return []
    items = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            log.warning("%s:%s: unreadable item skipped", path.name, line_no)
            continue
        if isinstance(item, dict) and item.get("canonical_url"):
            items.append(item)
    return items


def _log_child_output(source: str, log_path: Path, max_lines: int = 400) -> None:
    """Scrapy's own log, in this task's log (the last `max_lines` lines)."""
    if not log_path.exists():
        return
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    skipped = len(lines) - max_lines
    if skipped > 0:
        log.info("scrapy %s: (%s earlier lines not shown)", source, skipped)
    for line in lines[-max_lines:]:
        log.info("scrapy %s | %s", source, line)


def read_staged(run_id: str) -> tuple[list[dict[str, Any]], dict[str, dict[str, dict[str, str]]]]:
    """Items and feed validators staged by this run's crawls."""
    from warehouse.db import get_engine
    from warehouse.load import read_staged as read_from_warehouse

    with get_engine().connect() as conn:
        return read_from_warehouse(conn, run_id)


def tag_and_load(run_id: str, since: str | date | None = None) -> dict[str, Any]:
    """Tag every staged item (published on or after `since`, when given: a backfill window) and
    upsert it with its tags, in one transaction."""
    from transforms.tagging import default_tagger, tag_record
    from warehouse.db import get_engine
    from warehouse.load import load_articles, record_load_audit

    staged, validators = read_staged(run_id)
    start = parse_since(since)
    items, before = published_since(staged, start)
    if start is not None:
        log.info("tag_and_load %s: %s staged items published before %s left out", run_id, before, start)
    tagger = default_tagger()
    tagged = [tag_record(item, tagger) for item in items]
    engine = get_engine()
    report = load_articles(engine, tagged, run_id, validators)
    record_load_audit(
        engine, run_id, staged=len(items), loaded=report.articles, rejected=len(report.rejected)
    )
    summary = {
        "staged": len(items),
        "loaded": report.articles,
        "relevant": sum(1 for t in tagged if t["relevant"]),
        "rejected": report.rejected,
        "candidates": report.candidates,
        "before_since": before,
    }
    log.info("tag_and_load %s: %s", run_id, {k: v for k, v in summary.items() if k != "rejected"})
    return summary


def assert_sources_healthy(run_id: str) -> dict[str, Any]:
    """Summarise this run's crawl health; raise SourceFlagged naming every flagged source."""
    from sqlalchemy import select

    from warehouse.db import get_engine
    from warehouse.models import CrawlRun

    with get_engine().connect() as conn:
        rows = conn.execute(
            select(CrawlRun.source, CrawlRun.items, CrawlRun.flagged, CrawlRun.flag_reason).where(
                CrawlRun.run_id == run_id
            )
        ).all()
    summary = {
        source: {"items": items, "flagged": flagged, "reason": reason}
        for source, items, flagged, reason in rows
    }
    flagged = {source: s["reason"] for source, s in summary.items() if s["flagged"]}
    if flagged:
        raise SourceFlagged("; ".join(f"{source}: {reason}" for source, reason in sorted(flagged.items())))
    return summary


def cluster_stories() -> dict[str, int]:
    from warehouse.db import get_engine
    from warehouse.stories import rebuild_clusters

    result = rebuild_clusters(get_engine())
    log.info("story clusters: %s", result)
    return result


def refresh(run_id: str | None = None) -> dict[str, int]:
    """Refresh the marts for the weeks this run touched (every week when run_id is None)."""
    from warehouse.db import get_engine
    from warehouse.marts import refresh_marts

    return refresh_marts(get_engine(), run_id)


def quality_checks() -> dict[str, Any]:
    """Block publishing when the warehouse breaks a rule (keys, uniqueness, accepted values, dates)."""
    from warehouse.checks import run_checks

    return run_checks()


def run_all(
    run_id: str | None = None,
    sources: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    since: str | date | None = None,
) -> dict[str, Any]:
    """The ingest DAG's path without Airflow (`hkai run`, tests): the same tasks in the same order."""
    say = progress or (lambda _message: None)
    run_id = run_id or f"manual__{datetime.now(UTC):%Y%m%dT%H%M%S}"
    say(f"run {run_id}: preparing the warehouse")
    start = parse_since(since)
    names = select_sources(sources)  # a bad name fails before the warehouse is touched
    prepare_warehouse()
    crawls = []
    for number, name in enumerate(names, 1):
        say(f"crawling {name} ({number}/{len(names)})")
        summary = crawl(name, run_id)
        say(
            f"  {name}: {summary.items} new items"
            + (f", FLAGGED: {summary.reason}" if summary.flagged else "")
        )
        crawls.append(summary)
    say("tagging and loading")
    loaded = tag_and_load(run_id, since=start)
    say("clustering stories")
    clusters = cluster_stories()
    say("quality checks")
    quality_checks()
    say("refreshing the marts")
    marts = refresh(run_id)
    return {
        "run_id": run_id,
        "crawls": [c.__dict__ for c in crawls],
        "load": loaded,
        "clusters": clusters,
        "marts": marts,
    }
