"""Warehouse at scale: load rate and mart query latency on SQLite and PostgreSQL.

A generator builds a synthetic warehouse (benchmark only; the demo keeps real data) with realistic
shapes: 20 sources with Zipf-like volume, two years of weekly seasonality, 8 % relevant articles,
entity popularity following Zipf over the real knowledge base, 1–3 sectors and themes per relevant
article. Loading goes through the real loader (`warehouse.load.load_articles`); each database is
also timed on a naive baseline (one INSERT per row, no batching) over a small sample in the same
run, so the rate is reported as a ratio too.

Run: `python -m warehouse.bench --articles 1000000` (needs HKAI_TEST_POSTGRES_URL for PostgreSQL).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from config.settings import get_settings
from warehouse.models import SECTORS, THEMES

START = datetime(2024, 1, 1, tzinfo=UTC)
WORDS = (
    "Hong Kong artificial intelligence government bank hospital university data centre model "
    "startup funding policy privacy research talent robot cloud chip finance smart city"
).split()


def synthetic_records(count: int, entity_ids: list[str], seed: int = 42) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    sources = [f"src_{i:02d}" for i in range(20)]
    source_weights = [1 / (i + 1) for i in range(20)]
    entity_weights = [1 / (i + 1) ** 1.1 for i in range(len(entity_ids))]
    span_s = 2 * 365 * 86400
    for n in range(count):
        published = START + timedelta(seconds=int(rng.random() ** 0.8 * span_s))
        relevant = rng.random() < 0.08
        record: dict[str, Any] = {
            "url": f"https://example.org/a/{n}",
            "canonical_url": f"https://example.org/a/{n}",
            "source": rng.choices(sources, source_weights)[0],
            "language": rng.choice(("en", "zh-Hant", "zh-Hant")),
            "title": " ".join(rng.choices(WORDS, k=8)),
            "body": " ".join(rng.choices(WORDS, k=rng.randint(60, 240))),
            "published_at": published.isoformat(),
            "fetched_at": (published + timedelta(minutes=30)).isoformat(),
            "authors": [],
            "relevant": relevant,
            "relevance": rng.random(),
        }
        if relevant:
            chosen = set(rng.choices(entity_ids, entity_weights, k=rng.randint(1, 5)))
            record["entities"] = [
                {"name": e, "type": "organisation", "kb_id": e, "mentions": [e]} for e in chosen
            ]
            record["sectors"] = rng.sample(list(SECTORS), rng.randint(1, 3))
            record["themes"] = rng.sample(list(THEMES), rng.randint(1, 2))
        yield record


def _prepare(url: str) -> Engine:
    from transforms.kb import load_entities
    from warehouse.db import get_engine, upgrade
    from warehouse.load import sync_kb_entities, upsert
    from warehouse.models import SourceRow

    upgrade(url)
    engine = get_engine(url)
    with engine.begin() as conn:
        upsert(
            conn,
            SourceRow.__table__,
            [
                {
                    "name": f"src_{i:02d}",
                    "title": f"Source {i}",
                    "kind": "rss",
                    "languages": "en",
                    "homepage": "https://example.org",
                    "verified": False,
                }
                for i in range(20)
            ],
            ["name"],
        )
        sync_kb_entities(conn, load_entities().values())
    return engine


def _naive_rate(engine: Engine, sample: list[dict[str, Any]]) -> float:
    """Baseline: one INSERT statement and one commit per article, no batching, no upsert."""
    from warehouse.load import _article_row

    started = time.perf_counter()
    for record in sample:
        row = _article_row({**record, "canonical_url": record["canonical_url"] + "/naive"}, "naive")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO articles (canonical_url, url, source, language, title, body, "
                    "published_at, published_week, fetched_at, authors, content_hash, relevant, relevance, "
                    "ai_score, hk_score) VALUES (:canonical_url, :url, :source, :language, :title, :body, "
                    ":published_at, :published_week, :fetched_at, '[]', :content_hash, :relevant, "
                    ":relevance, 0, 0)"
                ),
                row,
            )
    rate = len(sample) / (time.perf_counter() - started)
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM articles WHERE loaded_run_id = 'naive' OR canonical_url LIKE '%/naive'")
        )
    return rate


QUERIES = {
    "mart_weekly_entity_mentions": "SELECT * FROM mart_weekly_entity_mentions WHERE week_start = :w "
    "ORDER BY articles DESC LIMIT 20",
    "mart_weekly_sector_share": "SELECT * FROM mart_weekly_sector_share WHERE week_start >= :w8 ORDER BY week_start",
    "mart_weekly_source_volume": "SELECT * FROM mart_weekly_source_volume WHERE week_start >= :w8",
    "mart_new_entities": "SELECT * FROM mart_new_entities WHERE week_start = :w ORDER BY articles DESC",
    "mart_entity_spikes": "SELECT * FROM mart_entity_spikes WHERE week_start = :w ORDER BY score DESC",
    "mart_entity_cooccurrence": "SELECT * FROM mart_entity_cooccurrence WHERE week_start = :w "
    "ORDER BY articles DESC LIMIT 20",
    "mart_source_health": "SELECT * FROM mart_source_health ORDER BY run_started_at DESC LIMIT 50",
    "story_clusters": "SELECT * FROM story_clusters ORDER BY first_seen_at DESC LIMIT 50",
    "entity trend (12 weeks)": "SELECT week_start, articles FROM mart_weekly_entity_mentions "
    "WHERE entity_id = 'hkma' ORDER BY week_start DESC LIMIT 12",
}


SEARCHES: dict[str, tuple[str, str]] = {
    # (query, filter): the synthetic text is common English words only, so "common words" match
    # most articles (a worst case for counting), and the short terms are scans
    "search: absent word": ("Cyberport", ""),
    "search: common word, latest week": ("hospital", "week"),
    "search: two common words": ("robot chip", ""),
    "search: common word, one entity": ("bank", "entity"),
    "search: 2-character Chinese (scan)": ("港大", ""),
    "search: 2-letter word, latest week (scan)": ("AI", "week"),
}


def _search_latencies(engine: Engine, week: Any) -> dict[str, float]:
    """Median of 5 for one page of search results (with its total) and for the filter facets."""
    from warehouse.search import search_articles, search_facets

    latencies = {}
    for name, (query, narrow) in SEARCHES.items():
        filters: dict[str, Any] = {"week": week} if narrow == "week" else {"entity": "hkma"} if narrow else {}
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            search_articles(engine, query, limit=20, **filters)
            runs.append(time.perf_counter() - t0)
        latencies[name] = statistics.median(runs)
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        search_facets(engine)
        runs.append(time.perf_counter() - t0)
    latencies["search facets"] = statistics.median(runs)
    return latencies


def bench_database(label: str, url: str, count: int) -> dict[str, Any]:
    from transforms.kb import load_entities
    from warehouse.load import load_articles
    from warehouse.marts import refresh_marts

    engine = _prepare(url)
    entity_ids = list(load_entities())
    naive = _naive_rate(engine, list(synthetic_records(500, entity_ids, seed=1)))
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for record in synthetic_records(count, entity_ids):
        batch.append(record)
        if len(batch) == 20000:
            load_articles(engine, batch, "bench", chunk_size=1000)
            batch = []
    if batch:
        load_articles(engine, batch, "bench", chunk_size=1000)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    refresh_marts(engine)
    refresh_s = time.perf_counter() - started
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
        latest = conn.execute(text("SELECT MAX(week_start) FROM mart_weekly_entity_mentions")).scalar()
    if latest is None:
        raise RuntimeError("the benchmark warehouse has no mart rows")
    latest_date = latest if not isinstance(latest, str) else datetime.fromisoformat(latest).date()
    params = {"w": latest_date, "w8": latest_date - timedelta(weeks=8)}
    latencies = {}
    with engine.connect() as conn:
        for name, sql in QUERIES.items():
            runs = []
            for _ in range(5):
                t0 = time.perf_counter()
                conn.execute(text(sql), params).all()
                runs.append(time.perf_counter() - t0)
            latencies[name] = statistics.median(runs)
    latencies.update(_search_latencies(engine, latest_date))
    return {
        "database": label,
        "articles": count,
        "load_rate": count / load_s,
        "naive_rate": naive,
        "full_refresh_s": refresh_s,
        "latencies": latencies,
    }


def report(results: list[dict[str, Any]]) -> str:
    lines = [
        "| measure | " + " | ".join(r["database"] for r in results) + " |",
        "| --- | " + " | ".join("---" for _ in results) + " |",
        "| articles | " + " | ".join(f"{r['articles']:,}" for r in results) + " |",
        "| load rate (articles/s) | " + " | ".join(f"{r['load_rate']:,.0f}" for r in results) + " |",
        "| naive row-by-row baseline (articles/s) | "
        + " | ".join(f"{r['naive_rate']:,.0f}" for r in results)
        + " |",
        "| speed-up over baseline | "
        + " | ".join(f"{r['load_rate'] / r['naive_rate']:.1f}×" for r in results)
        + " |",
        "| full mart refresh (s) | " + " | ".join(f"{r['full_refresh_s']:.1f}" for r in results) + " |",
    ]
    for name in (*QUERIES, *SEARCHES, "search facets"):
        lines.append(
            f"| query: {name} (ms, median of 5) | "
            + " | ".join(f"{r['latencies'][name] * 1000:.1f}" for r in results)
            + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_sqlite:
            results.append(bench_database("SQLite", f"sqlite:///{tmp}/bench.db", args.articles))
        pg = get_settings().test_postgres_url
        if pg:
            from warehouse.db import create_scratch_database

            results.append(
                bench_database("PostgreSQL", create_scratch_database(pg, "hkai_bench"), args.articles)
            )
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
