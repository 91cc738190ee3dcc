"""Export a mart as CSV or Parquet, for spreadsheets, notebooks and BI tools (`hkai export`, `/hkai/export`).

A mart is read through its definition, so only the declared marts and columns can be exported.
Rows are ordered by the mart's columns (the same bytes for the same data). Timestamps, stored as
UTC without an offset, are exported timezone-aware (UTC), so no reader has to guess; CSV is UTF-8.
"""

from __future__ import annotations

import io
from typing import Literal

import pandas as pd
from sqlalchemy import Engine, select

from warehouse.marts.definitions import MART_NAMES, MARTS

FORMATS: tuple[str, ...] = ("csv", "parquet")
Format = Literal["csv", "parquet"]


def mart_frame(engine: Engine, mart: str) -> pd.DataFrame:
    """One mart as a DataFrame with its declared columns; ValueError naming the marts for any other name."""
    if mart not in MARTS:
        raise ValueError(f"unknown mart {mart!r}; the marts are: {', '.join(MART_NAMES)}")
    definition = MARTS[mart]
    table = definition.table()
    query = select(table).order_by(*table.c)
    with engine.connect() as conn:
        frame = pd.read_sql(query, conn)
    frame = frame.reindex(columns=list(definition.column_names))
    for column in definition.columns:
        if column.data_type == "datetime":
            frame[column.name] = pd.to_datetime(frame[column.name]).dt.tz_localize("UTC")
        elif column.data_type == "date":
            frame[column.name] = pd.to_datetime(frame[column.name]).dt.date
        elif column.data_type == "boolean":
            frame[column.name] = frame[column.name].astype("boolean")
    return frame


def frame_bytes(frame: pd.DataFrame, fmt: Format) -> bytes:
    """A frame as CSV (UTF-8, header row, no index) or Parquet (pyarrow) bytes."""
    if fmt == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, engine="pyarrow", index=False)
        return buffer.getvalue()
    raise ValueError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")


def export_mart(engine: Engine, mart: str, fmt: Format) -> bytes:
    """The whole mart as CSV or Parquet bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return frame_bytes(mart_frame(engine, mart), fmt)
