"""
### Hong Kong AI news: ingest

Every two hours: crawl each source (one mapped task per source, each in its own process),
then tag and load the new articles into the warehouse, group them into story clusters, run the
quality checks and refresh the
trend marts. A source whose crawl is flagged (0 entries, blocks, parse failures) fails its own
task, and the others carry on: loading runs when all crawls are done, whatever their state.

Trigger with `sources` (a subset of the registry) and `since` (load only entries published on or
after a date) for a backfill. Logic lives in `hkai.ingest`; this file only wires it.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from hkai.assets import WAREHOUSE_MARTS as WAREHOUSE
from hkai.ingest import declared_source_names
from hkai.notify import notify_failure

SOURCES = declared_source_names()


@dag(
    schedule="0 */2 * * *",
    start_date=pendulum.datetime(2025, 11, 1, tz="Asia/Hong_Kong"),
    catchup=False,
    max_active_runs=1,
    tags=["hkai", "ingest"],
    default_args={
        "retries": 2,
        "retry_delay": pendulum.duration(minutes=5),
        "on_failure_callback": notify_failure,  # emails HKAI_OPS_EMAIL over smtp_default
    },
    params={
        "sources": Param(
            [],
            # "null" makes the field optional in the trigger form (Airflow 3 marks a field required
            # unless its type list allows null); the form still shows a multi-select (first non-null type)
            type=["array", "null"],
            items={"type": "string", "enum": SOURCES},
            uniqueItems=True,
            title="Sources",
            description="Crawl only these sources (names from the source registry, e.g. rthk_en, hkma); "
            "empty: every source (in replay mode, every source the snapshot covers).",
            examples=SOURCES,
        ),
        "since": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Since",
            description="For backfills: load only entries published on or after this date "
            "(YYYY-MM-DD, Hong Kong time); empty: everything the crawl finds.",
        ),
    },
    doc_md=__doc__,
)
def hk_ai_news_ingest():
    @task
    def prepare_warehouse(**context) -> list[str]:
        """Migrate the schema, sync the source registry and the knowledge base; list the sources to
        crawl (`params.sources`, else all; an unknown name fails here, before any crawl)."""
        from hkai import ingest

        ingest.parse_since(context["params"].get("since"))  # a bad date fails before any crawl
        chosen = ingest.select_sources(context["params"].get("sources") or None)
        ingest.prepare_warehouse()
        print(f"crawling {len(chosen)} source(s): {', '.join(chosen)}")
        return chosen

    @task(map_index_template="{{ task.op_kwargs['source'] }}", retries=1)
    def crawl(source: str, **context) -> dict:
        """Crawl one source in a child process; a flagged source fails this task (visible in the UI)."""
        from airflow.sdk.exceptions import AirflowFailException

        from hkai import ingest

        summary = ingest.crawl(source, context["run_id"])
        if summary.flagged:
            # retrying a flagged source in minutes rarely helps; the next scheduled run tries again
            raise AirflowFailException(f"{source} flagged: {summary.reason}")
        return {"source": source, "items": summary.items}

    @task(trigger_rule="all_done")
    def tag_and_load(**context) -> dict:
        """Tag every staged item and upsert articles with their tags, in one transaction."""
        from hkai import ingest

        return ingest.tag_and_load(context["run_id"], since=context["params"].get("since"))

    @task
    def cluster_stories() -> dict:
        """Group near-duplicates and English/Chinese coverage of the same story into clusters."""
        from hkai import ingest

        return ingest.cluster_stories()

    @task
    def quality_checks() -> dict:
        """Block publishing when the warehouse breaks a rule (keys, uniqueness, accepted values, dates)."""
        from hkai import ingest

        return ingest.quality_checks()

    @task(outlets=[WAREHOUSE])
    def refresh_marts(**context) -> dict:
        """Recompute the mart rows of the weeks this run touched; the asset event says what changed
        (articles loaded, weeks touched, sources flagged)."""
        from hkai import ingest
        from hkai.assets import warehouse_event_extra

        refreshed = ingest.refresh(context["run_id"])
        context["outlet_events"][WAREHOUSE].extra = warehouse_event_extra(context["run_id"], refreshed)
        return refreshed

    @task(trigger_rule="all_done")
    def source_health(**context) -> dict:
        """Fail the run (red in the UI) when any source was flagged, after the others were published."""
        from hkai import ingest

        return ingest.assert_sources_healthy(context["run_id"])

    sources = prepare_warehouse()
    crawls = crawl.expand(source=sources)
    loaded = tag_and_load()
    crawls >> loaded
    loaded >> cluster_stories() >> quality_checks() >> refresh_marts() >> source_health()


hk_ai_news_ingest()
