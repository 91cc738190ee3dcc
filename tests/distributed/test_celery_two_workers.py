"""The ingest DAG on a real two-worker CeleryExecutor cluster gives the marts of a single-machine run.

`make test-distributed` starts the cluster (tests/distributed/run_cluster.sh) and sets the
`HKAI_DISTRIBUTED_*` variables; without them this module is skipped, so `make test` never runs it.
The test triggers `hk_ai_news_ingest` on the replay snapshot and meanwhile runs the same ingest on
one machine (`hkai run`) into a separate warehouse. Then it checks that the DAG run succeeded (or
failed only on sources the single-machine run flags too), that tasks ran on both workers, and that
every mart is identical, row by row, to the single-machine run's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.paths import REPO

DAG_ID = "hk_ai_news_ingest"
RUN_DIR = os.environ.get("HKAI_DISTRIBUTED_RUN_DIR")

pytestmark = [
    pytest.mark.distributed,
    pytest.mark.skipif(not RUN_DIR, reason="needs the cluster of `make test-distributed`"),
]

# Mart columns that say when or how long something was computed, or by which run: they differ
# between two runs by construction and are the only values not compared.
NOT_COMPARED = {"mart_source_health": {"run_started_at", "duration_s", "run_id"}}
COMPUTED_AT = {"computed_at", "refreshed_at", "updated_at", "built_at"}
# Tasks that must succeed whatever the crawls did (tag_and_load runs when all crawls are done).
PUBLISHING_TASKS = {"prepare_warehouse", "tag_and_load", "cluster_stories", "quality_checks", "refresh_marts"}


def _env(name: str) -> str:
    value = os.environ.get(name)
    assert value, f"{name} is not set (run `make test-distributed`)"
    return value


def _airflow(*args: str) -> None:
    airflow = str(Path(sys.executable).with_name("airflow"))
    done = subprocess.run([airflow, *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"airflow {' '.join(args)}:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"


def _wait(what: str, seconds: float, probe: Callable[[], Any], every: float = 1.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(every)
    pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}")


# -- the single-machine reference ---------------------------------------------------------------------


@pytest.fixture
def reference_run(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`hkai run` (the same ingest, no Airflow) into its own warehouse; stopped if the test fails."""
    # the cluster's marker stays, so run_cluster.sh stops this run too if pytest is killed
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "HKAI_")) or k == "HKAI_CLUSTER_RUN"
    }
    env.update(
        HKAI_WAREHOUSE_URL=_env("HKAI_DISTRIBUTED_REFERENCE"),
        HKAI_CRAWL_MODE="replay",
        HKAI_SNAPSHOT_DIR=str(REPO / "snapshots" / "demo"),
        HKAI_DATA_DIR=str(tmp_path / "data"),
        HKAI_OUT_DIR=str(tmp_path / "out"),
        HOME=str(tmp_path),
        TMPDIR=str(tmp_path),
    )
    with (tmp_path / "hkai-run.log").open("wb") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("hkai")), "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its crawl processes are stopped with it
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)


# -- Airflow's metadata ---------------------------------------------------------------------------------


def _task_instances(airflow_db: Engine, run_id: str) -> list[dict[str, Any]]:
    with airflow_db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT task_id, map_index, rendered_map_index, state, hostname, start_date, end_date "
                "FROM task_instance WHERE dag_id = :dag AND run_id = :run "
                "ORDER BY start_date NULLS LAST, task_id, map_index"
            ),
            {"dag": DAG_ID, "run": run_id},
        ).mappings()
        return [dict(row) for row in rows]


def _task_log_tail(run_id: str, task_id: str, map_index: int, lines: int = 40) -> str:
    """The end of a task's log, from whichever worker's AIRFLOW_HOME holds it."""
    pattern = f"*/airflow/logs/dag_id={DAG_ID}/run_id={run_id}/task_id={task_id}/"
    pattern += f"map_index={map_index}/*.log" if map_index >= 0 else "*.log"
    found = [
        f"--- {path}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        for path in sorted(Path(_env("HKAI_DISTRIBUTED_RUN_DIR")).glob(pattern))
    ]
    return "\n".join(found) or f"(no log found for {task_id}[{map_index}])"


def _run_dag(airflow_db: Engine) -> tuple[str, str, float]:
    """Trigger the ingest DAG and wait for its run to end: (run id, state, seconds)."""

    def parsed() -> bool:
        with airflow_db.connect() as conn:
            query = text("SELECT 1 FROM serialized_dag WHERE dag_id = :dag")
            return conn.execute(query, {"dag": DAG_ID}).first() is not None

    _wait("the dag-processor to parse the DAG", 120, parsed)
    run_id = f"distributed__{datetime.now(UTC):%Y%m%dT%H%M%S}"
    _airflow("dags", "unpause", DAG_ID)
    _airflow("dags", "trigger", DAG_ID, "--run-id", run_id)
    triggered = time.monotonic()

    def finished() -> str | None:
        for t in _task_instances(airflow_db, run_id):
            if t["state"] == "up_for_retry":  # the DAG's retry delay is minutes: fail now, with why
                pytest.fail(
                    f"{t['task_id']}[{t['rendered_map_index'] or t['map_index']}] failed on "
                    f"{t['hostname']}:\n{_task_log_tail(run_id, t['task_id'], t['map_index'])}"
                )
        with airflow_db.connect() as conn:
            state = conn.execute(
                text("SELECT state FROM dag_run WHERE dag_id = :dag AND run_id = :run"),
                {"dag": DAG_ID, "run": run_id},
            ).scalar()
        return state if state in ("success", "failed") else None

    state = _wait(f"DAG run {run_id}", 330, finished, every=2.0)
    seconds = time.monotonic() - triggered
    _airflow("dags", "pause", DAG_ID)
    return run_id, state, seconds


def _print_tasks(run_id: str, state: str, seconds: float, tis: list[dict[str, Any]]) -> list[dict[str, Any]]:
    table = [
        {
            "task": t["task_id"] + (f"[{t['rendered_map_index']}]" if t["map_index"] >= 0 else ""),
            "state": t["state"],
            "worker": t["hostname"],
            "seconds": round((t["end_date"] - t["start_date"]).total_seconds(), 1) if t["end_date"] else None,
        }
        for t in tis
    ]
    print(f"\nDAG run {run_id}: {state} in {seconds:.0f} s after the trigger")
    for row in table:
        print(f"  {row['task']:<34} {row['state']:<10} {row['worker']:<10} {row['seconds']} s")
    print(f"  tasks per worker: {dict(Counter(t['hostname'] for t in tis))}")
    return table


# -- the warehouses --------------------------------------------------------------------------------------


def _flagged(warehouse: Engine) -> dict[str, str]:
    with warehouse.connect() as conn:
        rows = conn.execute(text("SELECT source, flag_reason FROM crawl_runs WHERE flagged")).all()
    return {source: reason for source, reason in rows}


def _mart_rows(warehouse: Engine, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Every row of a mart, comparable across two warehouses: article ids become canonical URLs
    (ids are given in load order, which the order the crawls finish in decides), floats are rounded
    to 9 decimals (a SUM may add its terms in another order), and only NOT_COMPARED/COMPUTED_AT
    columns are left out."""
    with warehouse.connect() as conn:
        urls = dict(conn.execute(text("SELECT id, canonical_url FROM articles")).all())
        result = conn.execute(text(f"SELECT * FROM {name}"))  # noqa: S608 - a mart's name, not input
        columns = [c for c in result.keys() if c not in NOT_COMPARED.get(name, set()) | COMPUTED_AT]
        rows = []
        for row in result.mappings():
            values = []
            for column in columns:
                value = row[column]
                if column == "article_id" or column.endswith("_article_id"):
                    value = urls.get(value, f"missing article {value}")
                elif isinstance(value, float):
                    value = round(value, 9)
                values.append(value)
            rows.append(tuple(values))
    return columns, sorted(rows, key=repr)


def _compare_marts(distributed: Engine, reference: Engine) -> tuple[dict[str, int], list[str]]:
    """Rows per mart, and the differences between the two warehouses (none expected)."""
    from warehouse.marts import MART_NAMES

    rows, differences = {}, []
    for name in MART_NAMES:
        columns, here = _mart_rows(distributed, name)
        ref_columns, there = _mart_rows(reference, name)
        assert columns == ref_columns, name
        rows[name] = len(here)
        if here != there:
            only_here = [r for r in here if r not in there][:5]
            only_there = [r for r in there if r not in here][:5]
            differences.append(f"{name}: only distributed {only_here}; only single machine {only_there}")
    return rows, differences


# -- the test --------------------------------------------------------------------------------------------


def test_ingest_on_two_celery_workers_matches_a_single_machine_run(
    reference_run: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    started = time.monotonic()
    airflow_db = create_engine(_env("HKAI_DISTRIBUTED_AIRFLOW_DB"))
    distributed = create_engine(_env("HKAI_DISTRIBUTED_WAREHOUSE"))
    reference = create_engine(_env("HKAI_DISTRIBUTED_REFERENCE"))
    workers = set(_env("HKAI_DISTRIBUTED_WORKERS").split(","))
    assert len(workers) == 2

    run_id, state, seconds = _run_dag(airflow_db)
    assert reference_run.wait(timeout=300) in (0, 3), (tmp_path / "hkai-run.log").read_text()[-3000:]
    tis = _task_instances(airflow_db, run_id)
    table = _print_tasks(run_id, state, seconds, tis)

    # 1. The run succeeded, or failed only on sources the single-machine run flags too.
    flagged_there = _flagged(reference)
    flagged_here = {
        t["rendered_map_index"] for t in tis if t["task_id"] == "crawl" and t["state"] == "failed"
    }
    print(f"  flagged: distributed {sorted(flagged_here)}, single machine {sorted(flagged_there)}")
    for t in tis:
        if t["state"] == "success":
            continue
        log = _task_log_tail(run_id, t["task_id"], t["map_index"])
        if t["task_id"] == "crawl":
            assert t["rendered_map_index"] in flagged_there, log
        else:
            assert t["task_id"] == "source_health" and flagged_there, log
    assert flagged_here == set(flagged_there) == set(_flagged(distributed))
    assert state == "success" or flagged_there
    assert all(t["state"] == "success" for t in tis if t["task_id"] in PUBLISHING_TASKS)

    # 2. Tasks ran on both workers, and the load used what crawls on the other worker staged.
    per_worker = Counter(t["hostname"] for t in tis)
    assert set(per_worker) == workers, f"task hostnames {dict(per_worker)}, expected both of {workers}"
    load_host = next(t["hostname"] for t in tis if t["task_id"] == "tag_and_load")
    assert {t["hostname"] for t in tis if t["task_id"] == "crawl"} - {load_host}, (
        "no hand-off between workers"
    )

    # 3. The same articles and, mart by mart, the same rows as on one machine.
    count = "SELECT source, COUNT(*), SUM(CASE WHEN relevant THEN 1 ELSE 0 END) FROM articles GROUP BY source"
    with distributed.connect() as a, reference.connect() as b:
        assert sorted(a.execute(text(count)).all()) == sorted(b.execute(text(count)).all())
    rows, differences = _compare_marts(distributed, reference)
    print(f"  marts compared row by row (rows): {rows}")
    summary = {
        "run_id": run_id,
        "state": state,
        "dag_seconds": round(seconds),
        "test_seconds": round(time.monotonic() - started),
        "tasks": table,
        "tasks_per_worker": dict(per_worker),
        "marts_rows": rows,
        "marts_identical": not differences,
        "not_compared": {k: sorted(v) for k, v in NOT_COMPARED.items()},
    }
    (Path(_env("HKAI_DISTRIBUTED_RUN_DIR")) / "summary.json").write_text(
        json.dumps(summary, indent=1, default=str)
    )
    assert not differences, "\n".join(differences)
    assert sum(rows.values()) > 0
