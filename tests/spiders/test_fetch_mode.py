"""Live or replay is chosen in one place, and replay serves the saved snapshot over real HTTP."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from config.settings import get_settings
from spiders.fetch_mode import crawlable_sources, download_backend, snapshot_sources
from tests.paths import SNAPSHOT


def test_live_mode_changes_no_scrapy_setting(hkai_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HKAI_CRAWL_MODE", "live")
    with download_backend(get_settings()) as overrides:
        assert overrides == {}
    assert set(crawlable_sources(get_settings())) > snapshot_sources(get_settings())


def test_replay_mode_uses_a_given_server(hkai_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HKAI_REPLAY_URL", "http://127.0.0.1:9/")
    with download_backend(get_settings()) as overrides:
        assert overrides["HKAI_REPLAY_URL"] == "http://127.0.0.1:9/"
        assert overrides["DOWNLOAD_HANDLERS"]["https"] == "spiders.replay.ReplayDownloadHandler"


def test_replay_mode_starts_a_loopback_server_on_the_snapshot(hkai_env: Path) -> None:
    first = json.loads((SNAPSHOT / "manifest.jsonl").read_text(encoding="utf-8").splitlines()[0])
    with download_backend(get_settings()) as overrides:
        base = overrides["HKAI_REPLAY_URL"].rstrip("/")
        assert base.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{base}/fetch?url={quote(first['url'], safe='')}", timeout=10) as reply:
            assert reply.status == 200 and len(reply.read()) > 0
    assert set(crawlable_sources(get_settings())) == snapshot_sources(get_settings())
