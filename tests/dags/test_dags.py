"""Real Airflow parses the DAG folder, and runs the ingest DAG end to end with `airflow dags test`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO

DAGS = REPO / "dags"


@pytest.fixture(scope="module")
def dagbag():  # type: ignore[no-untyped-def]
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dagbag_has_no_import_errors(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"hk_ai_news_ingest", "hk_ai_weekly_digest", "hk_ai_watchlist_alerts"}


def test_dag_file_names_match_dag_ids() -> None:
    assert sorted(p.stem for p in DAGS.glob("*.py")) == [
        "hk_ai_news_ingest",
        "hk_ai_watchlist_alerts",
        "hk_ai_weekly_digest",
    ]


def test_ingest_structure(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["hk_ai_news_ingest"]
    assert dag.tags and dag.catchup is False
    assert set(dag.task_dict) == {
        "prepare_warehouse",
        "crawl",
        "tag_and_load",
        "quality_checks",
        "refresh_marts",
        "source_health",
        "cluster_stories",
    }
    assert dag.task_dict["prepare_warehouse"].downstream_task_ids == {"crawl"}
    assert dag.task_dict["crawl"].downstream_task_ids == {"tag_and_load"}
    assert dag.task_dict["tag_and_load"].trigger_rule == "all_done"
    assert dag.task_dict["quality_checks"].downstream_task_ids == {"refresh_marts"}
    assert all(t.retries >= 1 for t in dag.tasks)


def test_digest_structure_and_schedule(dagbag) -> None:  # type: ignore[no-untyped-def]
    """Mondays 09:00 HKT only: no asset in the schedule, so an ingest run never starts a send."""
    from airflow.sdk import CronTriggerTimetable

    dag = dagbag.dags["hk_ai_weekly_digest"]
    assert set(dag.task_dict) == {"select_week", "render", "send"}
    assert dag.task_dict["select_week"].downstream_task_ids == {"render"}
    assert dag.task_dict["render"].downstream_task_ids == {"send"}
    assert isinstance(dag.timetable, CronTriggerTimetable)
    timetable = repr(dag.timetable)
    assert "0 9 * * 1" in timetable and "Asia/Hong_Kong" in timetable
    assert "x-hkai" not in timetable and not dag.timetable.asset_condition
    assert dag.catchup is False and dag.max_active_runs == 1
    # a week not loaded yet is waited for: select_week retries for hours, not minutes
    select = dag.task_dict["select_week"]
    assert select.retries * select.retry_delay.total_seconds() >= 3 * 3600
    assert [inlet.uri for inlet in select.inlets] == ["x-hkai://warehouse/marts"]


def test_digest_params_are_typed_and_described(dagbag) -> None:  # type: ignore[no-untyped-def]
    params = dagbag.dags["hk_ai_weekly_digest"].params
    assert set(params) == {"week", "mode", "recipients"}
    for name in params:
        assert params.get_param(name).description
    week, mode, recipients = (params.get_param(n) for n in ("week", "mode", "recipients"))
    assert week.value is None and week.schema["format"] == "date" and "string" in week.schema["type"]
    assert mode.value == "send" and mode.schema["enum"] == ["send", "dry-run"]
    assert recipients.value == [] and recipients.schema["type"] == "array"
    assert week.resolve("2025-11-24") == "2025-11-24" and mode.resolve("dry-run") == "dry-run"
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        mode.resolve("spam")
    with pytest.raises(ParamValidationError):
        recipients.resolve("a@example.org")


def test_ingest_params_are_typed_and_described_from_the_registry(dagbag) -> None:  # type: ignore[no-untyped-def]
    from airflow.sdk.exceptions import ParamValidationError

    from spiders.registry import spider_classes

    params = dagbag.dags["hk_ai_news_ingest"].params
    assert set(params) == {"sources", "since"}
    sources, since = params.get_param("sources"), params.get_param("since")
    assert sources.description and since.description
    # optional in the trigger form: Airflow 3's form marks a field required unless its type allows null
    assert sources.value == [] and sources.schema["type"] == ["array", "null"]
    assert sources.resolve(None) is None and sources.resolve([]) == []  # empty: every source
    assert sources.schema["items"]["enum"] == sorted(spider_classes())  # the registry, read without Scrapy
    assert since.value is None and since.schema["format"] == "date"
    assert sources.resolve(["rthk_en", "hkma"]) == ["rthk_en", "hkma"]
    with pytest.raises(ParamValidationError):
        sources.resolve(["rthk_english"])
    with pytest.raises(ParamValidationError):
        since.resolve("last week")


def test_alert_dag_is_daily_in_hong_kong_with_typed_params(dagbag) -> None:  # type: ignore[no-untyped-def]
    from airflow.sdk import CronTriggerTimetable

    dag = dagbag.dags["hk_ai_watchlist_alerts"]
    assert set(dag.task_dict) == {"find_matches", "send"}
    assert dag.task_dict["find_matches"].downstream_task_ids == {"send"}
    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert "0 8 * * *" in repr(dag.timetable) and "Asia/Hong_Kong" in repr(dag.timetable)
    assert dag.task_dict["send"].retries == 0  # a retry could only resend: outcomes are final
    params = dag.params
    assert set(params) == {"day", "mode"} and all(params.get_param(n).description for n in params)


def test_every_task_of_every_dag_emails_the_operator_on_failure(dagbag) -> None:  # type: ignore[no-untyped-def]
    from hkai.notify import notify_failure

    for dag in dagbag.dags.values():
        for task in dag.tasks:
            callbacks = task.on_failure_callback
            listed = callbacks if isinstance(callbacks, list) else [callbacks]
            assert notify_failure in listed, (dag.dag_id, task.task_id)


def test_the_warehouse_asset_is_declared_once() -> None:
    from hkai.assets import WAREHOUSE_MARTS

    assert WAREHOUSE_MARTS.uri == "x-hkai://warehouse/marts"
    for path in DAGS.glob("*.py"):
        assert "x-hkai://" not in path.read_text(encoding="utf-8"), f"{path.name} declares the asset again"


def test_digest_dag_only_wires_the_orchestration_module() -> None:
    """The digest's decisions live in hkai/weekly_digest.py; the DAG file imports nothing else of
    ours but the shared asset."""
    import ast

    tree = ast.parse((DAGS / "hk_ai_weekly_digest.py").read_text(encoding="utf-8"))
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    modules |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    ours = {m for m in modules if m.split(".")[0] in {"config", "transforms", "warehouse", "digest", "hkai"}}
    assert ours == {"hkai.weekly_digest", "hkai.assets", "hkai.notify"}


def test_dag_files_import_no_heavy_modules() -> None:
    code = (
        "import sys, runpy; runpy.run_path(sys.argv[1]);"
        "heavy = [m for m in ('scrapy', 'pandas', 'trafilatura', 'matplotlib') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    for path in DAGS.glob("*.py"):
        out = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "", f"{path.name} imports {out.stdout.strip()} at parse time"


@pytest.mark.slow
def test_airflow_dags_test_runs_ingest_on_replay_snapshot(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "HKAI_DATA_DIR": str(tmp_path / "data"),
        "HKAI_OUT_DIR": str(tmp_path / "out"),
        "HKAI_CRAWL_MODE": "replay",
    }
    env.pop("HKAI_WAREHOUSE_URL", None)
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    run = subprocess.run(
        [airflow, "dags", "test", "hk_ai_news_ingest", "2025-11-30"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-3000:]
    assert "state=success" in log, log[-3000:]

    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'warehouse.db'}")
    with engine.connect() as conn:
        per_source = dict(conn.execute(text("SELECT source, COUNT(*) FROM articles GROUP BY source")).all())
        runs = conn.execute(
            text("SELECT COUNT(*), SUM(CASE WHEN flagged THEN 1 ELSE 0 END) FROM crawl_runs")
        ).one()
        relevant = conn.execute(text("SELECT COUNT(*) FROM articles WHERE relevant")).scalar_one()
    assert per_source["rthk_zh"] > 3000 and per_source["scmp_tech"] == 4
    assert runs[0] == len(per_source) and runs[1] == 0
    assert 20 < relevant < 600

    digest = subprocess.run(
        [airflow, "dags", "test", "hk_ai_weekly_digest", "2025-12-01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = digest.stdout + digest.stderr
    assert digest.returncode == 0 and "state=success" in log, log[-3000:]
    written = sorted((tmp_path / "out" / "digests" / "2025-11-24").glob("*"))
    assert {p.suffix for p in written} >= {".eml", ".html", ".txt"}
    # the task log points at the files under the output directory, with subjects; no worker paths
    assert "digests/2025-11-24/analyst-example-org-" in log and "«Hong Kong AI weekly: 2025-W48" in log
    assert "file://" not in log
    # the ingest's asset event says what it loaded (read by select_week, for the log)
    assert "latest warehouse update:" in log and "'articles_loaded':" in log and "'weeks_touched':" in log
    assert "analyst@example.org: dry run (.eml written)" in log  # no smtp_default: nothing sent
    from digest.preview import chromium_path

    if chromium_path():
        assert any(p.suffix == ".png" for p in written), "the digest screenshot is missing"

    from warehouse.marts import MARTS

    stored = [mart.name for mart in MARTS.values() if mart.is_table]  # views such as source health move
    assert "mart_weekly_entity_mentions" in stored and "story_clusters" in stored

    def marts() -> dict:
        with engine.connect() as conn:
            return {
                name: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {name}")).all())) for name in stored
            }

    before = marts()
    # A backfill-style run for an earlier week, then a rerun of the first date: the marts must not move.
    for logical_date in ("2025-11-16", "2025-11-30"):
        again = subprocess.run(
            [airflow, "dags", "test", "hk_ai_news_ingest", logical_date],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert again.returncode == 0 and "state=success" in again.stdout + again.stderr
    assert marts() == before
