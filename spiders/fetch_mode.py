"""Live or replay: the one place that chooses where the spiders' downloads come from.

Like a resource with two implementations (the live sites, or a saved snapshot served on
loopback), chosen by `HKAI_CRAWL_MODE`. The spiders, middlewares and pipelines are the same in
both modes; only the download handler and the politeness delays differ, because a loopback
replay needs no delay.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from config.settings import Settings

# Replay mode: the same spiders, downloads answered by the loopback replay server.
REPLAY_SCRAPY_SETTINGS: dict[str, Any] = {
    "DOWNLOAD_HANDLERS": {
        "http": "spiders.replay.ReplayDownloadHandler",
        "https": "spiders.replay.ReplayDownloadHandler",
    },
    "DOWNLOAD_DELAY": 0,
    "DOWNLOAD_DELAY_JITTER": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "CONCURRENT_REQUESTS": 16,
}


@contextmanager
def download_backend(settings: Settings) -> Iterator[dict[str, Any]]:
    """Scrapy settings for the chosen mode; in replay mode a replay server runs meanwhile.

    An external replay server (`HKAI_REPLAY_URL`) is used when given, else one is started here
    for the duration of the crawl.
    """
    if settings.crawl_mode == "live":
        yield {}
        return
    if settings.replay_url:
        yield {**REPLAY_SCRAPY_SETTINGS, "HKAI_REPLAY_URL": settings.replay_url}
        return
    from spiders.replay_server import ReplayServer

    with ReplayServer(settings.snapshot_dir) as server:
        yield {**REPLAY_SCRAPY_SETTINGS, "HKAI_REPLAY_URL": server.url}


def snapshot_sources(settings: Settings) -> set[str]:
    """Sources that the replay snapshot has saved responses for."""
    manifest = settings.snapshot_dir / "manifest.jsonl"
    if not manifest.exists():
        return set()
    lines = manifest.read_text(encoding="utf-8").splitlines()
    return {json.loads(line).get("source") for line in lines if line.strip()}


def crawlable_sources(settings: Settings) -> list[str]:
    """Every registered source when live; in replay mode, the sources the snapshot covers."""
    from spiders.registry import spider_classes

    names = list(spider_classes())
    if settings.crawl_mode == "replay":
        covered = snapshot_sources(settings)
        names = [name for name in names if name in covered]
    return names
