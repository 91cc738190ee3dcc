"""The data dictionary: every table, view, column and JSON shape of the warehouse, documented once.

Core tables are described in `dictionary.yml`; the marts in their own definitions
(`warehouse/marts/<mart>.yml`), which are joined in here rather than copied. The same text is the
`/hkai/docs` page (`load_dictionary`) and PostgreSQL's `COMMENT ON` (`apply_comments`, run after
every mart refresh, so `\\d+` in psql and BI tools show it). `missing_from_dictionary` lists what a
migration added without documenting it; a test keeps it empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from sqlalchemy import Connection, Engine, inspect, text

from warehouse.marts.definitions import MARTS

DICTIONARY_YML = Path(__file__).resolve().parent / "dictionary.yml"
FTS_SHADOW_PREFIX = "articles_fts_"  # FTS5's own storage tables, documented with articles_fts
Kind = Literal["table", "view", "mart"]


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str
    description: str
    json_shape: str | None = None
    dialects: tuple[str, ...] = ("sqlite", "postgresql")


@dataclass(frozen=True)
class TableDoc:
    name: str
    kind: Kind
    description: str
    columns: list[ColumnDoc]
    dialects: tuple[str, ...] = ("sqlite", "postgresql")


def _flat(value: object) -> str:
    return " ".join(str(value or "").split())


def _table(raw: dict) -> TableDoc:
    columns = [
        ColumnDoc(
            name=str(c["name"]),
            type=str(c["type"]),
            description=_flat(c.get("description")),
            json_shape=_flat(c["json_shape"]) if c.get("json_shape") else None,
            dialects=tuple(c.get("dialects") or ("sqlite", "postgresql")),
        )
        for c in raw.get("columns") or ()
    ]
    doc = TableDoc(
        name=str(raw["name"]),
        kind=raw.get("kind", "table"),
        description=_flat(raw.get("description")),
        columns=columns,
        dialects=tuple(raw.get("dialects") or ("sqlite", "postgresql")),
    )
    if not doc.description or any(not c.description for c in columns):
        raise ValueError(f"{DICTIONARY_YML.name}: {doc.name} needs a description for itself and every column")
    if any((c.type == "json") != (c.json_shape is not None) for c in columns):
        raise ValueError(
            f"{DICTIONARY_YML.name}: {doc.name}: a json_shape for every json column, and only those"
        )
    return doc


@lru_cache(maxsize=1)
def _load(path: Path) -> tuple[TableDoc, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    core = [_table(t) for t in raw.get("tables") or ()]
    marts = [
        TableDoc(
            name=m.name,
            kind="mart",
            description=f"{m.description} (Materialised as a {m.materialized}.)",
            columns=[ColumnDoc(c.name, c.data_type, c.description) for c in m.columns],
        )
        for m in MARTS.values()
    ]
    names = [t.name for t in core + marts]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"documented twice (dictionary.yml and a mart definition): {duplicated}")
    return tuple(sorted(core, key=lambda t: t.name) + marts)


def load_dictionary(path: Path = DICTIONARY_YML) -> list[TableDoc]:
    """Every documented table: core tables (by name), then the marts (by name)."""
    return list(_load(path))


def missing_from_dictionary(engine: Engine) -> list[str]:
    """Tables, views and columns the database has and the dictionary does not, as `table` or `table.column`."""
    docs = {t.name: {c.name for c in t.columns} for t in load_dictionary()}
    inspector = inspect(engine)
    missing: list[str] = []
    for name in sorted(inspector.get_table_names() + inspector.get_view_names()):
        if name.startswith(FTS_SHADOW_PREFIX):
            continue
        if name not in docs:
            missing.append(name)
            continue
        missing += [f"{name}.{c['name']}" for c in inspector.get_columns(name) if c["name"] not in docs[name]]
    return missing


def apply_comments(conn: Connection) -> int:
    """Write the dictionary as COMMENT ON TABLE / VIEW / COLUMN (PostgreSQL; elsewhere a no-op).

    Only comments that differ are written, so running it after every refresh costs a read.
    Returns the number of comments written.
    """
    if conn.dialect.name != "postgresql":
        return 0
    current = {
        (row.relname, row.attname): row.comment
        for row in conn.execute(
            text(
                """
                SELECT c.relname, a.attname, d.description AS comment
                FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                LEFT JOIN pg_description d
                  ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum
                WHERE c.relkind IN ('r', 'v')
                UNION ALL
                SELECT c.relname, '' AS attname, d.description AS comment
                FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
                LEFT JOIN pg_description d
                  ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
                WHERE c.relkind IN ('r', 'v')
                """
            )
        )
    }
    views = set(inspect(conn).get_view_names())
    quote = conn.dialect.identifier_preparer.quote
    written = 0
    for table in load_dictionary():
        if (table.name, "") not in current:
            continue  # documented but not on this database (e.g. SQLite's FTS table)
        wanted = [("", table.description)] + [
            (c.name, f"{c.description} JSON: {c.json_shape}" if c.json_shape else c.description)
            for c in table.columns
        ]
        for column, comment in wanted:
            if (table.name, column) not in current or current[(table.name, column)] == comment:
                continue
            target = (
                f"COLUMN {quote(table.name)}.{quote(column)}"
                if column
                else f"{'VIEW' if table.name in views else 'TABLE'} {quote(table.name)}"
            )
            # COMMENT takes no bind parameters; the text is the repository's own, quoted as a literal
            statement = f"COMMENT ON {target} IS {_literal(comment)}"
            if conn.dialect.paramstyle in ("format", "pyformat"):  # the driver reads % as a placeholder
                statement = statement.replace("%", "%%")
            conn.exec_driver_sql(statement)
            written += 1
    return written


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
