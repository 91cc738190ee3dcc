"""
### Hong Kong AI news: weekly digest

Mondays at 09:00 Hong Kong time, for the previous ISO week, and only on that schedule: the
warehouse's updates never trigger it, so an ingest run never sends. `select_week` waits (it
retries for up to 4 hours) until an ingest whose crawls all started after the week ended has
loaded, and the warehouse passes its quality gate. `render` writes one digest per subscriber
(HTML + text + charts, under `out/digests/<week>/`; the log lists the paths and subjects).
`send` sends each over the `smtp_default` connection **at most once**: a digest whose outcome is
unknown (no final 250 from the relay, a sender that died mid-send) or that failed before DATA
after its retries fails this task and is sent again only by
`hkai digest --resend ADDRESS --week W`. Without an SMTP connection, or with `mode` = dry-run,
nothing is sent. The tasks call `hkai/weekly_digest.py`, which does the work.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, task

from hkai.assets import WAREHOUSE_MARTS
from hkai.notify import notify_failure


@dag(
    schedule=CronTriggerTimetable("0 9 * * 1", timezone="Asia/Hong_Kong"),
    start_date=pendulum.datetime(2025, 11, 3, tz="Asia/Hong_Kong"),
    catchup=False,
    max_active_runs=1,
    tags=["hkai", "digest"],
    default_args={
        "retries": 2,
        "retry_delay": pendulum.duration(minutes=10),
        "on_failure_callback": notify_failure,  # emails HKAI_OPS_EMAIL over smtp_default
    },
    params={
        "week": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Week",
            description="Any date (YYYY-MM-DD) in the ISO week to report; empty: the week before the run.",
        ),
        "mode": Param(
            "send",
            enum=["send", "dry-run"],
            title="Mode",
            description="send: deliver over smtp_default, at most once per subscriber and week; "
            "dry-run: render only (files under out/digests/<week>/).",
        ),
        "recipients": Param(
            [],
            type="array",
            items={"type": "string", "format": "email"},
            title="Recipients",
            description="Only these subscribers (addresses from the subscribers file); empty: all of them.",
        ),
    },
    doc_md=__doc__,
)
def hk_ai_weekly_digest():
    @task(inlets=[WAREHOUSE_MARTS], retries=8, retry_delay=pendulum.duration(minutes=30))
    def select_week(**context) -> str:
        """The ISO week to report (`params.week`, else the week before this run), once it is loaded."""
        from hkai.weekly_digest import choose_week

        try:  # what the latest warehouse update brought, for the log (the check reads the warehouse)
            events = context["inlet_events"][WAREHOUSE_MARTS]
            if events:
                print(f"latest warehouse update: {events[-1].timestamp} {events[-1].extra}")
        except Exception as exc:  # informational only
            print(f"warehouse update events unavailable: {exc}")
        dag_run = context["dag_run"]
        week = choose_week(
            context["params"].get("week"), moment=context.get("logical_date") or dag_run.run_after
        )
        return week.isoformat()

    @task
    def render(week: str, **context) -> dict:
        """Render per-subscriber digests; the log lists each file under the output directory and its subject."""
        from hkai.weekly_digest import preview_lines, render_week

        rendered = render_week(week, only=context["params"].get("recipients") or None)
        print("\n".join(preview_lines(rendered)))
        return rendered

    @task
    def send(rendered: dict, **context) -> dict:
        """Send each rendered .eml at most once; unknown or failed digests fail the task (no retry)."""
        from airflow.sdk.exceptions import AirflowFailException

        from hkai.weekly_digest import DeliveryProblems, deliver, raise_for_problems

        result = deliver(rendered, send=context["params"].get("mode") == "send")
        for recipient, outcome in result["deliveries"].items():
            print(f"{recipient}: {outcome}")
        try:
            raise_for_problems(result)
        except DeliveryProblems as exc:  # a retry would not change them: a person must look
            raise AirflowFailException(str(exc)) from exc
        return result

    send(render(select_week()))  # type: ignore[arg-type]  # TaskFlow passes XComArgs


hk_ai_weekly_digest()
