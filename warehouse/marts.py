"""Mart refresh and reads. The weekly marts are tables (migration 0003) refreshed here for the weeks
a load touched, with the same SQL on SQLite and PostgreSQL; spikes need a trailing window, so they
are computed in Python from the mentions mart. `mart_source_health` is a view.

Spike statistic: for entity e and week w, baseline b = mean weekly articles mentioning e over
the 4 weeks before w (weeks with no mention count as 0); score = (articles - b) / sqrt(b + 1),
a Poisson-style z-score that stays finite for new entities. Rows with articles >= 2 and
score >= 1.5 are stored.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, text

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


# Per-week marts: SELECT ... for the weeks in :weeks (an expanding parameter).
WEEKLY_SQL: dict[str, str] = {
    "mart_weekly_entity_mentions": """
        SELECT a.published_week AS week_start, e.id AS entity_id, e.name AS entity_name, e.type AS entity_type,
               COUNT(DISTINCT a.id) AS articles,
               COUNT(DISTINCT COALESCE(a.cluster_id, 'a' || CAST(a.id AS VARCHAR(20)))) AS clusters
        FROM article_entities ae
        JOIN articles a ON a.id = ae.article_id
        JOIN entities e ON e.id = ae.entity_id
        WHERE a.relevant = TRUE AND a.published_week IN :weeks AND e.status = 'kb'
        GROUP BY a.published_week, e.id, e.name, e.type""",
    "mart_weekly_sector_share": """
        SELECT a.published_week AS week_start, s.sector AS sector, COUNT(DISTINCT a.id) AS articles,
               ROUND(1.0 * COUNT(DISTINCT a.id) / t.n, 4) AS share
        FROM article_sectors s
        JOIN articles a ON a.id = s.article_id
        JOIN (SELECT published_week, COUNT(*) AS n FROM articles
              WHERE relevant = TRUE AND published_week IN :weeks GROUP BY published_week) t
          ON t.published_week = a.published_week
        WHERE a.relevant = TRUE AND a.published_week IN :weeks
        GROUP BY a.published_week, s.sector, t.n""",
    "mart_weekly_source_volume": """
        SELECT published_week AS week_start, source,
               SUM(CASE WHEN relevant = TRUE THEN 1 ELSE 0 END) AS articles, COUNT(*) AS all_articles
        FROM articles WHERE published_week IN :weeks
        GROUP BY published_week, source""",
    "mart_entity_cooccurrence": """
        SELECT a.published_week AS week_start, x.entity_id AS entity_a, y.entity_id AS entity_b,
               COUNT(DISTINCT a.id) AS articles
        FROM article_entities x
        JOIN article_entities y ON y.article_id = x.article_id AND x.entity_id < y.entity_id{byte_order}
        JOIN articles a ON a.id = x.article_id
        WHERE a.relevant = TRUE AND a.published_week IN :weeks
          AND x.entity_id NOT LIKE 'cand:%' AND y.entity_id NOT LIKE 'cand:%'
        GROUP BY a.published_week, x.entity_id, y.entity_id""",
}
# Whole-history mart: an entity's first week depends on every earlier week.
NEW_ENTITIES_SQL = """
    WITH mentions AS (
        SELECT ae.entity_id, a.id AS article_id, a.published_at, a.published_week
        FROM article_entities ae JOIN articles a ON a.id = ae.article_id
        WHERE a.relevant = TRUE AND a.published_week IS NOT NULL),
    firsts AS (
        SELECT entity_id, MIN(published_week) AS first_week, MIN(published_at) AS first_seen_at
        FROM mentions GROUP BY entity_id)
    SELECT f.first_week AS week_start, e.id AS entity_id, e.name AS entity_name, e.type AS entity_type,
           f.first_seen_at, COUNT(DISTINCT m.article_id) AS articles
    FROM firsts f
    JOIN entities e ON e.id = f.entity_id
    JOIN mentions m ON m.entity_id = f.entity_id AND m.published_week = f.first_week
    GROUP BY f.first_week, e.id, e.name, e.type, f.first_seen_at"""


RECLUSTERED_WEEKS = 9  # story clusters are rebuilt over 60 days, so their weeks are refreshed too


def affected_weeks(conn: Connection, run_id: str | None) -> list[date] | None:
    """Weeks holding articles loaded by `run_id`, plus the recent weeks whose clusters may have moved
    (None = every week: a full rebuild)."""
    if run_id is None:
        return None
    rows = conn.execute(
        text(
            "SELECT DISTINCT published_week FROM articles WHERE loaded_run_id = :r AND published_week IS NOT NULL"
        ),
        {"r": run_id},
    ).all()
    weeks = {_as_date(r[0]) for r in rows}
    latest = conn.execute(text("SELECT MAX(published_week) FROM articles")).scalar()
    if latest is not None:
        since = _as_date(latest) - timedelta(weeks=RECLUSTERED_WEEKS)
        weeks |= {
            _as_date(r[0])
            for r in conn.execute(
                text("SELECT DISTINCT published_week FROM articles WHERE published_week >= :s"), {"s": since}
            ).all()
        }
    return sorted(weeks)


def refresh_marts(engine: Engine, run_id: str | None = None) -> dict[str, int]:
    """Recompute mart rows for the weeks a run touched (all weeks when run_id is None).

    One transaction: readers see the old rows or the new ones, and a rerun gives identical rows.
    """
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        weeks = affected_weeks(conn, run_id)
        if weeks is None:
            weeks = [
                _as_date(r[0])
                for r in conn.execute(
                    text("SELECT DISTINCT published_week FROM articles WHERE published_week IS NOT NULL")
                ).all()
            ]
            for name in WEEKLY_SQL:
                conn.execute(text(f"DELETE FROM {name}"))
        byte_order = ' COLLATE "C"' if conn.dialect.name == "postgresql" else ""
        for start in range(0, len(weeks), 200):
            chunk = weeks[start : start + 200]
            for name, sql in WEEKLY_SQL.items():
                columns = _columns(name)
                conn.execute(
                    text(f"DELETE FROM {name} WHERE week_start IN :weeks").bindparams(
                        bindparam("weeks", expanding=True)
                    ),
                    {"weeks": chunk},
                )
                insert = text(
                    f"INSERT INTO {name} ({columns}) {sql.format(byte_order=byte_order)}"
                ).bindparams(bindparam("weeks", expanding=True))
                conn.execute(insert, {"weeks": chunk})
        conn.execute(text("DELETE FROM mart_new_entities"))
        conn.execute(
            text(f"INSERT INTO mart_new_entities ({_columns('mart_new_entities')}) {NEW_ENTITIES_SQL}")
        )
        for name in (*WEEKLY_SQL, "mart_new_entities"):
            counts[name] = int(conn.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one())
        weekly = conn.execute(
            text("SELECT week_start, entity_id, entity_name, articles FROM mart_weekly_entity_mentions")
        ).all()
        spikes = compute_spikes([tuple(row) for row in weekly])
        conn.execute(delete(EntitySpike))
        if spikes:
            conn.execute(EntitySpike.__table__.insert(), spikes)
    counts["mart_entity_spikes"] = len(spikes)
    counts["weeks_refreshed"] = len(weeks)
    return counts


def _columns(name: str) -> str:
    return {
        "mart_weekly_entity_mentions": "week_start, entity_id, entity_name, entity_type, articles, clusters",
        "mart_weekly_sector_share": "week_start, sector, articles, share",
        "mart_weekly_source_volume": "week_start, source, articles, all_articles",
        "mart_entity_cooccurrence": "week_start, entity_a, entity_b, articles",
        "mart_new_entities": "week_start, entity_id, entity_name, entity_type, first_seen_at, articles",
    }[name]


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
