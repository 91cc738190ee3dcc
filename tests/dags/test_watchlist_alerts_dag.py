"""The watchlist-alert DAG on real Airflow (`airflow dags test`), real articles in a SQLite
warehouse and a real SMTP server (aiosmtpd on loopback): an alert arrives once, a rerun of the
day sends nothing more, a refusing mailbox is a counted failure that does not stop the others,
and the failed run emails the operator (hkai/notify.py) without leaking the SMTP password."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller

from tests.digest.conftest import Relay, free_port
from tests.paths import REPO

SECRET = "pw-Zq81-never-logged"


class Mailbox(Relay):
    refuse: frozenset[str] = frozenset({"refused@example.org"})

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


@pytest.mark.slow
def test_alert_dag_sends_once_counts_a_refusal_and_emails_the_operator(
    hkai_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribers = hkai_env / "subscribers.yaml"
    people = [
        {"email": "fund@example.org", "watch_entities": ["fsdc"]},
        {"email": "city@example.org", "language": "zh-Hant", "watch_sectors": ["smart-city"]},
        {"email": "refused@example.org", "watch_sectors": ["smart-city"]},
        {"email": "quiet@example.org", "watch_entities": ["hkma"]},
    ]
    subscribers.write_text(yaml.safe_dump(people), encoding="utf-8")
    monkeypatch.setenv("HKAI_DIGEST_RECIPIENTS_FILE", str(subscribers))
    monkeypatch.setenv("HKAI_DIGEST_SCREENSHOT", "0")
    from tests.hkai.alert_data import load_real_articles

    load_real_articles()

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    smtp = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "password": SECRET,  # no login: never sent, but it must never be shown either
        "extra": {
            "disable_ssl": True,
            "disable_tls": True,
            "from_email": "alerts@hkai.test",
            "retry_limit": 1,
            "retry_delay": 0.05,
        },
    }
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(hkai_env / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp),
        "HKAI_OPS_EMAIL": "ops@example.org",
    }
    airflow = str(Path(sys.executable).with_name("airflow"))

    def dags_test(logical_date: str) -> str:
        run = subprocess.run(
            [airflow, "dags", "test", "hk_ai_watchlist_alerts", logical_date],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return run.stdout + run.stderr

    try:
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
        # 2025-11-20 08:00 HKT reports 2025-11-19: FSDC spikes (4 stories this week, none before)
        first = dags_test("2025-11-20T00:00:00+00:00")
        assert "state=success" in first, first[-3000:]
        assert [str(m["To"]) for m in mailbox.parsed()] == ["fund@example.org"]
        assert "quiet@example.org: nothing" in first  # a quiet watchlist is logged and recorded
        again = dags_test("2025-11-20T00:00:00+00:00")
        assert "state=success" in again, again[-3000:]
        assert len(mailbox.messages) == 1  # the rerun sent nothing more

        # 2025-11-21: a new name in a smart-city story; one mailbox refuses, the other gets it
        failing = dags_test("2025-11-22T00:00:00+00:00")
        assert "state=failed" in failing, failing[-3000:]
    finally:
        controller.stop()
    to = [str(m["To"]) for m in mailbox.parsed()]
    assert to.count("city@example.org") == 1 and "refused@example.org" not in to
    assert to.count("ops@example.org") == 1, to
    ops = next(m for m in mailbox.parsed() if str(m["To"]) == "ops@example.org")
    body = ops.get_body(("plain",)).get_content()
    assert "hk_ai_watchlist_alerts.send failed" in str(ops["Subject"])
    for fact in (
        "DAG:        hk_ai_watchlist_alerts",
        "Task:       send",
        "Run:        manual__",
        "Try:        1",
    ):
        assert fact in body, body
    assert "refused@example.org: failed" in body and "/dags/hk_ai_watchlist_alerts/runs/" in body
    assert SECRET not in body and SECRET not in failing + first + again

    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{hkai_env / 'data' / 'warehouse.db'}")
    with engine.connect() as conn:
        ledger = {
            (str(day)[:10], who): status
            for day, who, status in conn.execute(
                text("SELECT alert_day, recipient, status FROM alert_deliveries")
            )
        }
    assert ledger == {
        (str(date(2025, 11, 19)), "fund@example.org"): "sent",
        ("2025-11-19", "city@example.org"): "nothing",
        ("2025-11-19", "refused@example.org"): "nothing",
        ("2025-11-19", "quiet@example.org"): "nothing",
        ("2025-11-21", "fund@example.org"): "nothing",
        ("2025-11-21", "city@example.org"): "sent",
        ("2025-11-21", "refused@example.org"): "failed",
        ("2025-11-21", "quiet@example.org"): "nothing",
    }
