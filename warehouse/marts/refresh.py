"""Refresh the mart tables from their definitions, with the same SQL on SQLite and PostgreSQL.

Incremental marts are rebuilt for the weeks a load touched, whole-table marts from scratch, and
`mart_entity_spikes` in Python from the mentions mart. Views need nothing; `story_clusters` is
rebuilt by the ingest's cluster step (warehouse/stories.py) before the marts are refreshed.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, Engine, TextClause, bindparam, delete, insert, select, text

from warehouse.marts.definitions import MARTS, Mart, mart_table
from warehouse.marts.spikes import as_date, compute_spikes

RECLUSTERED_WEEKS = 9  # story clusters are rebuilt over 60 days, so their weeks are refreshed too
WEEKS_PER_STATEMENT = 200

INCREMENTAL: tuple[Mart, ...] = tuple(m for m in MARTS.values() if m.materialized == "incremental")
WHOLE_FROM_SQL: tuple[Mart, ...] = tuple(
    m for m in MARTS.values() if m.materialized == "table" and m.sql_template is not None
)


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
    weeks = {as_date(r[0]) for r in rows}
    latest = conn.execute(text("SELECT MAX(published_week) FROM articles")).scalar()
    if latest is not None:
        since = as_date(latest) - timedelta(weeks=RECLUSTERED_WEEKS)
        weeks |= {
            as_date(r[0])
            for r in conn.execute(
                text("SELECT DISTINCT published_week FROM articles WHERE published_week >= :s"), {"s": since}
            ).all()
        }
    return sorted(weeks)


def refresh_marts(engine: Engine, run_id: str | None = None) -> dict[str, int]:
    """Recompute mart rows for the weeks a run touched (all weeks when run_id is None).

    One transaction: readers see the old rows or the new ones, and a rerun gives identical rows.
    Returns the row count of each refreshed mart and the number of weeks refreshed.
    """
    from warehouse.dictionary import apply_comments  # it reads the mart definitions: import late

    with engine.begin() as conn:
        weeks = affected_weeks(conn, run_id)
        if weeks is None:
            weeks = _all_weeks(conn)
            for mart in INCREMENTAL:
                conn.execute(text(f"DELETE FROM {mart.name}"))
        _rebuild_weeks(conn, weeks)
        for mart in WHOLE_FROM_SQL:
            conn.execute(text(f"DELETE FROM {mart.name}"))
            conn.execute(_insert_from_sql(conn, mart))
        counts = {mart.name: _row_count(conn, mart) for mart in (*INCREMENTAL, *WHOLE_FROM_SQL)}
        counts["mart_entity_spikes"] = _rebuild_spikes(conn)
        apply_comments(conn)  # PostgreSQL's COMMENT ON from the data dictionary (changed ones only)
    counts["weeks_refreshed"] = len(weeks)
    return counts


def _all_weeks(conn: Connection) -> list[date]:
    rows = conn.execute(
        text("SELECT DISTINCT published_week FROM articles WHERE published_week IS NOT NULL")
    ).all()
    return [as_date(r[0]) for r in rows]


def _rebuild_weeks(conn: Connection, weeks: list[date]) -> None:
    """Delete and re-insert the incremental marts' rows for `weeks`, a slice of weeks at a time."""
    for start in range(0, len(weeks), WEEKS_PER_STATEMENT):
        chunk = {"weeks": weeks[start : start + WEEKS_PER_STATEMENT]}
        for mart in INCREMENTAL:
            conn.execute(_with_weeks(f"DELETE FROM {mart.name} WHERE week_start IN :weeks"), chunk)
            conn.execute(_insert_from_sql(conn, mart), chunk)


def _insert_from_sql(conn: Connection, mart: Mart) -> TextClause:
    sql = f"INSERT INTO {mart.name} ({', '.join(mart.column_names)}) {mart.sql(conn.dialect.name)}"
    return _with_weeks(sql) if ":weeks" in sql else text(sql)


def _with_weeks(sql: str) -> TextClause:
    return text(sql).bindparams(bindparam("weeks", expanding=True))


def _row_count(conn: Connection, mart: Mart) -> int:
    return int(conn.execute(text(f"SELECT COUNT(*) FROM {mart.name}")).scalar_one())


def _rebuild_spikes(conn: Connection) -> int:
    mentions = mart_table("mart_weekly_entity_mentions")
    weekly = conn.execute(
        select(
            mentions.c.week_start,
            mentions.c.entity_id,
            mentions.c.entity_name,
            mentions.c.articles,
            mentions.c.entity_name_zh_hant,
            mentions.c.entity_name_zh_hans,
        )
    ).all()
    chinese = {r[1]: {"entity_name_zh_hant": r[4], "entity_name_zh_hans": r[5]} for r in weekly}
    spikes = [
        spike | chinese[spike["entity_id"]]
        for spike in compute_spikes([(r[0], r[1], r[2], r[3]) for r in weekly])
    ]
    target = mart_table("mart_entity_spikes")
    conn.execute(delete(target))
    if spikes:
        conn.execute(insert(target), spikes)
    return len(spikes)
