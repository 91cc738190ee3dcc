"""Tests that need the two-worker Celery cluster that `make test-distributed` starts."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "distributed: needs the Celery cluster of `make test-distributed` (skipped otherwise)"
    )
