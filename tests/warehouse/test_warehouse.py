"""Warehouse tests, each on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, inspect, select, text

from tests.paths import DATA, SNAPSHOT
from transforms.dates import HKT
from warehouse.db import downgrade, get_engine, upgrade
from warehouse.load import load_articles, sync_sources
from warehouse.marts import MART_NAMES, MARTS, compute_spikes, mart_rows, refresh_marts
from warehouse.marts.definitions import DATA_TYPES, load_marts
from warehouse.models import Article, ArticleEntity, Entity


class _Source:
    name, title, kind, languages, homepage, verified = (
        "rthk_en",
        "RTHK",
        "rss",
        ("en",),
        "https://news.rthk.hk",
        True,
    )


def _record(n: int, **overrides) -> dict:  # type: ignore[no-untyped-def]
    record = {
        "url": f"https://news.rthk.hk/rthk/en/component/k2/18{n:05d}-20251103.htm?archive_date=2025-11-03",
        "canonical_url": f"https://news.rthk.hk/rthk/en/component/k2/18{n:05d}-20251103.htm",
        "source": "rthk_en",
        "language": "en",
        "title": f"Story {n}",
        "body": f"Body {n} about AI in Hong Kong.",
        "published_at": datetime(2025, 11, 3 + n % 20, 10, 0, tzinfo=HKT).isoformat(),
        "fetched_at": datetime(2025, 11, 29, 12, 0, tzinfo=HKT).isoformat(),
        "authors": [],
        "relevant": True,
        "relevance": 0.9,
        "entities": [
            {"name": "Cyberport", "type": "organisation", "kb_id": "cyberport", "mentions": ["Cyberport"]}
        ],
        "sectors": ["infrastructure"],
        "themes": ["product-launch"],
        "evidence": {
            "entities": {"cyberport": [{"field": "body", "start": 0, "end": 9, "text": "Cyberport"}]}
        },
    }
    record.update(overrides)
    return record


def _prepared_engine(warehouse_url: str):  # type: ignore[no-untyped-def]
    """A migrated warehouse with the test source and the Cyberport entity."""
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    with engine.begin() as conn:
        sync_sources(conn, [_Source()])
        conn.execute(
            Entity.__table__.insert(),
            [
                {
                    "id": "cyberport",
                    "name": "Cyberport",
                    "type": "organisation",
                    "zh_hant": "數碼港",
                    "zh_hans": "数码港",
                    "status": "kb",
                }
            ],
        )
    return engine


@pytest.fixture
def engine(warehouse_url: str):  # type: ignore[no-untyped-def]
    return _prepared_engine(warehouse_url)


def test_migrations_upgrade_and_downgrade(warehouse_url: str) -> None:
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    views = set(inspect(engine).get_view_names())
    tables = set(inspect(engine).get_table_names())
    assert {m for m in MART_NAMES} <= views | tables
    downgrade(warehouse_url)
    assert set(inspect(get_engine(warehouse_url)).get_table_names()) <= {"alembic_version"}
    upgrade(warehouse_url)
    assert "articles" in inspect(get_engine(warehouse_url)).get_table_names()


def test_every_mart_says_what_one_row_is_and_describes_its_columns() -> None:
    assert set(MART_NAMES) >= {"mart_weekly_entity_mentions", "mart_source_health", "story_clusters"}
    for mart in MARTS.values():
        assert mart.description.startswith("One row is"), mart.name
        assert len(mart.description.split()) >= 15, mart.name
        assert mart.columns and len(set(mart.column_names)) == len(mart.columns), mart.name
        assert all(column.description for column in mart.columns), mart.name
        assert (mart.sql_template is None) != (mart.built_by is None), mart.name


def test_declared_mart_columns_are_the_migrated_columns(warehouse_url: str) -> None:
    """Name, order and type of every column of every mart, after `upgrade head`."""
    upgrade(warehouse_url)
    inspector = inspect(get_engine(warehouse_url))
    views = set(inspector.get_view_names())
    for mart in MARTS.values():
        assert (mart.name in views) == (mart.materialized == "view"), mart.name
        real = inspector.get_columns(mart.name)
        assert tuple(c["name"] for c in real) == mart.column_names, mart.name
        for declared, column in zip(mart.columns, real, strict=True):
            assert isinstance(column["type"], DATA_TYPES[declared.data_type]), (mart.name, column)


def test_mart_sql_selects_the_declared_columns(warehouse_url: str) -> None:
    from datetime import date

    from sqlalchemy import bindparam

    upgrade(warehouse_url)
    with get_engine(warehouse_url).connect() as conn:
        for mart in MARTS.values():
            if mart.sql_template is None:
                continue
            query = text(mart.sql(conn.dialect.name))
            if ":weeks" in mart.sql_template:
                query = query.bindparams(bindparam("weeks", expanding=True))
            result = conn.execute(
                query, {"weeks": [date(2025, 11, 3)]} if ":weeks" in mart.sql_template else {}
            )
            assert tuple(result.keys()) == mart.column_names, mart.name


def test_example_queries_run_on_the_marts(warehouse_url: str) -> None:
    """warehouse/queries.sql is documentation; it must still run against the marts as defined."""
    from tests.paths import REPO

    upgrade(warehouse_url)
    script = (REPO / "warehouse" / "queries.sql").read_text(encoding="utf-8")
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    statements = [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
    assert len(statements) >= 6
    with get_engine(warehouse_url).connect() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement).all()


def test_migrations_do_not_import_the_live_schema() -> None:
    """A migration keeps its own copy of what it creates, so an applied one never changes meaning."""
    import ast

    from tests.paths import REPO

    allowed = {"__future__", "collections", "alembic", "sqlalchemy"}
    for path in sorted((REPO / "warehouse" / "migrations" / "versions").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            name.split(".")[0]
            for node in ast.walk(tree)
            for name in (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
        }
        assert imported <= allowed, (path.name, imported - allowed)


def test_mart_definitions_are_checked_when_loaded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "m.yml").write_text(
        "models:\n  - name: m\n    description: One row is x.\n    config: {materialized: view}\n"
        "    columns: [{name: a, data_type: integer, description: a}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="m.sql"):
        load_marts(tmp_path)  # a view needs its SQL
    (tmp_path / "m.sql").write_text("SELECT 1 AS a", encoding="utf-8")
    assert load_marts(tmp_path)["m"].column_names == ("a",)
    (tmp_path / "m.yml").write_text(
        (tmp_path / "m.yml").read_text(encoding="utf-8").replace("integer", "money"), encoding="utf-8"
    )
    with pytest.raises(ValueError, match="data_type"):
        load_marts(tmp_path)


def test_mart_rows_only_reads_defined_marts_and_columns(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unknown mart"):
        mart_rows(engine, "articles")
    for bad in ("week_start; DROP TABLE articles", "nope", "articles DESC NULLS", "week_start sideways"):
        with pytest.raises(ValueError, match="bad order_by"):
            mart_rows(engine, "mart_weekly_entity_mentions", order_by=bad)
    assert mart_rows(engine, "mart_weekly_entity_mentions", order_by="week_start DESC, entity_id") == []


def test_load_is_idempotent(engine) -> None:  # type: ignore[no-untyped-def]
    records = [_record(n) for n in range(10)]
    load_articles(engine, records, "run-1")
    load_articles(engine, records, "run-2")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Article)).scalar_one() == 10
        assert conn.execute(select(func.count()).select_from(ArticleEntity)).scalar_one() == 10
        week = conn.execute(select(Article.published_week).where(Article.title == "Story 0")).scalar_one()
    assert str(week) == "2025-11-03"


def test_hostile_text_round_trips_unchanged(engine) -> None:  # type: ignore[no-untyped-def]
    hostile = (
        'He said "AI" isn\'t \\ magic; <script>alert(1)</script> "><img src=x onerror=alert(1)> 人工智能'
    )
    load_articles(engine, [_record(1, title=hostile, body=hostile + "\n\nDROP TABLE articles; --")], "run-1")
    with engine.connect() as conn:
        title, body = conn.execute(select(Article.title, Article.body)).one()
    assert title == hostile and body.startswith(hostile)


def test_bad_row_is_rejected_with_its_url_and_the_rest_load(engine) -> None:  # type: ignore[no-untyped-def]
    bad = _record(2, source="no-such-source")  # violates the foreign key to sources
    nul = _record(3, body="nul \x00 byte")  # PostgreSQL text cannot hold NUL
    report = load_articles(engine, [_record(1), bad, nul, _record(4)], "run-1")
    assert report.articles >= 2
    assert any(bad["canonical_url"] in reason for reason in report.rejected)
    with engine.connect() as conn:
        titles = set(conn.execute(select(Article.title)).scalars())
    assert {"Story 1", "Story 4"} <= titles and "Story 2" not in titles


def test_marts_exist_and_agree_with_the_articles(engine) -> None:  # type: ignore[no-untyped-def]
    load_articles(engine, [_record(n) for n in range(6)], "run-1")
    refresh_marts(engine)
    mentions = mart_rows(engine, "mart_weekly_entity_mentions", order_by="week_start")
    assert sum(r["articles"] for r in mentions) == 6
    share = mart_rows(engine, "mart_weekly_sector_share")
    assert all(abs(float(r["share"]) - 1.0) < 1e-9 for r in share)
    for name in MART_NAMES:
        if name != "story_clusters":
            mart_rows(engine, name, limit=5)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM mart_new_entities")).scalar_one() == 1


def test_killed_load_leaves_no_partial_rows(engine) -> None:  # type: ignore[no-untyped-def]
    """A load process SIGKILLed after its first chunk of articles and tags was written, uncommitted."""
    import signal
    import subprocess
    import sys

    from tests.paths import REPO
    from warehouse.models import ArticleSector, ArticleTheme, FeedState

    die_mid_load = """
import os, signal, sys
from sqlalchemy import text
import warehouse.load as load
from tests.warehouse.test_warehouse import _record
from warehouse.db import get_engine

original = load._load_chunk
def chunk_then_die(conn, records, run_id):
    result = original(conn, records, run_id)
    for table in ("articles", "article_entities", "article_sectors", "article_themes"):
        print(table, conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one(), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no rollback, no close: the process is gone
load._load_chunk = chunk_then_die
validators = {"rthk_en": {"https://rthk.hk/feed.xml": {"etag": "x"}}}
load.load_articles(get_engine(sys.argv[1]), [_record(n) for n in range(5)], "run-1", validators, chunk_size=3)
"""
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()  # the child alone holds the database while it writes
    child = subprocess.run(
        [sys.executable, "-c", die_mid_load, url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    written = dict(line.split() for line in child.stdout.splitlines())
    # the kill landed mid-load: rows were written inside the open transaction...
    assert {k: int(v) for k, v in written.items()} == {
        "articles": 3,
        "article_entities": 3,
        "article_sectors": 3,
        "article_themes": 3,
    }
    # ...and none of them, nor the feed validators saved at its end, survived it
    with engine.connect() as conn:
        for model in (Article, ArticleEntity, ArticleSector, ArticleTheme, FeedState):
            assert conn.execute(select(func.count()).select_from(model)).scalar_one() == 0, model
    assert load_articles(engine, [_record(n) for n in range(5)], "run-1").articles == 5  # not locked


def test_spike_statistic() -> None:
    from datetime import date, timedelta

    weeks = [date(2025, 10, 6) + timedelta(weeks=k) for k in range(6)]
    rows = [(w, "hkma", "HKMA", 1) for w in weeks[:5]] + [(weeks[5], "hkma", "HKMA", 9)]
    spikes = compute_spikes(rows)
    assert len(spikes) == 1 and spikes[0]["week_start"] == weeks[5]
    assert spikes[0]["baseline"] == 1.0 and spikes[0]["score"] == pytest.approx(8 / 2**0.5, rel=1e-3)


def _real_tagged_records(limit: int = 600) -> list[dict]:
    """Real RTHK items from the snapshot, tagged by the real tagger."""
    import gzip
    import json

    import feedparser

    from transforms.tagging import default_tagger, tag_record
    from transforms.urls import canonical_url

    snapshot = SNAPSHOT
    manifest = [json.loads(line) for line in (snapshot / "manifest.jsonl").read_text().splitlines()]
    records = []
    for entry in manifest:
        if entry["source"] == "rthk_zh" and entry["kind"] == "feed":
            for item in feedparser.parse(gzip.decompress((snapshot / entry["file"]).read_bytes())).entries:
                records.append(
                    tag_record(
                        {
                            "url": item.link,
                            "canonical_url": canonical_url(item.link),
                            "source": "rthk_en",
                            "language": "zh-Hant",
                            "title": item.title,
                            "body": item.summary,
                            "authors": [],
                            "published_at": datetime(*item.published_parsed[:6], tzinfo=HKT.utc).isoformat(),
                            "fetched_at": datetime(2025, 12, 1, tzinfo=HKT).isoformat(),
                        },
                        default_tagger(),
                    )
                )
    relevant = [r for r in records if r["relevant"]]
    return (relevant + [r for r in records if not r["relevant"]])[:limit]


def test_sqlite_and_postgresql_give_identical_marts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from tests.conftest import _fresh_postgres

    if not os.environ.get("HKAI_TEST_POSTGRES_URL"):
        pytest.skip("needs PostgreSQL")
    records = _real_tagged_records()
    results = []
    for url in (f"sqlite:///{tmp_path / 'a.db'}", _fresh_postgres(os.environ["HKAI_TEST_POSTGRES_URL"])):
        upgrade(url)
        engine = get_engine(url)
        from hkai.ingest import prepare_warehouse  # noqa: F401  (KB sync below uses the same code)
        from spiders.registry import sources
        from transforms.kb import load_entities
        from warehouse.load import sync_kb_entities

        with engine.begin() as conn:
            sync_sources(conn, sources())
            sync_kb_entities(conn, load_entities().values())
        load_articles(engine, records, "run-1")
        refresh_marts(engine)
        snapshot = {}
        for name in MART_NAMES:
            if name in {"mart_source_health", "story_clusters"}:
                continue
            rows = mart_rows(engine, name)
            snapshot[name] = sorted(
                tuple(
                    str(v)[:10]
                    if k == "week_start"
                    else str(v)[:19]
                    if k == "first_seen_at"
                    else (
                        round(float(v), 4)
                        if isinstance(v, float) or type(v).__name__ == "Decimal"
                        else str(v)
                    )
                    for k, v in sorted(row.items())
                )
                for row in rows
            )
        results.append(snapshot)
    assert results[0]["mart_weekly_entity_mentions"], "the sample must produce mentions"
    for name in results[0]:
        assert results[0][name] == results[1][name], name


def test_quality_gate_catches_lost_rows_and_bad_values(warehouse_url: str) -> None:
    from warehouse.checks import QualityCheckFailed, run_checks
    from warehouse.load import record_load_audit

    engine = _prepared_engine(warehouse_url)
    report = load_articles(engine, [_record(n) for n in range(5)], "run-1")
    record_load_audit(engine, "run-1", staged=5, loaded=report.articles, rejected=0)
    assert run_checks(engine)["row count vs previous run"] == 0
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM article_entities"))
        conn.execute(text("DELETE FROM articles WHERE title = 'Story 0'"))
    record_load_audit(engine, "run-2", staged=3, loaded=1, rejected=0)  # 2 staged items unaccounted for
    with pytest.raises(QualityCheckFailed, match="row count"):
        run_checks(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE entities SET type = 'place' WHERE id = 'cyberport'"))
    with pytest.raises(QualityCheckFailed, match="entities.type accepted values"):
        run_checks(engine)


def test_new_names_keep_what_proposed_them(engine) -> None:  # type: ignore[no-untyped-def]
    """A new name's row says whether a pattern or the mention model proposed it, with the model's
    probability; a reload writes no second row. (A real labelled item: an HKU laboratory press release,
    its address in tests/data/tagging.)"""
    import json

    from transforms.tagging import default_tagger, tag_record

    lines = (DATA / "tagging" / "dev_read_blind10_web_en.jsonl").read_text(encoding="utf-8").splitlines()
    item = next(json.loads(line) for line in lines if '"web-laotiantimes-7de3a879"' in line)
    record = tag_record(
        _record(0, url=item["url"], canonical_url=item["url"], title=item["title"], body=item["body"]),
        default_tagger(),
    )
    record["entities"] = [e for e in record["entities"] if not e["kb_id"]]  # only the new names
    by = {e["name"]: e["found_by"] for e in record["entities"]}
    assert by["Getech Technology"] == "pattern" and by["TCL Industries"] == "model"
    load_articles(engine, [record], "run-1")
    load_articles(engine, [record], "run-2")
    with engine.connect() as conn:
        rows = dict(conn.execute(select(ArticleEntity.entity_id, ArticleEntity.evidence)).all())
    assert len(rows) == len(record["entities"])
    assert rows["cand:company:Getech Technology"] == [{"found_by": "pattern"}]
    [model_evidence] = rows["cand:company:TCL Industries"]
    assert model_evidence["found_by"] == "model" and 0.5 <= model_evidence["probability"] <= 1.0
