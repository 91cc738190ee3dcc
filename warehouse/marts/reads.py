"""Read a mart by its public name, through its definition (names and columns are checked)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Engine, select

from warehouse.marts.definitions import Mart, mart


def mart_rows(
    engine: Engine, name: str, order_by: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Rows of one mart as dicts of its declared columns.

    `order_by` is "column [ASC|DESC], ..." over declared columns; anything else is a ValueError.
    """
    definition = mart(name)
    query = select(definition.table())
    if order_by:
        query = query.order_by(*_order_by(definition, order_by))
    if limit:
        query = query.limit(int(limit))
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def _order_by(definition: Mart, order_by: str) -> list[ColumnElement[Any]]:
    columns = definition.table().c
    clauses: list[ColumnElement[Any]] = []
    for part in order_by.split(","):
        words = part.split()
        direction = words[1].lower() if len(words) == 2 else "asc"
        if not words or len(words) > 2 or words[0] not in columns or direction not in ("asc", "desc"):
            raise ValueError(f"bad order_by {order_by!r} for {definition.name}")
        clauses.append(columns[words[0]].desc() if direction == "desc" else columns[words[0]].asc())
    return clauses
