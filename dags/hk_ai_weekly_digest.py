"""
### Hong Kong AI news: weekly digest

Mondays 09:00 Hong Kong time: select the previous ISO week's stories from the warehouse,
render one digest per subscriber (HTML + text + charts, written to `out/digests/`), then send
each over the `smtp_default` connection exactly once. Without an SMTP connection it is a dry run
that only writes the `.eml` files.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(
    schedule="0 9 * * 1",
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
        from digest.pipeline import previous_week, resolve_week

        requested = context["params"].get("week")
        if requested:
            return resolve_week(requested).isoformat()
        moment = context.get("logical_date") or context["dag_run"].run_after
        return previous_week(moment).isoformat()

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
