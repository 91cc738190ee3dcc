"""Search and BI: full-text search over articles, Chinese names in the marts, a read-only role.

- SQLite: `articles_fts`, an FTS5 table with the trigram tokenizer (it matches Chinese, which has
  no spaces between words) over `articles.title` and `articles.body`, stored as an external-content
  index (no second copy of the text) and kept in sync by triggers, so every writer, rerun or upsert
  keeps it exact; existing articles are indexed here.
- PostgreSQL: `articles.search_vector`, a stored generated tsvector of the Latin-script words of
  title and body, GIN-indexed (English word search), and a pg_trgm GIN index on the text
  (substring search, which is what Chinese needs, since PostgreSQL's parser cannot split Chinese
  into words); plus `hkai_reader`, a NOLOGIN role with SELECT on every
  table and view, now and later (a person grants it LOGIN and a password outside the repo).
- Indexes for the pages: articles by publication time (newest first), co-occurrence pairs by
  either entity.
- The entity marts gain `entity_name_zh_hant` and `entity_name_zh_hans`, filled here from
  `entities` for the rows that exist (the next refresh writes them from the mart SQL).

Everything is a frozen copy: this revision never reads the live models or mart definitions.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

READER = "hkai_reader"
NAMED_MARTS = ("mart_weekly_entity_mentions", "mart_new_entities", "mart_entity_spikes")
ZH_COLUMNS = (("entity_name_zh_hant", "zh_hant"), ("entity_name_zh_hans", "zh_hans"))

SQLITE_TRIGGERS = {
    "articles_fts_ai": """
        CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
          INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
        END""",
    "articles_fts_ad": """
        CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
          INSERT INTO articles_fts(articles_fts, rowid, title, body)
          VALUES ('delete', old.id, old.title, old.body);
        END""",
    "articles_fts_au": """
        CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, body ON articles BEGIN
          INSERT INTO articles_fts(articles_fts, rowid, title, body)
          VALUES ('delete', old.id, old.title, old.body);
          INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
        END""",
}
PG_SEARCH_TEXT = "(title || ' ' || body)"
PG_CJK = (
    "[\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\uff00-\\uffef]"  # kana, CJK, full-width
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for mart in NAMED_MARTS:
        for column, source in ZH_COLUMNS:
            op.add_column(mart, sa.Column(column, sa.String(300), nullable=True))
            op.execute(
                f"UPDATE {mart} SET {column} = "
                f"(SELECT e.{source} FROM entities e WHERE e.id = {mart}.entity_id)"
            )
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE articles_fts USING fts5("
            "title, body, content='articles', content_rowid='id', tokenize='trigram')"
        )
        for sql in SQLITE_TRIGGERS.values():
            op.execute(sql)
        op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # stored, so a recheck or a scan never re-parses the text; Chinese characters become
        # spaces first, so a Latin word written against them ("推動AI發展") is a word of its own
        op.execute(
            "ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
            f"(to_tsvector('english'::regconfig, regexp_replace({PG_SEARCH_TEXT}, '{PG_CJK}', ' ', 'g'))) STORED"
        )
        op.execute("CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)")
        op.execute(
            f"CREATE INDEX ix_articles_search_trgm ON articles USING gin ({PG_SEARCH_TEXT} gin_trgm_ops)"
        )
        _create_reader()
    op.create_index("ix_articles_published_at", "articles", ["published_at"])  # newest-first pages
    # the entity page reads an entity's pairs from either side
    op.create_index("ix_mart_cooccurrence_a", "mart_entity_cooccurrence", ["entity_a", "week_start"])
    op.create_index("ix_mart_cooccurrence_b", "mart_entity_cooccurrence", ["entity_b", "week_start"])


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_mart_cooccurrence_b", "mart_entity_cooccurrence")
    op.drop_index("ix_mart_cooccurrence_a", "mart_entity_cooccurrence")
    op.drop_index("ix_articles_published_at", "articles")
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
    elif dialect == "postgresql":
        _drop_reader()
        op.execute("DROP INDEX IF EXISTS ix_articles_search_trgm")
        op.execute("DROP INDEX IF EXISTS ix_articles_search_vector")
        op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
    for mart in reversed(NAMED_MARTS):
        with op.batch_alter_table(mart) as batch:
            for column, _source in reversed(ZH_COLUMNS):
                batch.drop_column(column)


def _create_reader() -> None:
    """The role is cluster-wide (it may exist from another database, or be made by an administrator);
    the grants are this database's. A migrating user that may not create roles (the compose
    deployment's `hkai`) gets a notice instead of a failed upgrade, and the grants wait for the role."""
    op.execute(
        f"""DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READER}') THEN
                IF (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                  CREATE ROLE {READER} NOLOGIN;
                ELSE
                  RAISE NOTICE 'role {READER} not created: % may not create roles', current_user;
                  RETURN;
                END IF;
              END IF;
              EXECUTE format('GRANT CONNECT ON DATABASE %I TO {READER}', current_database());
              GRANT USAGE ON SCHEMA public TO {READER};
              GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER};
              ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {READER};
            END $$"""
    )


def _drop_reader() -> None:
    op.execute(
        f"""DO $$ BEGIN
              IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READER}') THEN
                ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM {READER};
                REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM {READER};
                REVOKE USAGE ON SCHEMA public FROM {READER};
                EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM {READER}', current_database());
                BEGIN  -- other databases on the server may still grant it something: then it stays
                  DROP ROLE {READER};
                EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN NULL;
                END;
              END IF;
            END $$"""
    )
