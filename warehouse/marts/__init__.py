"""The marts: the warehouse's public interface (names and columns are stable).

Each mart is defined once in this folder: `<name>.yml` (what one row is, its columns and how it is
materialised) and, when SQL builds it, `<name>.sql`. `definitions.py` loads them; `refresh.py`
keeps the tables current after a load; `reads.py` reads a mart by name; `spikes.py` computes
`mart_entity_spikes`. Migrations never import these: each keeps its own frozen copy of the schema.
"""

from __future__ import annotations

from warehouse.marts.definitions import MART_NAMES, MARTS, Column, Mart, mart, mart_table
from warehouse.marts.reads import mart_rows
from warehouse.marts.refresh import affected_weeks, refresh_marts
from warehouse.marts.spikes import compute_spikes

__all__ = [
    "MARTS",
    "MART_NAMES",
    "Column",
    "Mart",
    "affected_weeks",
    "compute_spikes",
    "mart",
    "mart_rows",
    "mart_table",
    "refresh_marts",
]
