"""The data dictionary covers the migrated schema on both databases, becomes PostgreSQL comments,
and the read-only BI role can read everything and change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.exc import ProgrammingError

from warehouse.db import get_engine, upgrade
from warehouse.dictionary import FTS_SHADOW_PREFIX, apply_comments, load_dictionary, missing_from_dictionary
from warehouse.marts import MARTS, refresh_marts

READER = "hkai_reader"


def test_every_migrated_table_and_column_is_documented(warehouse_url: str) -> None:
    upgrade(warehouse_url)
    assert missing_from_dictionary(get_engine(warehouse_url)) == []


def test_the_dictionary_documents_nothing_that_is_not_there(warehouse_url: str) -> None:
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    inspector = inspect(engine)
    present = set(inspector.get_table_names()) | set(inspector.get_view_names())
    for table in load_dictionary():
        if engine.dialect.name not in table.dialects:
            assert table.name not in present, table.name
            continue
        assert table.name in present, table.name
        real = [c["name"] for c in inspector.get_columns(table.name)]
        documented = [c.name for c in table.columns if engine.dialect.name in c.dialects]
        assert documented == real, table.name


def test_entries_are_complete_and_honest_about_time() -> None:
    tables = load_dictionary()
    assert {t.name for t in tables if t.kind == "mart"} == set(MARTS)
    assert {"articles", "article_entities", "crawl_runs", "entities"} <= {t.name for t in tables}
    for table in tables:
        assert table.description and table.columns, table.name
        for column in table.columns:
            assert column.description, (table.name, column.name)
            assert (column.json_shape is not None) == (column.type == "json"), (table.name, column.name)
            if column.type == "datetime":  # stored without an offset: the text must say UTC
                assert "UTC" in column.description, (table.name, column.name)


def test_postgresql_carries_the_dictionary_as_comments(warehouse_url: str) -> None:
    if not warehouse_url.startswith("postgresql"):
        pytest.skip("COMMENT ON is PostgreSQL's")
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    refresh_marts(engine)  # writes the comments
    with engine.connect() as conn:
        for table in load_dictionary():
            if "postgresql" not in table.dialects:
                continue
            comment = conn.execute(
                text("SELECT obj_description(CAST(:t AS regclass), 'pg_class')"), {"t": table.name}
            ).scalar_one()
            assert comment == table.description, table.name
            columns = [c for c in table.columns if "postgresql" in c.dialects]
            for number, column in enumerate(columns, 1):
                comment = conn.execute(
                    text("SELECT col_description(CAST(:t AS regclass), :n)"), {"t": table.name, "n": number}
                ).scalar_one()
                assert comment and comment.startswith(column.description), (table.name, column.name)
                if column.json_shape:
                    assert comment.endswith(column.json_shape), (table.name, column.name)
    with engine.begin() as conn:
        assert apply_comments(conn) == 0, "unchanged comments are not rewritten"


def test_fts_storage_is_skipped_only_on_sqlite(warehouse_url: str) -> None:
    upgrade(warehouse_url)
    names = inspect(get_engine(warehouse_url)).get_table_names()
    shadow = [n for n in names if n.startswith(FTS_SHADOW_PREFIX)]
    assert bool(shadow) == warehouse_url.startswith("sqlite"), shadow


def test_reader_role_reads_everything_and_writes_nothing(warehouse_url: str) -> None:
    if not warehouse_url.startswith("postgresql"):
        pytest.skip("the reader role is PostgreSQL's")
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    with engine.begin() as conn:  # created after the migration: covered by the default privileges
        conn.execute(text("CREATE TABLE later_table (x integer)"))
    relations = inspect(engine).get_table_names() + inspect(engine).get_view_names()
    assert "later_table" in relations and "mart_source_health" in relations
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :r"), {"r": READER}
            ).scalar_one()
            is False
        )
        conn.execute(text(f"SET ROLE {READER}"))
        for name in relations:
            conn.execute(text(f'SELECT * FROM "{name}" LIMIT 1')).all()
        for statement in (
            "INSERT INTO sectors (id, description) VALUES ('x', 'x')",
            "UPDATE articles SET title = 'x'",
            "DELETE FROM mart_weekly_entity_mentions",
            "DROP TABLE articles",
            "CREATE TABLE mine (x integer)",
        ):
            with pytest.raises(ProgrammingError, match="permission denied|must be owner"):
                with conn.begin_nested():
                    conn.execute(text(statement))
        conn.rollback()


def test_reader_role_can_log_in_once_granted(warehouse_url: str) -> None:
    """The README's recipe: a person grants LOGIN and a password; BI tools then read as the role."""
    if not warehouse_url.startswith("postgresql"):
        pytest.skip("the reader role is PostgreSQL's")
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    user = "hkai_bi_test_user"
    with engine.begin() as conn:
        conn.execute(text(f"DROP ROLE IF EXISTS {user}"))
        conn.execute(text(f"CREATE ROLE {user} LOGIN IN ROLE {READER}"))  # trust auth on the test server
    try:
        reader = create_engine(engine.url.set(username=user, password=None))
        with reader.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM articles")).scalar_one() == 0
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text("INSERT INTO sectors (id, description) VALUES ('x', 'x')"))
        reader.dispose()
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {user}"))
            conn.execute(text(f"DROP ROLE {user}"))


def test_a_database_owner_without_superuser_rights_can_upgrade(warehouse_url: str) -> None:
    """As in the compose deployment: the warehouse's owner (no superuser, no CREATEROLE) migrates;
    pg_trgm is a trusted extension, and the existing reader role gets this database's grants."""
    if not warehouse_url.startswith("postgresql"):
        pytest.skip("PostgreSQL roles")
    import uuid

    admin = create_engine(make_url(warehouse_url), isolation_level="AUTOCOMMIT")
    owner, database = f"hkai_owner_{uuid.uuid4().hex[:8]}", f"hkai_owned_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(
            text(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READER}') THEN CREATE ROLE {READER} NOLOGIN; END IF; END $$"
            )
        )
        conn.execute(text(f"CREATE ROLE {owner} LOGIN NOSUPERUSER NOCREATEROLE"))
        conn.execute(text(f'CREATE DATABASE "{database}" OWNER {owner}'))
    url = make_url(warehouse_url).set(username=owner, password=None, database=database)
    try:
        upgrade(url.render_as_string(hide_password=False))
        get_engine(url.render_as_string(hide_password=False)).dispose()
        reader = create_engine(make_url(warehouse_url).set(database=database))
        with reader.connect() as conn:
            conn.execute(text(f"SET ROLE {READER}"))
            assert conn.execute(text("SELECT COUNT(*) FROM articles")).scalar_one() == 0
            assert conn.execute(text("SELECT COUNT(*) FROM mart_source_health")).scalar_one() == 0
        reader.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
            conn.execute(text(f"DROP ROLE {owner}"))
        admin.dispose()
