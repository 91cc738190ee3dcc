"""SMTP faults against a real SMTP server (aiosmtpd on loopback) and a real warehouse (SQLite and
PostgreSQL): each digest reaches the relay at most once without a person asking, and every
outcome is recorded (sent / unknown / failed).

Each test adds a row to the fault table printed at the end of the run (docs/FAULTS.md).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

import pytest

from digest import deliveries
from hkai.weekly_digest import (
    DeliveryProblems,
    deliver,
    delivery_status,
    raise_for_problems,
    render_week,
    resend,
)
from tests.digest.conftest import WEEK, Relay, connection, free_port, load_week, report_fault
from tests.paths import REPO
from warehouse.db import get_engine

TO = "analyst@example.org"
WEEK_START = date(2025, 11, 24)


def _row():  # type: ignore[no-untyped-def]
    return deliveries.get(get_engine(), TO, WEEK_START)


def _hkai(*args: str) -> subprocess.Popen[str]:
    """`hkai …` in its own process, with this test's environment (warehouse, relay, output dir)."""
    return subprocess.Popen(
        [sys.executable, "-m", "hkai.cli", *args],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_happy_path_sent_twice_is_sent_once(any_warehouse: str, relay) -> None:  # type: ignore[no-untyped-def]
    inbox: Relay = relay()
    load_week()
    rendered = render_week(WEEK)
    assert deliver(rendered)["deliveries"] == {TO: "sent"}
    assert deliver(rendered)["deliveries"] == {TO: "already sent"}
    assert render_week(WEEK) and deliver(render_week(WEEK))["deliveries"] == {TO: "already sent"}
    row = _row()
    assert len(inbox.messages) == 1 and row.status == "sent" and row.attempts == 1
    report_fault("none (send task run three times)", any_warehouse, inbox.messages, _row().status)


def test_connection_refused_is_retried_with_backoff_then_failed(any_warehouse: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", connection(free_port(), retry_limit=2, retry_delay=0.05))
    load_week()
    rendered = render_week(WEEK)
    waits: list[float] = []
    result = deliver(rendered, sleep=waits.append)
    assert waits == [0.05, 0.1]  # two retries, the delay doubling
    outcome = result["deliveries"][TO]
    assert outcome.startswith("failed: not sent after 3 tries: ConnectionRefusedError")
    assert f"hkai digest --resend {TO} --week 2025-11-24" in outcome
    with pytest.raises(DeliveryProblems, match="1 digest"):
        raise_for_problems(result)
    row = _row()
    assert row.status == "failed" and row.attempts == 3
    # a rerun (the task's retry, a manual send) does not try again: failed waits for a person
    again = deliver(rendered, sleep=waits.append)
    assert again["deliveries"][TO].startswith("failed") and _row().attempts == 3 and len(waits) == 2
    report_fault(
        "connection refused (relay down)",
        any_warehouse,
        [],
        _row().status,
        note="3 tries, backoff 0.05 s then 0.1 s; a rerun does not retry",
    )


def test_temporary_rejections_before_data_are_retried_until_sent(any_warehouse: str, relay) -> None:  # type: ignore[no-untyped-def]
    inbox: Relay = relay()
    inbox.rcpt_replies = ["451 4.3.0 try again later", "451 4.3.0 try again later"]
    load_week()
    waits: list[float] = []
    result = deliver(render_week(WEEK), sleep=waits.append)
    assert result["deliveries"] == {TO: "sent"} and waits == [0.05, 0.1]
    row = _row()
    assert row.status == "sent" and row.attempts == 3 and "try 2: recipient refused: 451" in row.last_error
    assert len(inbox.messages) == 1
    report_fault(
        "451 to RCPT twice, then accepted", any_warehouse, inbox.messages, _row().status, note="on try 3"
    )


def test_permanent_rejection_before_data_ends_failed(any_warehouse: str, relay) -> None:  # type: ignore[no-untyped-def]
    inbox: Relay = relay()
    inbox.rcpt_replies = ["550 5.1.1 no such user"] * 3
    load_week()
    outcome = deliver(render_week(WEEK), sleep=lambda _s: None)["deliveries"][TO]
    assert outcome.startswith("failed: not sent after 3 tries: recipient refused: 550 5.1.1 no such user")
    assert _row().status == "failed" and inbox.messages == []
    report_fault(
        "550 to RCPT on every try", any_warehouse, inbox.messages, _row().status, note="after 3 tries"
    )


def test_421_to_quit_after_the_message_was_accepted_is_sent(any_warehouse: str, relay) -> None:  # type: ignore[no-untyped-def]
    inbox: Relay = relay()
    inbox.quit_reply = "421 4.3.2 service shutting down"
    load_week()
    rendered = render_week(WEEK)
    assert deliver(rendered)["deliveries"] == {TO: "sent"}
    assert deliver(rendered)["deliveries"] == {TO: "already sent"}
    assert len(inbox.messages) == 1 and _row().status == "sent"
    report_fault(
        "250 to the message, then 421 to QUIT",
        any_warehouse,
        inbox.messages,
        _row().status,
        note="a rerun: already sent",
    )


def test_an_acknowledgement_after_the_client_timeout_is_unknown_and_never_resent(
    any_warehouse: str, relay
) -> None:  # type: ignore[no-untyped-def]
    inbox: Relay = relay({"timeout": 1})
    inbox.delay = 2.5  # the relay queues the message, then answers after the client gave up
    load_week()
    rendered = render_week(WEEK)
    result = deliver(rendered)
    assert result["deliveries"][TO].startswith("unknown: no final reply after the message content")
    time.sleep(2)  # the relay's late 250
    assert len(inbox.messages) == 1
    row = _row()
    assert row.status == "unknown" and row.attempts == 1
    again = deliver(rendered)  # the task's retry, or Monday's run again: nothing is sent
    assert again["deliveries"][TO].startswith("unknown") and again["problems"]
    assert len(inbox.messages) == 1
    status = delivery_status(WEEK)
    assert [(r["recipient"], r["status"]) for r in status] == [(TO, "unknown")]
    report_fault(
        "final 250 after the client's 1 s timeout",
        any_warehouse,
        inbox.messages,
        _row().status,
        note="a rerun does not resend",
    )
    # a person decides: resend on purpose, with the same Message-ID so the reader's client can dedupe
    inbox.delay = 0
    assert resend(TO.upper(), WEEK)["deliveries"] == {TO: "sent"}
    first, second = inbox.parsed()
    assert first["Message-ID"] == second["Message-ID"]
    assert _row().status == "sent" and _row().attempts == 2
    report_fault(
        "… then `hkai digest --resend`",
        any_warehouse,
        inbox.messages,
        _row().status,
        on_purpose=1,
        note="the second copy on purpose, same Message-ID",
    )


def test_a_rejection_after_the_content_is_unknown(any_warehouse: str, relay) -> None:  # type: ignore[no-untyped-def]
    inbox: Relay = relay()
    inbox.data_reply = "451 4.7.1 greylisted after DATA"
    load_week()
    rendered = render_week(WEEK)
    outcome = deliver(rendered)["deliveries"][TO]
    assert outcome.startswith(
        "unknown: relay answered 451 4.7.1 greylisted after DATA after the message content"
    )
    assert deliver(rendered)["deliveries"][TO].startswith("unknown") and len(inbox.messages) == 1
    report_fault(
        "451 after the message content",
        any_warehouse,
        inbox.messages,
        _row().status,
        note="a rerun does not resend",
    )


def test_resend_refuses_a_digest_that_was_sent(any_warehouse: str, relay) -> None:  # type: ignore[no-untyped-def]
    inbox: Relay = relay()
    load_week()
    deliver(render_week(WEEK))
    with pytest.raises(ValueError, match="is sent: only unknown or failed digests are resent"):
        resend(TO, WEEK)
    assert len(inbox.messages) == 1


def test_a_sender_killed_after_data_leaves_unknown_never_a_resend(any_warehouse: str, relay) -> None:  # type: ignore[no-untyped-def]
    inbox: Relay = relay()
    inbox.hold = threading.Event()  # the relay has the content and holds its reply
    load_week()
    sender = _hkai("digest", "--send", "--week", WEEK)
    try:
        assert inbox.received.wait(120), sender.communicate(timeout=5)
        claimed = _row()
        assert claimed.status == "sending" and claimed.claimed_by.endswith(f":{sender.pid}")
        sender.send_signal(signal.SIGKILL)
        sender.wait(timeout=30)
    finally:
        inbox.hold.set()
        if sender.poll() is None:
            sender.kill()
    assert sender.returncode == -signal.SIGKILL
    # the next sender (the task's retry) sees the claim's owner is gone: unknown, not a resend
    retry = _hkai("digest", "--send", "--week", WEEK)
    out, err = retry.communicate(timeout=300)
    assert retry.returncode == 1, out + err
    assert "need a person" in err and f"--resend {TO}" in err
    assert json.loads(out)["deliveries"][TO].startswith(f"unknown: sender {claimed.claimed_by} stopped")
    status = _hkai("digest", "--status", "--week", WEEK)
    out, _ = status.communicate(timeout=120)
    assert re.search(rf"unknown +1  {TO}", out), out
    assert len(inbox.messages) == 1 and _row().status == "unknown"
    report_fault(
        "sender SIGKILLed after DATA (`hkai digest --send` process)",
        any_warehouse,
        inbox.messages,
        _row().status,
        note="the next sender sees the claim's owner is dead",
    )


def test_two_senders_at_once_send_one_message(any_warehouse: str, relay) -> None:  # type: ignore[no-untyped-def]
    inbox: Relay = relay()
    inbox.delay = 1.5  # the first sender is still in DATA when the second wants to send
    load_week()
    senders = [_hkai("digest", "--send", "--week", WEEK) for _ in range(2)]
    results = [s.communicate(timeout=300) for s in senders]
    assert [s.returncode for s in senders] == [0, 0], results
    # one process sent; the other found its claim, or (when it started late) the finished delivery
    outcomes = [json.loads(out)["deliveries"][TO] for out, _ in results]
    outcomes.sort(key=lambda outcome: outcome != "sent")
    assert outcomes[0] == "sent" and outcomes[1] in {"sent by another sender", "already sent"}, outcomes
    assert len(inbox.messages) == 1 and _row().status == "sent" and _row().attempts == 1
    report_fault(
        "two `hkai digest --send` processes at once",
        any_warehouse,
        inbox.messages,
        _row().status,
        note=f"the other sender: {outcomes[1]}",
    )


def test_a_zombie_senders_claim_is_waited_for_then_unknown(any_warehouse: str, relay) -> None:  # type: ignore[no-untyped-def]
    """A task presumed dead on another worker still holds the claim: its retry never sends."""
    inbox: Relay = relay()
    load_week()
    rendered = render_week(WEEK)
    item = rendered["digests"][0]
    engine = get_engine()
    deliveries.ensure_rows(engine, WEEK_START, [TO])
    zombie = deliveries.claim(
        engine, TO, WEEK_START, message_id="<m>", eml_path=item["eml"], owner="worker-2:4242"
    )
    assert zombie is not None
    started = time.monotonic()
    result = deliver(rendered, lease=timedelta(seconds=2))
    assert time.monotonic() - started >= 1.5  # it waited for the claim's lease
    assert result["deliveries"][TO].startswith("unknown: sender worker-2:4242 stopped during the send")
    assert inbox.messages == []
    report_fault(
        "zombie task on another worker holds the claim; its retry runs",
        any_warehouse,
        inbox.messages,
        _row().status,
        note="its retry waited for the claim's lease",
    )
    # the zombie wakes up and learns its send went through: it may still record that
    assert deliveries.record(engine, zombie, deliveries.SENT)
    assert deliver(rendered)["deliveries"] == {TO: "already sent"} and inbox.messages == []


def test_a_live_concurrent_sender_is_waited_for(any_warehouse: str, relay) -> None:  # type: ignore[no-untyped-def]
    """A zombie that is alive and finishes: the retry waits and reports its outcome."""
    inbox: Relay = relay()
    inbox.delay = 1.0
    load_week()
    rendered = render_week(WEEK)
    results: dict[str, dict] = {}
    zombie = threading.Thread(target=lambda: results.setdefault("zombie", deliver(rendered)))
    zombie.start()
    inbox.received.wait(30)
    results["retry"] = deliver(rendered)
    zombie.join(30)
    assert results["zombie"]["deliveries"] == {TO: "sent"}
    assert results["retry"]["deliveries"] == {TO: "sent by another sender"}
    assert len(inbox.messages) == 1
    report_fault(
        "zombie task alive in DATA while its retry runs",
        any_warehouse,
        inbox.messages,
        _row().status,
        note=f"the retry waited: {results['retry']['deliveries'][TO]}",
    )


def test_claims_are_exclusive_under_contention(any_warehouse: str) -> None:
    """Eight threads race for one (recipient, week): one claim wins, on SQLite and PostgreSQL."""
    load_week()
    engine = get_engine()
    deliveries.ensure_rows(engine, WEEK_START, [TO])
    barrier = threading.Barrier(8)
    won: list[deliveries.Claim] = []

    def race(n: int) -> None:
        barrier.wait()
        held = deliveries.claim(engine, TO, WEEK_START, message_id="<m>", eml_path="x", owner=f"t:{n}")
        if held is not None:
            won.append(held)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and won[0].token == 1
    loser = deliveries.Claim(TO, WEEK_START, 2, "late")
    assert not deliveries.record(engine, loser, deliveries.SENT)  # a stale token records nothing
    assert deliveries.record(engine, won[0], deliveries.SENT)
    assert deliveries.claim(engine, TO, WEEK_START, message_id="<m>", eml_path="x", owner="t:9") is None


def test_a_dead_local_owner_is_seen_at_once_and_a_live_one_after_its_lease(any_warehouse: str) -> None:
    load_week()
    engine = get_engine()
    deliveries.ensure_rows(engine, WEEK_START, [TO, "b@example.org"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = deliveries.this_sender().rpartition(":")[0]
    deliveries.claim(engine, TO, WEEK_START, message_id="<m>", eml_path="x", owner=f"{host}:{dead.pid}")
    deliveries.claim(
        engine, "b@example.org", WEEK_START, message_id="<n>", eml_path="y", owner=deliveries.this_sender()
    )
    assert deliveries.expire_stale(engine, WEEK_START, lease=timedelta(hours=1)) == [TO]
    assert deliveries.expire_stale(engine, WEEK_START, lease=timedelta(hours=1)) == []
    assert deliveries.expire_stale(engine, WEEK_START, lease=timedelta(0)) == ["b@example.org"]
    assert {r["status"] for r in deliveries.rows(engine, WEEK_START)} == {"unknown"}
