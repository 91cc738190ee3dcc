"""Where the tests' real inputs live, so a test file can move without its paths breaking."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SNAPSHOT = REPO / "snapshots" / "demo"
FIXTURES = TESTS / "fixtures"
DATA = TESTS / "data"
SHARED = REPO.parent / "shared"
