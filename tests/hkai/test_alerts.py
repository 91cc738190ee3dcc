# ruff: noqa: F811  # the digest fixtures are imported by name, and pytest passes them in by that name
"""Watchlist alerts (hkai/alerts.py) on real articles in a real warehouse (SQLite and PostgreSQL),
sent through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from digest import alert_ledger
from hkai.alerts import find_alerts, send_alerts
from tests.digest.conftest import Relay, any_warehouse, digest_env, relay  # noqa: F401  # shared fixtures
from tests.hkai.alert_data import load_real_articles
from warehouse.db import get_engine
from warehouse.marts.definitions import mart_table

SPIKE_DAY, NEW_NAME_DAY = date(2025, 11, 19), date(2025, 11, 21)


class RefusingRelay(Relay):
    """A relay that refuses some mailboxes at RCPT (a permanent 550), and takes the rest."""

    refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def subscribers(path: Path, people: list[dict]) -> None:  # type: ignore[type-arg]
    path.write_text(yaml.safe_dump(people, allow_unicode=True), encoding="utf-8")


PEOPLE = [
    {"email": "fund@example.org", "name": "Fund", "watch_entities": ["fsdc", "hkma"]},
    {
        "email": "city@example.org",
        "language": "zh-Hant",
        "watch_sectors": ["smart-city"],
        "watch_entities": ["fsdc"],
    },
    {"email": "quiet@example.org", "watch_entities": ["hkma"]},
    {"email": "reader@example.org"},  # no watchlist: weekly digest only
]


@pytest.fixture
def loaded(any_warehouse: str, digest_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    file = digest_env / "subscribers.yaml"
    subscribers(file, PEOPLE)
    monkeypatch.setenv("HKAI_DIGEST_RECIPIENTS_FILE", str(file))
    assert load_real_articles() > 20
    return any_warehouse


def test_a_spiking_watched_entity_and_a_new_name_in_a_watched_sector_match(loaded: str) -> None:
    found = find_alerts(SPIKE_DAY)
    assert found["planned"] == {
        "fund@example.org": "pending",
        "city@example.org": "pending",
        "quiet@example.org": "nothing",
    }
    engine = get_engine()
    row = alert_ledger.get(engine, "fund@example.org", SPIKE_DAY)
    assert row is not None
    (reason,) = row.reasons
    assert reason["kind"] == "spike" and reason["entity_id"] == "fsdc"
    # the reason's numbers are the mart's: the week's mentions, and the 4 weeks before were empty
    mentions = mart_table("mart_weekly_entity_mentions")
    with engine.connect() as conn:
        weekly = dict(
            conn.execute(
                select(mentions.c.week_start, mentions.c.articles).where(mentions.c.entity_id == "fsdc")
            ).all()
        )
    assert {str(k)[:10]: v for k, v in weekly.items()} == {"2025-11-17": reason["articles"]}
    assert reason["baseline"] == 0 and reason["name_zh"]
    # the stories are the day's (Hong Kong time) relevant articles naming FSDC
    assert row.stories and all(s["published_at"].startswith("2025-11-19") for s in row.stories)
    assert [s["article_id"] for s in row.stories] == reason["article_ids"]
    assert 0 < len(row.stories) < reason["articles"]  # one FSDC story was on the 18th

    found = find_alerts(NEW_NAME_DAY)
    assert (
        found["planned"]["city@example.org"] == "pending"
        and found["planned"]["fund@example.org"] == "nothing"
    )
    row = alert_ledger.get(engine, "city@example.org", NEW_NAME_DAY)
    assert row is not None and row.language == "zh-Hant"
    assert [r["kind"] for r in row.reasons] == ["new_name"] and row.reasons[0]["sector"] == "smart-city"
    assert row.reasons[0]["entity_id"].startswith("cand:")


def test_an_unknown_watched_sector_is_a_clear_error_before_anything_is_recorded(
    loaded: str, digest_env: Path
) -> None:
    subscribers(
        digest_env / "subscribers.yaml",
        [*PEOPLE, {"email": "typo@example.org", "watch_sectors": ["fintech"]}],
    )
    with pytest.raises(ValueError, match=r"typo@example.org: unknown watch_sectors \['fintech'\]"):
        find_alerts(SPIKE_DAY)
    assert alert_ledger.rows(get_engine(), SPIKE_DAY) == []


def test_alerts_are_sent_once_in_the_readers_language_and_a_refusal_is_counted(
    loaded: str, relay, digest_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    server: Relay = relay()
    find_alerts(SPIKE_DAY)
    first = send_alerts(SPIKE_DAY)
    assert first["deliveries"] == {"city@example.org": "sent", "fund@example.org": "sent"}
    assert first["ledger"] == {"sent": 2, "nothing": 1} and first["problems"] == []
    messages = {str(m["To"]): m for m in server.parsed()}
    assert set(messages) == {"fund@example.org", "city@example.org"}
    english, chinese = messages["fund@example.org"], messages["city@example.org"]
    assert english["Content-Language"] == "en" and "spiking" in english.get_body(("plain",)).get_content()
    assert (
        chinese["Content-Language"] == "zh-Hant"
        and "報道量急升" in chinese.get_body(("plain",)).get_content()
    )
    assert "香港金融發展局" in str(chinese["Subject"])  # the entity in the reader's language
    for message in messages.values():
        assert (
            message["Date"]
            and message["List-Unsubscribe"]
            and str(message["Message-ID"]).startswith("<alert-2025-11-19-")
        )
        assert "rthk.hk" in message.get_body(("html",)).get_content()

    # a rerun of the same day (matching again, then sending) sends nothing more
    find_alerts(SPIKE_DAY)
    again = send_alerts(SPIKE_DAY)
    assert again["deliveries"] == {} and len(server.messages) == 2

    # a relay refusing one mailbox: that alert is failed and counted, the other still goes out
    refusing = RefusingRelay()
    refusing.refuse = {"city@example.org"}
    from aiosmtpd.controller import Controller

    from tests.digest.conftest import connection, free_port

    port = free_port()
    controller = Controller(refusing, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        import os

        os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = connection(port)
        subscribers_file = Path(os.environ["HKAI_DIGEST_RECIPIENTS_FILE"])
        subscribers(
            subscribers_file, [*PEOPLE, {"email": "smart@example.org", "watch_sectors": ["smart-city"]}]
        )
        find_alerts(NEW_NAME_DAY)
        result = send_alerts(NEW_NAME_DAY, sleep=lambda _s: None)
    finally:
        controller.stop()
    assert result["deliveries"]["smart@example.org"] == "sent"
    assert result["deliveries"]["city@example.org"].startswith(
        "failed: not sent after 3 tries: recipient refused: 550"
    )
    assert result["ledger"] == {"sent": 1, "failed": 1, "nothing": 2} and len(result["problems"]) == 1
    assert [str(m["To"]) for m in refusing.parsed()] == ["smart@example.org"]


def test_without_smtp_the_alert_is_written_not_sent_and_stays_pending(loaded: str, digest_env: Path) -> None:
    find_alerts(SPIKE_DAY)
    result = send_alerts(SPIKE_DAY)
    assert set(result["deliveries"].values()) == {"dry run (.eml written)"}
    written = sorted((digest_env / "out" / "alerts" / "2025-11-19").glob("*.eml"))
    assert len(written) == 2 and result["ledger"] == {"pending": 2, "nothing": 1}
