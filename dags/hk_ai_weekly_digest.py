"""
### Hong Kong AI news: weekly digest

Mondays 09:00 Hong Kong time, and data-aware: a warehouse update (the ingest DAG's marts asset)
also triggers it, so a digest that could not go out on Monday goes out as soon as the data is
there; a run with nothing left to send skips. Each run selects the previous ISO week's stories,
render one digest per subscriber (HTML + text + charts, written to `out/digests/`), then send
each over the `smtp_default` connection exactly once. Without an SMTP connection it is a dry run
that only writes the `.eml` files. The tasks call `hkai/weekly_digest.py`, which does the work.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

WAREHOUSE = Asset("x-hkai://warehouse/marts")


@dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 9 * * 1", timezone="Asia/Hong_Kong"), assets=[WAREHOUSE]
    ),
    start_date=pendulum.datetime(2025, 11, 3, tz="Asia/Hong_Kong"),
    catchup=False,
    max_active_runs=1,
    tags=["hkai", "digest"],
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=10)},
    params={"week": None},
    doc_md=__doc__,
)
def hk_ai_weekly_digest():
    @task
    def select_week(**context) -> str:
        """The ISO week to report: `params.week` if given, else the week before this run."""
        from airflow.sdk.exceptions import AirflowSkipException

        from hkai.weekly_digest import choose_week

        dag_run = context["dag_run"]
        run_type = str(getattr(dag_run.run_type, "value", dag_run.run_type))
        choice = choose_week(
            context["params"].get("week"),
            moment=context.get("logical_date") or dag_run.run_after,
            asset_triggered=run_type == "asset_triggered",
        )
        if choice.skip_reason:
            raise AirflowSkipException(choice.skip_reason)
        return choice.week_start.isoformat()

    @task
    def render(week: str) -> dict:
        """Render per-subscriber digests; the log shows where the preview files are."""
        from hkai.weekly_digest import preview_lines, render_week

        rendered = render_week(week)
        print("\n".join(preview_lines(rendered)))
        return rendered

    @task
    def send(rendered: dict) -> dict:
        """Send each rendered .eml once per (recipient, week); reruns never send twice."""
        from hkai.weekly_digest import deliver

        return deliver(rendered, send=True)

    send(render(select_week()))


hk_ai_weekly_digest()
