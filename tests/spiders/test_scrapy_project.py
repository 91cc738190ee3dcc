"""A Scrapy user's commands work from the repo root: `scrapy list`, and `scrapy crawl SOURCE` in replay mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import child_environment
from spiders.registry import spider_classes
from tests.paths import REPO, SNAPSHOT

SCRAPY = [sys.executable, "-m", "scrapy.cmdline"]


def scrapy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCRAPY, *args], cwd=REPO, env=child_environment(env), capture_output=True, text=True, timeout=300
    )


def test_scrapy_list_names_every_registered_source() -> None:
    listed = scrapy("list").stdout.split()
    assert sorted(listed) == sorted(spider_classes())


@pytest.mark.slow
def test_scrapy_crawl_replays_the_snapshot(tmp_path: Path) -> None:
    out = tmp_path / "rthk_en.jsonl"
    env = {
        "HKAI_CRAWL_MODE": "replay",
        "HKAI_SNAPSHOT_DIR": str(SNAPSHOT),
        "HKAI_SCRAPY_LOG_LEVEL": "WARNING",
    }
    done = scrapy("crawl", "rthk_en", "-o", str(out), env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    snapshot_urls = {
        json.loads(line)["url"]
        for line in (SNAPSHOT / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    }
    assert items and all(item["source"] == "rthk_en" and item["title"] for item in items)
    assert all(item["url"] in snapshot_urls for item in items)  # every page came from the snapshot
    assert not (REPO / "items.jsonl").exists()  # no stray staging file for a plain scrapy crawl
