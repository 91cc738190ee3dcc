"""Idempotent loaders: upserts on natural keys, one transaction per load, bad rows isolated.

A load either commits whole or leaves nothing behind (a killed load rolls back). Inside it, a
row that breaks a constraint is retried alone in a savepoint, rejected with its URL named, and
the rest of the batch is stored.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, FromClause, Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError

from transforms.dates import parse_date, week_start_hkt
from warehouse.models import (
    Article,
    ArticleEntity,
    ArticleSector,
    ArticleTheme,
    CrawlRun,
    Entity,
    FailedPage,
    FeedState,
    SourceRow,
    StagedCrawl,
    StagedItem,
)

log = logging.getLogger(__name__)


def _insert(conn: Connection, table: FromClause) -> Any:
    """The dialect's INSERT (with ON CONFLICT support) for a mapped class's `__table__`."""
    table = cast(Table, table)
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for dialect {dialect}")


def upsert(conn: Connection, table: FromClause, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE every other given column."""
    if not rows:
        return
    stmt = _insert(conn, table)
    columns = [c for c in rows[0] if c not in keys]
    if columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in columns}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    conn.execute(stmt, list(rows))


def utc_naive(value: Any) -> datetime | None:
    """Aware datetime (or ISO text) → naive UTC, the storage convention on both databases."""
    parsed = parse_date(value) if value is not None else None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed else None


def sync_sources(conn: Connection, sources: Iterable[Any]) -> None:
    rows = [
        {
            "name": s.name,
            "title": s.title,
            "kind": s.kind,
            "languages": ",".join(s.languages),
            "homepage": s.homepage,
            "verified": s.verified,
        }
        for s in sources
    ]
    upsert(conn, SourceRow.__table__, rows, ["name"])


def sync_kb_entities(conn: Connection, entities: Iterable[Any]) -> None:
    rows = [
        {
            "id": e.id,
            "name": e.name,
            "type": e.type,
            "zh_hant": e.zh_hant,
            "zh_hans": e.zh_hans,
            "status": "kb",
        }
        for e in entities
    ]
    for start in range(0, len(rows), 500):
        upsert(conn, Entity.__table__, rows[start : start + 500], ["id"])


def crawl_state(
    conn: Connection, source: str, *, run_id: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """What the spider needs for incremental crawling: stored URLs, feed validators and failed pages.

    `failed` holds the source's failed article pages: how many attempts came before this run, the
    feed entry each came from, whether it is due for a retry (its backoff has passed) and whether it
    was given up. A rerun of a crawl (the same `run_id`) sees the attempts as they were before it.
    """
    seen: dict[str, str | None] = {}
    rows = conn.execute(
        select(Article.canonical_url, Article.modified_at, Article.published_at).where(
            Article.source == source
        )
    )
    for url, modified, published in rows:
        stamp = modified or published
        seen[url] = stamp.replace(tzinfo=UTC).isoformat() if stamp else None
    validators = {
        url: {"etag": etag or "", "last_modified": modified or ""}
        for url, etag, modified in conn.execute(
            select(FeedState.url, FeedState.etag, FeedState.last_modified).where(FeedState.source == source)
        )
    }
    return {"seen": seen, "validators": validators, "failed": failed_pages_state(conn, source, run_id, now)}


def failed_pages_state(
    conn: Connection, source: str, run_id: str | None = None, now: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """The source's failed pages, by canonical URL, as the spider reads them (see `crawl_state`)."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    failed: dict[str, dict[str, Any]] = {}
    for row in conn.execute(select(FailedPage.__table__).where(FailedPage.source == source)).all():
        earlier = row.attempts - (1 if run_id is not None and row.last_run_id == run_id else 0)
        failed[row.canonical_url] = {
            "url": row.url,
            "attempts": max(0, earlier),
            "entry": row.entry or {},
            "due": row.gave_up_at is None and row.next_attempt_at <= now,
            "gave_up": row.gave_up_at is not None,
        }
    return failed


def record_failed_pages(
    conn: Connection,
    run_id: str,
    source: str,
    failed: Sequence[dict[str, Any]],
    settled: Iterable[str] = (),
    now: datetime | None = None,
) -> None:
    """Write a crawl's page outcomes: each failure (attempts, backoff, given up) and each settled page.

    `failed` comes from the spider (`hkai/failed_pages`): url, canonical_url, reason, attempts,
    retry_after_s, gave_up, entry. A settled page (stored again, or no longer to fetch) is marked
    resolved by this run; the run's load deletes it together with the article, so a killed load
    leaves the row, and the page is retried.
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    by_url = {f["canonical_url"]: f for f in failed if f.get("canonical_url")}
    first_seen = dict(
        conn.execute(
            select(FailedPage.canonical_url, FailedPage.first_failed_at).where(
                FailedPage.canonical_url.in_(list(by_url))
            )
        ).all()
    )
    rows = [
        {
            "canonical_url": url,
            "url": f.get("url") or url,
            "source": source,
            "attempts": int(f.get("attempts") or 1),
            "first_failed_at": first_seen.get(url, now),
            "last_failed_at": now,
            "next_attempt_at": now + timedelta(seconds=float(f.get("retry_after_s") or 0)),
            "last_error": str(f.get("reason") or "")[:1000] or None,
            "entry": f.get("entry") or {},
            "last_run_id": run_id,
            "resolved_run_id": None,
            "gave_up_at": now if f.get("gave_up") else None,
        }
        for url, f in by_url.items()
    ]
    for start in range(0, len(rows), 500):
        upsert(conn, FailedPage.__table__, rows[start : start + 500], ["canonical_url"])
    resolved = sorted(set(settled) - set(by_url))
    for start in range(0, len(resolved), 500):
        conn.execute(
            update(FailedPage)
            .where(FailedPage.canonical_url.in_(resolved[start : start + 500]))
            .values(resolved_run_id=run_id)
        )


def staged_urls(conn: Connection, run_id: str, source: str) -> set[str]:
    """Canonical URLs this source already staged in this run (an earlier attempt of the same crawl)."""
    return set(
        conn.execute(
            select(StagedItem.canonical_url).where(StagedItem.run_id == run_id, StagedItem.source == source)
        ).scalars()
    )


def recent_feed_entries(conn: Connection, source: str, run_id: str, limit: int = 5) -> list[int]:
    """Feed entries of the source's latest crawls with entries (before this run), newest first."""
    return list(
        conn.execute(
            select(CrawlRun.feed_entries)
            .where(CrawlRun.source == source, CrawlRun.run_id != run_id, CrawlRun.feed_entries > 0)
            .order_by(CrawlRun.started_at.desc())
            .limit(limit)
        ).scalars()
    )


_HEALTH_COLUMNS = (
    "duplicate_items",
    "future_dated",
    "undecodable",
    "invalid_urls",
    "gave_up_pages",
    "requests",
    "responses_by_status",
    "feed_entries",
    "items",
    "skipped_known",
    "article_pages",
    "parse_failures",
    "errors",
    "blocked",
    "paywalled",
    "not_modified",
    "duration_s",
    "flagged",
    "flag_reason",
)


def record_crawl_run(
    conn: Connection, run_id: str, mode: str, started_at: datetime, health: dict[str, Any]
) -> None:
    """Write the run's health row as judged by `spiders.health` (a rerun replaces it)."""
    row = {
        "run_id": run_id,
        "source": health["source"],
        "mode": mode,
        "started_at": utc_naive(started_at),
        "finished_at": datetime.now(UTC).replace(tzinfo=None),
        **{column: health[column] for column in _HEALTH_COLUMNS},
        "error_sample": health.get("error_reasons", [])[:20],
    }
    upsert(conn, CrawlRun.__table__, [row], ["run_id", "source"])


def save_validators(conn: Connection, source: str, validators: dict[str, dict[str, str]]) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "url": url,
            "source": source,
            "etag": v.get("etag") or None,
            "last_modified": v.get("last_modified") or None,
            "updated_at": now,
        }
        for url, v in validators.items()
    ]
    upsert(conn, FeedState.__table__, rows, ["url"])


def stage_items(conn: Connection, run_id: str, source: str, items: Sequence[dict[str, Any]]) -> int:
    """Stage a crawl's items for the load; returns how many were duplicates of an item already staged.

    The run's staging rows are keyed by canonical URL, so a URL listed twice (in two feeds, or by two
    sources) is stored once, with the last copy.
    """
    if not items:
        return 0
    now = datetime.now(UTC).replace(tzinfo=None)
    by_url = {item["canonical_url"]: item for item in items}
    already = set(
        conn.execute(
            select(StagedItem.canonical_url).where(
                StagedItem.run_id == run_id, StagedItem.canonical_url.in_(list(by_url))
            )
        ).scalars()
    )
    rows = [
        {"run_id": run_id, "source": source, "canonical_url": url, "item": item, "staged_at": now}
        for url, item in by_url.items()
    ]
    for start in range(0, len(rows), 500):
        upsert(conn, StagedItem.__table__, rows[start : start + 500], ["run_id", "canonical_url"])
    return len(items) - len(by_url) + len(already)


def stage_validators(
    conn: Connection, run_id: str, source: str, validators: dict[str, dict[str, str]]
) -> None:
    row = {
        "run_id": run_id,
        "source": source,
        "validators": validators,
        "staged_at": datetime.now(UTC).replace(tzinfo=None),
    }
    upsert(conn, StagedCrawl.__table__, [row], ["run_id", "source"])


def read_staged(
    conn: Connection, run_id: str
) -> tuple[list[dict[str, Any]], dict[str, dict[str, dict[str, str]]]]:
    """The run's staged items (in staging order) and the feed validators each crawl saw."""
    items = list(
        conn.execute(
            select(StagedItem.item).where(StagedItem.run_id == run_id).order_by(StagedItem.id)
        ).scalars()
    )
    validators = {
        source: saved
        for source, saved in conn.execute(
            select(StagedCrawl.source, StagedCrawl.validators).where(StagedCrawl.run_id == run_id)
        )
        if saved
    }
    return items, validators


def prune_staging(conn: Connection, keep_days: int = 7) -> int:
    """Drop staging rows of runs older than `keep_days`; returns the number of items dropped."""
    cutoff = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=keep_days)
    dropped = conn.execute(delete(StagedItem).where(StagedItem.staged_at < cutoff)).rowcount or 0
    conn.execute(delete(StagedCrawl).where(StagedCrawl.staged_at < cutoff))
    return int(dropped)


def content_hash(title: str, body: str) -> str:
    return hashlib.sha1(f"{title}\n{body}".encode()).hexdigest()


@dataclass
class LoadReport:
    articles: int = 0
    rejected: list[str] = field(default_factory=list)
    candidates: int = 0


def _article_row(record: dict[str, Any], run_id: str) -> dict[str, Any]:
    published = utc_naive(record.get("published_at"))
    published_aware = parse_date(record.get("published_at")) if record.get("published_at") else None
    return {
        "canonical_url": record["canonical_url"],
        "url": record["url"],
        "source": record["source"],
        "language": record["language"],
        "title": record.get("title") or "",
        "body": record.get("body") or "",
        "published_at": published,
        "published_week": week_start_hkt(published_aware) if published_aware else None,
        "modified_at": utc_naive(record.get("modified_at")),
        "fetched_at": utc_naive(record["fetched_at"]),
        "authors": record.get("authors") or [],
        "section": (record.get("section") or None) and str(record["section"])[:200],
        "extraction": record.get("extraction"),
        "content_hash": content_hash(record.get("title") or "", record.get("body") or ""),
        "relevant": bool(record.get("relevant")),
        "relevance": float(record.get("relevance") or 0.0),
        "ai_score": float(record.get("ai_score") or 0.0),
        "hk_score": float(record.get("hk_score") or 0.0),
        "loaded_run_id": run_id,
    }


def _tag_rows(
    article_id: int, record: dict[str, Any]
) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """Entity, candidate-entity, sector and theme rows for one tagged article."""
    evidence = record.get("evidence") or {}
    entity_rows: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []
    for entity in record.get("entities") or []:
        entity_id = entity.get("kb_id")
        if entity_id:
            entity_rows.append(
                {
                    "article_id": article_id,
                    "entity_id": entity_id,
                    "mentions": entity.get("mentions", []),
                    "evidence": (evidence.get("entities") or {}).get(entity_id, []),
                }
            )
    for candidate in (e for e in record.get("entities") or [] if not e.get("kb_id")):
        entity_id = f"cand:{candidate['type']}:{candidate['name']}"[:120]
        candidates.append(
            {
                "id": entity_id,
                "name": candidate["name"][:300],
                "type": candidate["type"],
                "zh_hant": None,
                "zh_hans": None,
                "status": "candidate",
            }
        )
        # what proposed the new name: a pattern, or the mention model with its probability
        found_by = {"found_by": candidate.get("found_by", "pattern")}
        if "probability" in candidate:
            found_by["probability"] = candidate["probability"]
        entity_rows.append(
            {
                "article_id": article_id,
                "entity_id": entity_id,
                "mentions": [candidate["name"]],
                "evidence": [found_by],
            }
        )
    sector_conf = record.get("sector_confidence") or {}
    sector_rows = [
        {
            "article_id": article_id,
            "sector": sector,
            "confidence": float(sector_conf.get(sector, 0.5)),
            "evidence": (evidence.get("sectors") or {}).get(sector, []),
        }
        for sector in dict.fromkeys(record.get("sectors") or [])
    ]
    theme_conf = record.get("theme_confidence") or {}
    theme_rows = [
        {
            "article_id": article_id,
            "theme": theme,
            "confidence": float(theme_conf.get(theme, 0.5)),
            "evidence": (evidence.get("themes") or {}).get(theme, []),
        }
        for theme in dict.fromkeys(record.get("themes") or [])
    ]
    return entity_rows, candidates, sector_rows, theme_rows


def _load_chunk(conn: Connection, records: list[dict[str, Any]], run_id: str) -> int:
    """Upsert a chunk of articles and replace their tags whole; returns candidate count."""
    unique = {r["canonical_url"]: r for r in records}  # one row per key per statement
    rows = [_article_row(r, run_id) for r in unique.values()]
    existing = list(conn.execute(select(Article.id).where(Article.canonical_url.in_(list(unique)))).scalars())
    upsert(conn, Article.__table__, rows, ["canonical_url"])
    ids = dict(
        conn.execute(
            select(Article.canonical_url, Article.id).where(Article.canonical_url.in_(list(unique)))
        ).all()
    )
    if existing:  # only reloaded articles can have tags to replace
        for model in (ArticleEntity, ArticleSector, ArticleTheme):
            conn.execute(delete(model).where(model.article_id.in_(existing)))
    entities, candidates, sectors, themes = [], {}, [], []
    for url, record in unique.items():
        e_rows, c_rows, s_rows, t_rows = _tag_rows(ids[url], record)
        seen = set()
        for row in e_rows:  # one row per (article, entity)
            if row["entity_id"] not in seen:
                seen.add(row["entity_id"])
                entities.append(row)
        candidates.update({c["id"]: c for c in c_rows})
        sectors += s_rows
        themes += t_rows
    if candidates:
        upsert(conn, Entity.__table__, list(candidates.values()), ["id"])
    for model, payload in ((ArticleEntity, entities), (ArticleSector, sectors), (ArticleTheme, themes)):
        if payload:
            conn.execute(insert(model), payload)
    return len(candidates)


LOAD_ERRORS = (IntegrityError, DBAPIError, KeyError, ValueError, TypeError)


def load_articles(
    engine: Engine,
    records: Iterable[dict[str, Any]],
    run_id: str,
    validators: dict[str, dict[str, dict[str, str]]] | None = None,
    chunk_size: int = 500,
) -> LoadReport:
    """Upsert tagged articles and their tags, the feed validators, and forget the failed pages this
    run's crawls stored again, in one transaction.

    Chunks are written with multi-row statements in a savepoint; a chunk that fails is retried row
    by row, so only the offending rows are rejected, each named by its URL.
    """
    report = LoadReport()

    def flush(conn: Connection, batch: list[dict[str, Any]]) -> None:
        try:
            with conn.begin_nested():
                report.candidates += _load_chunk(conn, batch, run_id)
            report.articles += len({r["canonical_url"] for r in batch})
            return
        except LOAD_ERRORS:
            pass
        for record in batch:
            try:
                with conn.begin_nested():
                    report.candidates += _load_chunk(conn, [record], run_id)
                report.articles += 1
            except LOAD_ERRORS as exc:
                message = (
                    str(getattr(exc, "orig", exc)).splitlines()[0][:200] if str(exc) else type(exc).__name__
                )
                url = record.get("canonical_url") or record.get("url") or "?"
                report.rejected.append(f"{url}: {type(exc).__name__}: {message}")
                log.warning("rejected article %s: %s", url, message)

    with engine.begin() as conn:
        batch: list[dict[str, Any]] = []
        for record in records:
            batch.append(record)
            if len(batch) >= chunk_size:
                flush(conn, batch)
                batch = []
        if batch:
            flush(conn, batch)
        for source, urls in (validators or {}).items():
            save_validators(conn, source, urls)
        # pages this run's crawls stored again: forgotten only now, with the articles themselves
        conn.execute(delete(FailedPage).where(FailedPage.resolved_run_id == run_id))
    return report


def record_load_audit(engine: Engine, run_id: str, *, staged: int, loaded: int, rejected: int) -> None:
    """What one load staged, stored and rejected, with the article total after it (quality gate input)."""
    from warehouse.models import LoadAudit

    with engine.begin() as conn:
        total = int(conn.execute(select(func.count()).select_from(Article)).scalar_one())
        row = {
            "run_id": run_id,
            "staged": staged,
            "loaded": loaded,
            "rejected": rejected,
            "articles_total": total,
            "loaded_at": datetime.now(UTC).replace(tzinfo=None),
        }
        upsert(conn, LoadAudit.__table__, [row], ["run_id"])


def count_rows(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())
