"""
### Hong Kong AI news: weekly digest

Mondays 09:00 Hong Kong time, and data-aware: a warehouse update (the ingest DAG's marts asset)
also triggers it, so a digest that could not go out on Monday goes out as soon as the data is
there; a run with nothing left to send skips. Each run selects the previous ISO week's stories,
render one digest per subscriber (HTML + text + charts, written to `out/digests/`), then send
each over the `smtp_default` connection exactly once. Without an SMTP connection it is a dry run
that only writes the `.eml` files.
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

        from digest.pipeline import pending_recipients, previous_week, resolve_week
        from warehouse.checks import run_checks

        run_checks()  # the same quality gate as the ingest: a failing warehouse blocks the digest

        requested = context["params"].get("week")
        if requested:
            return resolve_week(requested).isoformat()
        moment = context.get("logical_date") or context["dag_run"].run_after
        week = previous_week(moment)
        run_type = context["dag_run"].run_type
        if str(getattr(run_type, "value", run_type)) == "asset_triggered" and not pending_recipients(week):
            raise AirflowSkipException(f"every digest for the week of {week} has been sent")
        return week.isoformat()

    @task
    def render(week: str) -> dict:
        """Render per-subscriber digests; the log shows where the preview files are."""
        from digest.pipeline import render_week

        rendered = render_week(week)
        for item in rendered["digests"]:
            print(f"digest for {item['recipient']}: {item['stories']} stories")
            print(f"  preview: file://{item['html']}")
            if item.get("png"):
                print(f"  screenshot: file://{item['png']}")
        return rendered

    @task
    def send(rendered: dict) -> dict:
        """Send each rendered .eml once per (recipient, week); reruns never send twice."""
        from digest.pipeline import deliver

        return deliver(rendered, send=True)

    send(render(select_week()))


hk_ai_weekly_digest()
