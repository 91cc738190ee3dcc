"""Mart definitions, one place per mart: `<name>.yml` says what one row is and lists the columns, and
`<name>.sql` (when SQL builds the mart) is the SELECT that makes the rows, the layout of dbt's
`models/marts/orders.yml` + `orders.sql`.

`config.materialized` says how a mart is kept:

- `incremental`: a table whose rows are rebuilt per week; the SQL reads the weeks from `:weeks`.
- `table`: a table rebuilt whole, from its SQL or, without one, by the Python named in `meta.built_by`.
- `view`: a view created by a migration; the SQL is its body (a migration freezes its own copy).

A `.sql` file is a Jinja template with one variable, `dialect` ("sqlite" or "postgresql").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import yaml
from jinja2 import Environment, StrictUndefined

HERE = Path(__file__).resolve().parent
MATERIALIZATIONS = ("incremental", "table", "view")
DATA_TYPES: dict[str, type[sa.types.TypeEngine]] = {
    "string": sa.String,
    "integer": sa.Integer,
    "float": sa.Float,
    "boolean": sa.Boolean,
    "date": sa.Date,
    "datetime": sa.DateTime,
}
# SQL, not HTML: the templates only branch on the dialect and never interpolate data.
_SQL = Environment(undefined=StrictUndefined, autoescape=False)  # noqa: S701


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str


@dataclass(frozen=True)
class Mart:
    name: str
    description: str
    materialized: str
    columns: tuple[Column, ...]
    sql_template: str | None = None
    built_by: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def is_table(self) -> bool:
        return self.materialized != "view"

    def sql(self, dialect: str) -> str:
        """The mart's SELECT for one SQL dialect."""
        if self.sql_template is None:
            raise ValueError(f"{self.name} is built in Python ({self.built_by}), not by SQL")
        return _SQL.from_string(self.sql_template).render(dialect=dialect).strip()

    def table(self) -> sa.TableClause:
        """The mart as a typed SQLAlchemy table, for reading it with `select()`."""
        return sa.table(self.name, *(sa.column(c.name, DATA_TYPES[c.data_type]()) for c in self.columns))


def _column(raw: dict) -> Column:
    if raw.get("data_type") not in DATA_TYPES:
        raise ValueError(f"column {raw.get('name')!r}: data_type must be one of {sorted(DATA_TYPES)}")
    return Column(str(raw["name"]), raw["data_type"], " ".join(str(raw.get("description", "")).split()))


def _mart(raw: dict, folder: Path) -> Mart:
    name = str(raw["name"])
    sql_path = folder / f"{name}.sql"
    mart = Mart(
        name=name,
        description=" ".join(str(raw.get("description", "")).split()),
        materialized=(raw.get("config") or {}).get("materialized", ""),
        columns=tuple(_column(c) for c in raw.get("columns") or ()),
        sql_template=sql_path.read_text(encoding="utf-8") if sql_path.exists() else None,
        built_by=(raw.get("meta") or {}).get("built_by"),
    )
    if mart.materialized not in MATERIALIZATIONS:
        raise ValueError(f"{name}: config.materialized must be one of {MATERIALIZATIONS}")
    if (mart.sql_template is None) == (mart.built_by is None):
        raise ValueError(f"{name}: needs exactly one of {name}.sql or meta.built_by")
    if mart.materialized in ("incremental", "view") and mart.sql_template is None:
        raise ValueError(f"{name}: an {mart.materialized} mart is built by SQL")
    return mart


def load_marts(folder: Path = HERE) -> dict[str, Mart]:
    """Every mart defined in `folder`, by name (sorted)."""
    marts = [
        _mart(raw, folder)
        for path in sorted(folder.glob("*.yml"))
        for raw in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", [])
    ]
    return {mart.name: mart for mart in sorted(marts, key=lambda m: m.name)}


MARTS: dict[str, Mart] = load_marts()
MART_NAMES: tuple[str, ...] = tuple(MARTS)


def mart(name: str) -> Mart:
    """The definition of one mart; ValueError for a name that is not a mart."""
    if name not in MARTS:
        raise ValueError(f"unknown mart {name!r}")
    return MARTS[name]


def mart_table(name: str) -> sa.TableClause:
    """Shorthand for `mart(name).table()`."""
    return mart(name).table()
