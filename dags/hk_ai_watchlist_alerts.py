"""
### Hong Kong AI news: watchlist alerts

Daily at 08:00 Hong Kong time, for the Hong Kong day before. Subscribers who list
`watch_entities` (knowledge-base ids) or `watch_sectors` in the subscribers file get a short
alert when a watched entity spikes against its 4-week baseline or a new name appears in a
watched sector, listing the stories and the reason, in their frame language (en or 繁體中文).
`find_matches` records every watcher's outcome in `alert_deliveries` (`pending`, or `nothing`
when nothing matched: logged and recorded, never silent). `send` sends each pending alert over
`smtp_default` **at most once** per (recipient, day): a rerun sends nothing more, an ambiguous
send becomes `unknown` (never resent), and a refused one is counted as `failed` without stopping
the others (the task then fails so a person looks). The tasks call `hkai/alerts.py`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, task

from hkai.notify import notify_failure


@dag(
    schedule=CronTriggerTimetable("0 8 * * *", timezone="Asia/Hong_Kong"),
    start_date=pendulum.datetime(2025, 11, 3, tz="Asia/Hong_Kong"),
    catchup=False,
    max_active_runs=1,
    tags=["hkai", "alerts"],
    default_args={
        "retries": 2,
        "retry_delay": pendulum.duration(minutes=10),
        "on_failure_callback": notify_failure,
    },
    params={
        "day": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Day",
            description="The Hong Kong day (YYYY-MM-DD) whose news to check; empty: the day before the run.",
        ),
        "mode": Param(
            "send",
            enum=["send", "dry-run"],
            title="Mode",
            description="send: deliver over smtp_default, at most once per subscriber and day; "
            "dry-run: write the alerts under out/alerts/<day>/ only.",
        ),
    },
    doc_md=__doc__,
)
def hk_ai_watchlist_alerts():
    @task
    def find_matches(**context) -> dict:
        """Match each watcher's entities and sectors against the day; record `pending` or `nothing`."""
        from hkai.alerts import choose_day, find_alerts

        dag_run = context["dag_run"]
        day = choose_day(
            context["params"].get("day"), moment=context.get("logical_date") or dag_run.run_after
        )
        found = find_alerts(day)
        for recipient, status in found["planned"].items():
            print(f"{found['alert_day']} {recipient}: {status}")
        return found

    @task(retries=0)
    def send(found: dict, **context) -> dict:
        """Send each pending alert at most once; failed or unknown alerts fail the task after all were tried."""
        from airflow.sdk.exceptions import AirflowFailException

        from hkai.alerts import AlertProblems, raise_for_problems, send_alerts

        result = send_alerts(found["alert_day"], send=context["params"].get("mode") == "send")
        for recipient, outcome in result["deliveries"].items():
            print(f"{recipient}: {outcome}")
        print(f"ledger for {result['alert_day']}: {result['ledger']}")
        try:
            raise_for_problems(result)
        except AlertProblems as exc:  # a retry would not change them: a person must look
            raise AirflowFailException(str(exc)) from exc
        return result

    send(find_matches())  # type: ignore[arg-type]  # TaskFlow passes XComArgs


hk_ai_watchlist_alerts()
