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
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, func, select
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
    FeedState,
    SourceRow,
)

log = logging.getLogger(__name__)


def _insert(conn: Connection, table: Table) -> Any:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no upsert for dialect {dialect}")


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
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


def crawl_state(conn: Connection, source: str) -> dict[str, Any]:
    """What the spider needs for incremental crawling: stored URLs and feed validators."""
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
    return {"seen": seen, "validators": validators}


def record_crawl_run(
    conn: Connection, run_id: str, mode: str, started_at: datetime, health: dict[str, Any]
) -> bool:
    """Upsert the run's health row; flags a volume drop against the source's recent runs."""
    source = health["source"]
    recent = (
        conn.execute(
            select(CrawlRun.feed_entries)
            .where(CrawlRun.source == source, CrawlRun.run_id != run_id, CrawlRun.feed_entries > 0)
            .order_by(CrawlRun.started_at.desc())
            .limit(5)
        )
        .scalars()
        .all()
    )
    flagged, reason = bool(health.get("flagged")), health.get("flag_reason")
    if len(recent) >= 3 and not health.get("not_modified"):
        average = sum(recent) / len(recent)
        if health.get("feed_entries", 0) < 0.3 * average:
            flagged = True
            drop = f"volume drop: {health.get('feed_entries', 0)} entries vs recent average {average:.0f}"
            reason = f"{reason}; {drop}" if reason else drop
    row = {
        "run_id": run_id,
        "source": source,
        "mode": mode,
        "started_at": utc_naive(started_at),
        "finished_at": datetime.now(UTC).replace(tzinfo=None),
        "requests": health.get("requests", 0),
        "responses_by_status": health.get("responses_by_status", {}),
        "feed_entries": health.get("feed_entries", 0),
        "items": health.get("items", 0),
        "skipped_known": health.get("skipped_known", 0),
        "article_pages": health.get("article_pages", 0),
        "parse_failures": health.get("parse_failures", 0),
        "errors": health.get("errors", 0),
        "blocked": health.get("blocked", 0),
        "paywalled": health.get("paywalled", 0),
        "not_modified": health.get("not_modified", 0),
        "duration_s": health.get("duration_s", 0.0),
        "flagged": flagged,
        "flag_reason": reason,
        "error_sample": health.get("error_reasons", [])[:20],
    }
    upsert(conn, CrawlRun.__table__, [row], ["run_id", "source"])
    return flagged


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


def _replace_tags(conn: Connection, article_id: int, record: dict[str, Any]) -> int:
    """Tags are replaced whole, so reloading an article never leaves stale tags behind."""
    for model in (ArticleEntity, ArticleSector, ArticleTheme):
        conn.execute(delete(model).where(model.article_id == article_id))
    evidence = record.get("evidence") or {}
    entity_rows, candidates = [], 0
    for entity in record.get("entities") or []:
        entity_id = entity.get("kb_id")
        if not entity_id:
            continue
        entity_rows.append(
            {
                "article_id": article_id,
                "entity_id": entity_id,
                "mentions": entity.get("mentions", []),
                "evidence": (evidence.get("entities") or {}).get(entity_id, []),
            }
        )
    for candidate in record.get("candidates") or []:
        entity_id = f"cand:{candidate['type']}:{candidate['name']}"[:120]
        upsert(
            conn,
            Entity.__table__,
            [
                {
                    "id": entity_id,
                    "name": candidate["name"],
                    "type": candidate["type"],
                    "zh_hant": None,
                    "zh_hans": None,
                    "status": "candidate",
                }
            ],
            ["id"],
        )
        entity_rows.append(
            {
                "article_id": article_id,
                "entity_id": entity_id,
                "mentions": [candidate["name"]],
                "evidence": [],
            }
        )
        candidates += 1
    if entity_rows:
        conn.execute(ArticleEntity.__table__.insert(), entity_rows)
    confidence = record.get("sector_confidence") or {}
    sector_rows = [
        {
            "article_id": article_id,
            "sector": s,
            "confidence": float(confidence.get(s, 0.5)),
            "evidence": (evidence.get("sectors") or {}).get(s, []),
        }
        for s in record.get("sectors") or []
    ]
    if sector_rows:
        conn.execute(ArticleSector.__table__.insert(), sector_rows)
    confidence = record.get("theme_confidence") or {}
    theme_rows = [
        {
            "article_id": article_id,
            "theme": t,
            "confidence": float(confidence.get(t, 0.5)),
            "evidence": (evidence.get("themes") or {}).get(t, []),
        }
        for t in record.get("themes") or []
    ]
    if theme_rows:
        conn.execute(ArticleTheme.__table__.insert(), theme_rows)
    return candidates


def _load_one(conn: Connection, record: dict[str, Any], run_id: str) -> int:
    row = _article_row(record, run_id)
    upsert(conn, Article.__table__, [row], ["canonical_url"])
    article_id = conn.execute(
        select(Article.id).where(Article.canonical_url == row["canonical_url"])
    ).scalar_one()
    return _replace_tags(conn, article_id, record)


def load_articles(
    engine: Engine,
    records: Iterable[dict[str, Any]],
    run_id: str,
    validators: dict[str, dict[str, dict[str, str]]] | None = None,
) -> LoadReport:
    """Upsert tagged articles and their tags, and the feed validators, in one transaction."""
    report = LoadReport()
    with engine.begin() as conn:
        for record in records:
            try:
                with conn.begin_nested():
                    report.candidates += _load_one(conn, record, run_id)
                report.articles += 1
            except (IntegrityError, DBAPIError, KeyError, ValueError, TypeError) as exc:
                message = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
                url = record.get("canonical_url") or record.get("url") or "?"
                report.rejected.append(f"{url}: {type(exc).__name__}: {message}")
                log.warning("rejected article %s: %s", url, message)
        for source, urls in (validators or {}).items():
            save_validators(conn, source, urls)
    return report


def count_rows(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())
