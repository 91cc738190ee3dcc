"""Shared fixtures: an isolated data dir and warehouse per test, and the database URLs to test on."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import SNAPSHOT

POSTGRES_URL = os.environ.get("HKAI_TEST_POSTGRES_URL")


@pytest.fixture
def hkai_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point data, output and the warehouse at a temporary directory (SQLite)."""
    monkeypatch.setenv("HKAI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HKAI_OUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("HKAI_CRAWL_MODE", "replay")
    monkeypatch.setenv("HKAI_SNAPSHOT_DIR", str(SNAPSHOT))
    monkeypatch.delenv("HKAI_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("HKAI_REPLAY_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    yield tmp_path


def _fresh_postgres(url: str) -> str:
    """A new empty database on the test server, so tests never share state."""
    from warehouse.db import create_scratch_database

    return create_scratch_database(url, "hkai_test")


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each warehouse test runs on SQLite and on a real PostgreSQL server."""
    return warehouse_url_for(request.param, tmp_path)


def warehouse_url_for(backend: str, directory: Path) -> str:
    """An empty warehouse: a SQLite file in `directory`, or a fresh database on the test server
    (skipped without one, and a failure under CI, which must start PostgreSQL)."""
    if backend == "sqlite":
        return f"sqlite:///{directory / 'warehouse.db'}"
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("HKAI_TEST_POSTGRES_URL is not set: .ci/run must start PostgreSQL")
        pytest.skip("HKAI_TEST_POSTGRES_URL not set (make test starts PostgreSQL)")
    return _fresh_postgres(POSTGRES_URL)
