"""Digest: rendered from a real warehouse, received by a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from hkai.ingest import prepare_warehouse
from hkai.weekly_digest import deliver, render_week
from tests.paths import REPO
from transforms.dates import HKT
from transforms.tagging import default_tagger, tag_record
from warehouse.db import get_engine
from warehouse.load import load_articles
from warehouse.marts import refresh_marts

HOSTILE_TITLE = 'Cyberport AI 超算中心 <script>alert("x")</script> "><img src=x onerror=alert(1)>'


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": port,
                "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "digest@hkai.test"},
            }
        ),
    )
    yield inbox
    controller.stop()


def _load_week(hkai_env: Path) -> None:
    prepare_warehouse()
    fetched = datetime(2025, 11, 29, 12, 0, tzinfo=HKT).isoformat()
    texts = [
        (
            HOSTILE_TITLE,
            "Cyberport said its AI Supercomputing Centre will double computing power for Hong Kong "
            "start-ups. The HKSAR Government funds the artificial intelligence subsidy scheme.",
        ),
        (
            "金管局推生成式人工智能沙盒第二期",
            "香港金融管理局今日宣布推出生成式人工智能沙盒，銀行可在沙盒測試人工智能應用，"
            "以提升風險管理及防範詐騙。",
        ),
        (
            "HKUST opens AI lab for hospitals",
            "The Hong Kong University of Science and Technology opened an artificial "
            "intelligence lab with the Hospital Authority to help doctors diagnose patients.",
        ),
    ]
    records = []
    for n, (title, body) in enumerate(texts):
        records.append(
            tag_record(
                {
                    "url": f"https://example.org/{n}",
                    "canonical_url": f"https://example.org/{n}",
                    "source": "rthk_en",
                    "language": "en",
                    "title": title,
                    "body": body,
                    "fetched_at": fetched,
                    "authors": [],
                    "published_at": datetime(2025, 11, 25 + n, 9, 0, tzinfo=HKT).isoformat(),
                },
                default_tagger(),
            )
        )
    assert all(r["relevant"] for r in records), [r["title"] for r in records if not r["relevant"]]
    load_articles(get_engine(), records, "test-run")
    refresh_marts(get_engine())


def test_digest_is_received_escaped_and_complete(hkai_env: Path, smtp: Inbox) -> None:
    _load_week(hkai_env)
    rendered = render_week("2025-11-24")
    result = deliver(rendered)
    assert list(result["deliveries"].values()) == ["sent"]
    assert len(smtp.messages) == 1

    message = BytesParser(policy=policy.default).parsebytes(smtp.messages[0])
    assert message["Subject"].startswith("Hong Kong AI weekly: 2025-W48")
    assert message.get_content_type() == "multipart/alternative"
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert "TOP STORIES" in text and "金管局推生成式人工智能沙盒第二期" in text
    for section in ("top-stories", "sectors", "entities", "new-names", "spikes", "source-health"):
        assert f'id="{section}"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '"><img src=x' not in html and "onerror=alert(1)&gt;" in html.replace("&#34;", '"').replace(
        "&quot;", '"'
    )
    assert "{{" not in html and "{%" not in html
    cids = set(re.findall(r'src="cid:([^"]+)"', html))
    assert cids, "charts are embedded"
    related = {part["Content-ID"].strip("<>") for part in message.walk() if part["Content-ID"]}
    assert cids <= related
    assert Path(rendered["digests"][0]["eml"]).exists() and Path(rendered["digests"][0]["html"]).exists()


def test_send_task_twice_sends_once(hkai_env: Path, smtp: Inbox) -> None:
    _load_week(hkai_env)
    rendered = render_week("2025-11-24")
    deliver(rendered)
    again = deliver(rendered)
    assert list(again["deliveries"].values()) == ["already sent"]
    assert len(smtp.messages) == 1


def test_quiet_week_for_a_filter_that_matches_nothing(
    hkai_env: Path, smtp: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load_week(hkai_env)
    subscribers = hkai_env / "subscribers.yaml"
    subscribers.write_text(
        "- {email: legal@example.org, name: Legal desk, sectors: [legal]}\n", encoding="utf-8"
    )
    monkeypatch.setenv("HKAI_DIGEST_RECIPIENTS_FILE", str(subscribers))
    rendered = render_week("2025-11-24")
    deliver(rendered)
    message = BytesParser(policy=policy.default).parsebytes(smtp.messages[0])
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'id="quiet"' in html and "A quiet week" in html


def test_failed_send_is_reported_and_retry_sends(hkai_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _load_week(hkai_env)
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": 9, "extra": {"disable_tls": True}}),
    )
    rendered = render_week("2025-11-24")
    with pytest.raises(RuntimeError, match="failed to send"):
        deliver(rendered)


def test_digest_renders_in_headless_chromium(hkai_env: Path) -> None:
    from digest.preview import EXPECTED_SECTIONS, chromium_path, screenshot

    if chromium_path() is None:
        if __import__("os").environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    _load_week(hkai_env)
    rendered = render_week("2025-11-24")
    eml = Path(rendered["digests"][0]["eml"])
    report = screenshot(eml, hkai_env / "out" / "digest.png")
    assert set(EXPECTED_SECTIONS) <= set(report.sections)
    assert report.images >= 2 and report.broken_images == []
    assert report.screenshot.stat().st_size > 10_000
    keep = REPO / "out"
    keep.mkdir(exist_ok=True)
    (keep / "digest-test-screenshot.png").write_bytes(report.screenshot.read_bytes())
