"""Quality gates between load and publish. Each check is one SQL query that must return 0 rows-in-error."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from transforms.kb import ENTITY_TYPES
from warehouse.models import SECTORS, THEMES


class QualityCheckFailed(RuntimeError):
    """One or more checks failed; the message lists them, and the digest is blocked."""


def _in_list(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


CHECKS: dict[str, str] = {
    "articles.canonical_url not null": "SELECT COUNT(*) FROM articles WHERE canonical_url IS NULL OR canonical_url = ''",
    "articles.source not null": "SELECT COUNT(*) FROM articles WHERE source IS NULL",
    "articles.canonical_url unique": "SELECT COUNT(*) FROM (SELECT canonical_url FROM articles GROUP BY canonical_url HAVING COUNT(*) > 1) d",
    "article_sectors accepted values": f"SELECT COUNT(*) FROM article_sectors WHERE sector NOT IN ({_in_list(list(SECTORS))})",
    "article_themes accepted values": f"SELECT COUNT(*) FROM article_themes WHERE theme NOT IN ({_in_list(list(THEMES))})",
    "entities.type accepted values": f"SELECT COUNT(*) FROM entities WHERE type NOT IN ({_in_list(ENTITY_TYPES)})",
    "articles.language accepted values": "SELECT COUNT(*) FROM articles WHERE language NOT IN ('en', 'zh-Hant', 'zh-Hans')",
    "no future published dates": "SELECT COUNT(*) FROM articles WHERE published_at > fetched_at + :tolerance",
}


def run_checks(engine: Engine | None = None) -> dict[str, int]:
    """Run every check; raise QualityCheckFailed naming each failing one."""
    from datetime import timedelta

    from warehouse.db import get_engine

    engine = engine or get_engine()
    results: dict[str, int] = {}
    with engine.connect() as conn:
        for name, sql in CHECKS.items():
            params = {"tolerance": timedelta(hours=2)} if ":tolerance" in sql else {}
            if params and conn.dialect.name == "sqlite":
                sql = sql.replace("fetched_at + :tolerance", "datetime(fetched_at, '+2 hours')")
                params = {}
            results[name] = int(conn.execute(text(sql), params).scalar_one())
        results["row count vs previous run"] = _row_count_drop(conn)
    failed = {k: v for k, v in results.items() if v}
    if failed:
        raise QualityCheckFailed("; ".join(f"{k}: {v} row(s) in error" for k, v in failed.items()))
    return results


def _row_count_drop(conn: Connection) -> int:
    """Against the previous load: the article total never shrinks, and the latest load stored or
    rejected (with a reason) every item it staged. Returns the number of rows unaccounted for."""
    audits = conn.execute(
        text(
            "SELECT staged, loaded, rejected, articles_total FROM load_audits ORDER BY loaded_at DESC LIMIT 2"
        )
    ).all()
    total = int(conn.execute(text("SELECT COUNT(*) FROM articles")).scalar_one())
    if not audits:
        return 0
    latest = audits[0]
    missing = max(0, latest.staged - latest.loaded - latest.rejected)
    if len(audits) == 2 and total < audits[1].articles_total:
        missing += audits[1].articles_total - total
    return missing
