"""The Airflow assets our DAGs share, declared once, and what their events carry.

`WAREHOUSE_MARTS` is updated by the ingest DAG's `refresh_marts` task. The digest DAG does not
schedule on it (it runs on Mondays at 09:00 HKT and checks that the week is loaded); the event's
extra tells people in the UI what each update brought. Parsing a DAG file imports this module,
so it imports nothing heavy at the top.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset

WAREHOUSE_MARTS = Asset("x-hkai://warehouse/marts")


def warehouse_event_extra(run_id: str, refreshed: dict[str, Any]) -> dict[str, Any]:
    """The marts event's extra for one ingest run: articles loaded, weeks touched, sources flagged."""
    from sqlalchemy import func, select

    from warehouse.db import get_engine
    from warehouse.models import Article, CrawlRun, LoadAudit

    with get_engine().connect() as conn:
        loaded = conn.execute(select(LoadAudit.loaded).where(LoadAudit.run_id == run_id)).scalar()
        weeks = conn.execute(
            select(Article.published_week)
            .where(Article.loaded_run_id == run_id, Article.published_week.is_not(None))
            .group_by(Article.published_week)
            .order_by(Article.published_week)
        ).scalars()
        flagged = conn.execute(
            select(CrawlRun.source)
            .where(CrawlRun.run_id == run_id, CrawlRun.flagged.is_(True))
            .order_by(CrawlRun.source)
        ).scalars()
        crawls = conn.execute(
            select(func.count()).select_from(CrawlRun).where(CrawlRun.run_id == run_id)
        ).scalar()
        return {
            "run_id": run_id,
            "articles_loaded": int(loaded or 0),
            "weeks_touched": [str(week)[:10] for week in weeks],
            "sources_crawled": int(crawls or 0),
            "sources_flagged": list(flagged),
            "weeks_refreshed": int(refreshed.get("weeks_refreshed", 0)),
        }
