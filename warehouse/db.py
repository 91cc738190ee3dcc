"""Engine factory and schema migrations for the warehouse (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

from config.settings import get_settings

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINTs (releasing the outermost one commits);
    # take it over so a load is one real transaction with real savepoints inside.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    return create_engine(url, pool_pre_ping=True)


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url`, or for HKAI_WAREHOUSE_URL; cached per URL."""
    return _engine(url or get_settings().warehouse_url)


def _alembic_config(engine: Engine) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def _migrate(direction: str, url: str | None, revision: str) -> None:
    """Run an Alembic command on the engine's own connection, in one transaction."""
    from alembic import command

    engine = get_engine(url)
    with engine.begin() as connection:
        config = _alembic_config(engine)
        config.attributes["connection"] = connection
        getattr(command, direction)(config, revision)


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Apply migrations up to `revision`; safe to call on every run."""
    _migrate("upgrade", url, revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    _migrate("downgrade", url, revision)


def create_scratch_database(server_url: str, prefix: str = "hkai_scratch") -> str:
    """Create an empty database on a PostgreSQL server and return its URL (tests and benchmarks)."""
    import uuid

    from sqlalchemy import text

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"
