"""Digest fixtures: a loaded week in a real warehouse (SQLite, and PostgreSQL where a test asks for
both), and real SMTP servers (aiosmtpd on loopback) whose behaviour each test controls."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from hkai.ingest import prepare_warehouse
from transforms.dates import HKT
from transforms.tagging import default_tagger, tag_record
from warehouse.db import get_engine
from warehouse.load import load_articles, record_load_audit
from warehouse.marts import refresh_marts
from warehouse.models import CrawlRun

WEEK = "2025-11-24"
LOAD_RUN = "scheduled__2025-12-01T01:00"
HOSTILE_TITLE = 'Cyberport AI 超算中心 <script>alert("x")</script> "><img src=x onerror=alert(1)>'
ARTICLES = [
    (
        "en",
        HOSTILE_TITLE,
        "Cyberport said its AI Supercomputing Centre will double computing power for Hong Kong "
        "start-ups. The HKSAR Government funds the artificial intelligence subsidy scheme.",
    ),
    (
        "zh-Hant",
        "金管局推生成式人工智能沙盒第二期",
        "香港金融管理局今日宣布推出生成式人工智能沙盒，銀行可在沙盒測試人工智能應用，以提升風險管理及防範詐騙。",
    ),
    (
        "en",
        "HKUST opens AI lab for hospitals",
        "The Hong Kong University of Science and Technology opened an artificial "
        "intelligence lab with the Hospital Authority to help doctors diagnose patients.",
    ),
]


def load_week(*, crawls: list[dict[str, Any]] | None = None) -> None:
    """Three relevant articles in the week of 2025-11-24, and an ingest that started after the week
    ended (so the week counts as loaded), plus any extra crawl_runs rows."""
    prepare_warehouse()
    fetched = datetime(2025, 11, 29, 12, 0, tzinfo=HKT).isoformat()
    records = [
        tag_record(
            {
                "url": f"https://example.org/{n}",
                "canonical_url": f"https://example.org/{n}",
                "source": "rthk_en" if language == "en" else "rthk_zh",
                "language": language,
                "title": title,
                "body": body,
                "fetched_at": fetched,
                "authors": [],
                "published_at": datetime(2025, 11, 25 + n, 9, 0, tzinfo=HKT).isoformat(),
            },
            default_tagger(),
        )
        for n, (language, title, body) in enumerate(ARTICLES)
    ]
    assert all(r["relevant"] for r in records), [r["title"] for r in records if not r["relevant"]]
    engine = get_engine()
    load_articles(engine, records, LOAD_RUN)
    refresh_marts(engine)
    rows = [crawl_row(LOAD_RUN, "rthk_en", datetime(2025, 11, 30, 17, 0), items=3), *(crawls or [])]
    with engine.begin() as conn:
        for row in rows:
            conn.execute(CrawlRun.__table__.insert(), row)
    record_load_audit(engine, LOAD_RUN, staged=3, loaded=3, rejected=0)


def crawl_row(run_id: str, source: str, started_at: datetime, **values: Any) -> dict[str, Any]:
    """A crawl_runs row (times naive UTC, as the warehouse stores them)."""
    return {
        "run_id": run_id,
        "source": source,
        "mode": "replay",
        "started_at": started_at,
        "finished_at": started_at,
        "responses_by_status": {},
        "error_sample": [],
        **values,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Relay:
    """A handler for aiosmtpd whose faults a test sets: replies to RCPT, DATA and QUIT, a delay
    before the final reply, a hold until the test releases it. Every message whose content
    arrived is kept (the relay "has" it, whatever it answers)."""

    messages: list[bytes] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)  # consumed one per RCPT; then 250
    data_reply: str | None = None  # final reply after the content (default 250)
    quit_reply: str | None = None
    delay: float = 0.0  # seconds before the final reply
    hold: threading.Event | None = None  # when set: wait for it before the final reply
    received: threading.Event = field(default_factory=threading.Event)
    sessions_tls: list[bool] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]  # noqa: N802
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(envelope.content)
        self.sessions_tls.append(session.ssl is not None)
        self.received.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        while self.hold is not None and not self.hold.is_set():
            await asyncio.sleep(0.05)
        return self.data_reply or "250 OK: queued"

    async def handle_QUIT(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        return self.quit_reply or "221 Bye"

    def parsed(self) -> list[EmailMessage]:
        return [BytesParser(policy=policy.default).parsebytes(m) for m in self.messages]  # type: ignore[misc]

    def copies(self, recipient: str) -> int:
        return sum(1 for m in self.parsed() if str(m["To"]) == recipient)


def connection(port: int, **extra: Any) -> str:
    """AIRFLOW_CONN_SMTP_DEFAULT for a loopback relay: clear text unless the test says otherwise,
    fast retries."""
    settings = {"disable_ssl": True, "disable_tls": True, "from_email": "digest@hkai.test", "timeout": 10}
    settings |= {"retry_limit": 2, "retry_delay": 0.05} | extra
    return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": settings})


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Relay]]:
    """Start a real SMTP server on loopback with a controllable handler; point smtp_default at it."""
    controllers: list[Controller] = []

    def start(connection_extra: dict[str, Any] | None = None, **controller_args: Any) -> Relay:
        handler = Relay()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **controller_args)
        controller.start()
        controllers.append(controller)
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", connection(port, **(connection_extra or {})))
        return handler

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def digest_env(hkai_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The isolated environment, without browser screenshots (a test of its own covers them)."""
    monkeypatch.setenv("HKAI_DIGEST_SCREENSHOT", "0")
    return hkai_env


@pytest.fixture
def any_warehouse(digest_env: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The digest environment on SQLite and on a real PostgreSQL server (one test run each)."""
    monkeypatch.setenv("HKAI_WAREHOUSE_URL", warehouse_url)
    return "postgresql" if warehouse_url.startswith("postgresql") else "sqlite"


# --- the fault table: every fault test adds its row; printed at the end of the run ---------------

FAULT_ROWS: list[tuple[str, str, int, int, str]] = []


def report_fault(
    fault: str, backend: str, messages: list[bytes], status: str, *, on_purpose: int = 0, note: str = ""
) -> None:
    """One row of the delivery fault table (docs/FAULTS.md, "Digest delivery"), from what the relay
    received and the ledger's final status: duplicates are copies beyond the first that no person
    asked for (`hkai digest --resend` is `on_purpose`)."""
    duplicates = max(0, len(messages) - 1 - on_purpose)
    FAULT_ROWS.append((fault, backend, len(messages), duplicates, status + (f" ({note})" if note else "")))


def fault_table() -> list[str]:
    """The table, one row per fault: warehouses that measured the same outcome share a row."""
    merged: dict[tuple[str, int, int, str], list[str]] = {}
    for fault, backend, delivered, duplicates, final in FAULT_ROWS:
        merged.setdefault((fault, delivered, duplicates, final), []).append(backend)
    lines = [
        "| fault | warehouse | messages at the relay | duplicates | final state |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {f} | {', '.join(b)} | {d} | {dup} | {s} |" for (f, d, dup, s), b in merged.items()]
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if FAULT_ROWS:
        terminalreporter.section("digest delivery faults")
        for line in fault_table():
            terminalreporter.write_line(line)
