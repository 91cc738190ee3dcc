"""The one claim ledger (digest/claims.py) behind both send-at-most-once tables, on a real SQLite
and a real PostgreSQL warehouse: the same fencing for digests and alerts, and the differences
between them kept on purpose (what `record` does to `last_error`, what a claim may start from)."""

# ruff: noqa: F811  # the digest fixtures are imported by name, and pytest passes them in by that name
from __future__ import annotations

from datetime import date, timedelta

from digest import alert_ledger, deliveries
from hkai.ingest import prepare_warehouse
from tests.digest.conftest import any_warehouse, digest_env  # noqa: F401  # shared fixtures
from warehouse.db import get_engine

TO = "analyst@example.org"
WEEK_START = date(2025, 11, 24)
DAY = date(2025, 11, 26)
STORY = [{"url": "https://example.org/0"}]
REASON = [{"kind": "spike", "entity": "Cyberport"}]


def test_a_digest_sent_after_a_retry_keeps_the_retry_error(any_warehouse: str) -> None:
    prepare_warehouse()
    engine = get_engine()
    deliveries.ensure_rows(engine, WEEK_START, [TO])
    first = deliveries.claim(engine, TO, WEEK_START, message_id="<m>", eml_path="x.eml", owner="a:1")
    assert first is not None
    assert deliveries.record(engine, first, deliveries.RETRYING, "try 1: 451 busy")
    second = deliveries.claim(engine, TO, WEEK_START, message_id="<m>", eml_path="x.eml", owner="a:2")
    assert second is not None and second.token == first.token + 1
    assert not deliveries.record(engine, first, deliveries.SENT)  # the first claim's token is spent
    assert deliveries.record(engine, second, deliveries.SENT)
    row = deliveries.get(engine, TO, WEEK_START)
    assert row is not None
    assert (row.status, row.last_error, row.eml_path) == ("sent", "try 1: 451 busy", "x.eml")
    assert row.sent_at is not None


def test_an_alert_sent_after_a_refusal_clears_the_error_and_only_pending_is_claimed(
    any_warehouse: str,
) -> None:
    prepare_warehouse()
    engine = get_engine()
    assert alert_ledger.plan(engine, TO, DAY, language="en", stories=STORY, reasons=REASON) == "pending"
    first = alert_ledger.claim(engine, alert_ledger.pending(engine, DAY)[0], owner="a:1", message_id="<a>")
    assert first is not None
    assert alert_ledger.record(engine, first, alert_ledger.FAILED, "550 no such user")
    failed = alert_ledger.get(engine, TO, DAY)
    assert failed is not None and failed.last_error == "550 no such user"
    assert alert_ledger.claim(engine, failed, owner="a:2", message_id="<a>") is None  # failed: plan first
    assert alert_ledger.plan(engine, TO, DAY, language="en", stories=STORY, reasons=REASON) == "pending"
    second = alert_ledger.claim(engine, alert_ledger.pending(engine, DAY)[0], owner="a:2", message_id="<a>")
    assert second is not None and second.token == first.token + 1
    assert not alert_ledger.still_mine(engine, first)
    assert alert_ledger.still_mine(engine, second)
    assert alert_ledger.record(engine, second, alert_ledger.SENT)
    row = alert_ledger.get(engine, TO, DAY)
    assert row is not None
    assert (row.status, row.last_error, row.attempts) == ("sent", None, second.token)


def test_expired_claims_say_why_in_each_ledger(any_warehouse: str) -> None:
    prepare_warehouse()
    engine = get_engine()
    deliveries.ensure_rows(engine, WEEK_START, [TO])
    digest = deliveries.claim(engine, TO, WEEK_START, message_id="<m>", eml_path="x", owner="elsewhere:1")
    alert_ledger.plan(engine, TO, DAY, language="en", stories=STORY, reasons=REASON)
    alert = alert_ledger.claim(
        engine, alert_ledger.pending(engine, DAY)[0], owner="elsewhere:1", message_id="<a>"
    )
    assert digest is not None and alert is not None
    assert deliveries.expire_stale(engine, None, lease=timedelta(0)) == [TO]
    assert alert_ledger.expire_stale(engine, DAY, lease=timedelta(0)) == [TO]
    digest_row, alert_row = deliveries.get(engine, TO, WEEK_START), alert_ledger.get(engine, TO, DAY)
    assert digest_row is not None and alert_row is not None
    assert digest_row.status == alert_row.status == "unknown"
    assert digest_row.last_error.startswith("sender elsewhere:1 stopped during the send (claimed ")
    assert alert_row.last_error == "sender elsewhere:1 stopped during the send"
    # an outcome learnt after the claim was declared stale is still recorded, by its own token only
    assert deliveries.record(engine, digest, deliveries.SENT)
    assert alert_ledger.record(engine, alert, alert_ledger.SENT)
