"""Trend tables for the terminal (`hkai trends`, the end of `make demo`), as pandas frames.

The frames come straight from the marts, so what the terminal shows is what SQL users query.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from warehouse.db import get_engine


def _read(engine: Engine, sql: str) -> pd.DataFrame:
    frame = pd.read_sql_query(sql, engine)
    if "week_start" in frame:
        frame["week_start"] = pd.to_datetime(frame["week_start"]).dt.strftime("%Y-%m-%d")
    return frame


def weekly_volume(engine: Engine) -> pd.DataFrame:
    """AI-in-HK articles and all articles per week."""
    frame = _read(engine, "SELECT week_start, articles, all_articles FROM mart_weekly_source_volume")
    return frame.groupby("week_start")[["articles", "all_articles"]].sum().astype(int)


def entity_weeks(engine: Engine, weeks: list[str], top: int) -> pd.DataFrame:
    """The `top` entities by articles over `weeks`, one column per week."""
    frame = _read(engine, "SELECT week_start, entity_name, articles FROM mart_weekly_entity_mentions")
    table = frame.pivot_table(
        index="entity_name", columns="week_start", values="articles", aggfunc="sum", fill_value=0
    )
    table = table.reindex(columns=weeks, fill_value=0).astype(int)
    order = table.sum(axis=1).sort_values(ascending=False, kind="stable")
    return table.loc[order.index[:top]]


def sector_share_weeks(engine: Engine, weeks: list[str]) -> pd.DataFrame:
    """Each sector's share (%) of the week's AI-in-HK articles, one column per week."""
    frame = _read(engine, "SELECT week_start, sector, share FROM mart_weekly_sector_share")
    table = frame.pivot_table(
        index="sector", columns="week_start", values="share", aggfunc="sum", fill_value=0
    )
    order = table.sum(axis=1).sort_values(ascending=False, kind="stable").index
    return (table.loc[order].reindex(columns=weeks, fill_value=0) * 100).round().astype(int)


def source_totals(engine: Engine) -> pd.DataFrame:
    frame = _read(engine, "SELECT source, articles, all_articles FROM mart_weekly_source_volume")
    return frame.groupby("source")[["articles", "all_articles"]].sum().astype(int).sort_index()


def _week_table(table: pd.DataFrame, label: str, width: int) -> list[str]:
    header = "  " + f"{label:<{width}}" + "".join(f"{week[5:]:>7}" for week in table.columns)
    rows = [
        "  " + f"{str(name)[: width - 1]:<{width}}" + "".join(f"{value:>7}" for value in values)
        for name, values in zip(table.index, table.to_numpy().tolist(), strict=True)
    ]
    return [header, *rows]


def trends_text(engine: Engine, weeks: int = 5, top: int = 8) -> str:
    """The four trend tables as plain text, for the last `weeks` weeks with data."""
    volume = weekly_volume(engine)
    shown = list(volume.index[-weeks:])
    lines = ["", "Weekly volume (week starting Monday, HKT): AI-in-HK articles / all articles"]
    lines += [f"  {week}  {row.articles:>4} / {row.all_articles:>5}" for week, row in volume.iterrows()]
    lines += ["", f"Top entities by week (articles mentioning them; last {len(shown)} weeks)"]
    lines += _week_table(entity_weeks(engine, shown, top), "entity", 44)
    lines += ["", "Sector share of AI-in-HK articles by week (%)"]
    lines += _week_table(sector_share_weeks(engine, shown), "sector", 16)
    lines += ["", "Articles per source (AI-in-HK / all)"]
    lines += [
        f"  {source:<16} {row.articles:>4} / {row.all_articles:>5}"
        for source, row in source_totals(engine).iterrows()
    ]
    return "\n".join(lines)


def print_trends(weeks: int = 5, top: int = 8) -> None:
    print(trends_text(get_engine(), weeks=weeks, top=top))
