"""Mart refresh and reads. Most marts are views (migration 0002); spikes need a trailing window,
so they are computed here and stored in `mart_entity_spikes`, the same way on every database.

Spike statistic: for entity e and week w, baseline b = mean weekly articles mentioning e over
the 4 weeks before w (weeks with no mention count as 0); score = (articles - b) / sqrt(b + 1),
a Poisson-style z-score that stays finite for new entities. Rows with articles >= 2 and
score >= 1.5 are stored.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, delete, text

from warehouse.models import EntitySpike

SPIKE_WINDOW_WEEKS = 4
SPIKE_MIN_ARTICLES = 2
SPIKE_MIN_SCORE = 1.5

MART_NAMES = (
    "mart_weekly_entity_mentions",
    "mart_weekly_sector_share",
    "mart_weekly_source_volume",
    "mart_new_entities",
    "mart_entity_spikes",
    "mart_entity_cooccurrence",
    "mart_source_health",
    "story_clusters",
)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def compute_spikes(weekly: list[tuple[date, str, str, int]]) -> list[dict[str, Any]]:
    """Pure: (week, entity_id, entity_name, articles) rows → spike rows."""
    counts: dict[tuple[str, date], int] = {}
    names: dict[str, str] = {}
    for week, entity_id, name, articles in weekly:
        counts[(entity_id, _as_date(week))] = int(articles)
        names[entity_id] = name
    spikes = []
    for (entity_id, week), articles in sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if articles < SPIKE_MIN_ARTICLES:
            continue
        history = [
            counts.get((entity_id, week - timedelta(weeks=k)), 0) for k in range(1, SPIKE_WINDOW_WEEKS + 1)
        ]
        baseline = sum(history) / SPIKE_WINDOW_WEEKS
        score = (articles - baseline) / math.sqrt(baseline + 1.0)
        if score >= SPIKE_MIN_SCORE:
            spikes.append(
                {
                    "week_start": week,
                    "entity_id": entity_id,
                    "entity_name": names[entity_id],
                    "articles": articles,
                    "baseline": round(baseline, 4),
                    "score": round(score, 4),
                }
            )
    return spikes


def refresh_marts(engine: Engine) -> dict[str, int]:
    """Recompute the stored marts in one transaction (a rerun gives identical rows)."""
    with engine.begin() as conn:
        weekly = conn.execute(
            text("SELECT week_start, entity_id, entity_name, articles FROM mart_weekly_entity_mentions")
        ).all()
        spikes = compute_spikes([tuple(row) for row in weekly])
        conn.execute(delete(EntitySpike))
        if spikes:
            conn.execute(EntitySpike.__table__.insert(), spikes)
    return {"mart_entity_spikes": len(spikes)}


def mart_rows(engine: Engine, name: str, order_by: str | None = None, limit: int | None = None) -> list[dict]:
    """Rows of one mart by its public name (names are checked against MART_NAMES)."""
    if name not in MART_NAMES:
        raise ValueError(f"unknown mart {name!r}")
    sql = f"SELECT * FROM {name}"
    if order_by:
        if not all(part.strip().split()[0].isidentifier() for part in order_by.split(",")):
            raise ValueError(f"bad order_by {order_by!r}")
        sql += f" ORDER BY {order_by}"
    if limit:
        sql += f" LIMIT {int(limit)}"
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(text(sql))]
