"""Politeness through the real crawl path: robots.txt rules and its Crawl-delay are obeyed, measured
on the replay server's access log (when each request really arrived), and a robots.txt that cannot
be fetched disallows the host (RFC 9309)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from spiders.replay_server import ReplayServer
from spiders.run import crawl_source
from tests.paths import SNAPSHOT

CRAWL_DELAY = 0.5


def _snapshot_with_robots(root: Path, robots_url: str, source: str, **entry: object) -> Path:
    shutil.copytree(SNAPSHOT, root)
    with (root / "manifest.jsonl").open("a") as handle:
        handle.write(
            json.dumps(
                {"url": robots_url, "content_type": "text/plain", "source": source, "kind": "robots", **entry}
            )
            + "\n"
        )
    return root


@pytest.mark.slow
def test_robots_disallow_and_crawl_delay_are_honoured(
    hkai_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = hkai_env / "snapshot"
    _snapshot_with_robots(root, "https://www.scmp.com/robots.txt", "scmp_tech", file="files/robots.txt")
    (root / "files" / "robots.txt").write_text(
        f"User-agent: *\nCrawl-delay: {CRAWL_DELAY}\nDisallow: /rss/519748/feed\n"
    )
    # live-like scheduling: Scrapy varies every wait by ±50 %; no wait may bring two requests to the
    # host closer than the Crawl-delay
    monkeypatch.setenv("HKAI_SCRAPY_SETTINGS", json.dumps({"DOWNLOAD_DELAY_JITTER": 0.5}))
    with ReplayServer(root) as server:
        monkeypatch.setenv("HKAI_REPLAY_URL", server.url)
        result = crawl_source("scmp_tech", hkai_env / "crawl")
    stats = json.loads((hkai_env / "crawl" / "scmp_tech.stats.json").read_text())
    assert stats.get("robotstxt/forbidden", 0) == 1 and stats["hkai/crawl_delay"] == CRAWL_DELAY
    assert "519748" not in " ".join(result.health.error_reasons)  # a robots skip is not an error
    requested = [a.url for a in server.access_log]
    assert not any("519748" in url for url in requested)  # the disallowed feed never reached the site
    assert result.health.items == 3 and requested[0] == "https://www.scmp.com/robots.txt"
    arrivals = [a.monotonic for a in server.access_log if "www.scmp.com" in a.url]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    assert len(gaps) >= 5, requested  # robots.txt, two feeds, three article pages
    # measured at the server: each request came at least a Crawl-delay after the one before it
    # (less 50 ms: a late arrival of one request, on a busy machine, shortens the gap after it)
    assert min(gaps) >= CRAWL_DELAY - 0.05, [round(g, 3) for g in gaps]


@pytest.mark.slow
def test_an_unreachable_robots_txt_disallows_the_host(
    hkai_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 9309 §2.3.1.4: robots.txt timing out (like a 5xx) means "disallow all", not "allow all"."""
    root = _snapshot_with_robots(
        hkai_env / "snapshot", "https://rthk.hk/robots.txt", "rthk_en", file=None, hang=True
    )
    monkeypatch.setenv("HKAI_SNAPSHOT_DIR", str(root))
    monkeypatch.setenv("HKAI_SCRAPY_SETTINGS", json.dumps({"DOWNLOAD_TIMEOUT": 1, "RETRY_TIMES": 0}))
    result = crawl_source("rthk_en", hkai_env / "crawl")
    stats = json.loads((hkai_env / "crawl" / "rthk_en.stats.json").read_text())
    assert stats["hkai/robots_unavailable"] == 1
    assert result.health.items == 0 and result.health.listing_errors == 3 == result.health.errors
    assert all("robots.txt unavailable for rthk.hk" in reason for reason in result.health.error_reasons)
    assert stats["downloader/request_count"] == 1  # robots.txt only: no feed was requested


def test_user_agent_is_honest(monkeypatch: pytest.MonkeyPatch) -> None:
    """The project's settings as a live crawl reads them (replay mode turns AutoThrottle off)."""
    import importlib

    import spiders.settings as settings

    monkeypatch.setenv("HKAI_CRAWL_MODE", "live")
    try:
        live = importlib.reload(settings)
        assert "hkai" in live.USER_AGENT and "+http" in live.USER_AGENT
        assert live.ROBOTSTXT_OBEY is True and live.AUTOTHROTTLE_ENABLED is True
        assert live.DOWNLOADER_MIDDLEWARES["spiders.middlewares.RobotsTxtMiddleware"] == 100
        assert (
            live.DOWNLOADER_MIDDLEWARES["scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"] is None
        )
    finally:
        monkeypatch.undo()
        importlib.reload(settings)


def test_hkai_extract_contract(tmp_path: Path) -> None:
    import gzip

    from hkai.cli import main

    manifest = [json.loads(line) for line in (SNAPSHOT / "manifest.jsonl").read_text().splitlines()]
    pages = [m for m in manifest if m["kind"] == "page"][:6]
    lines = []
    for n, page in enumerate(pages):
        path = tmp_path / f"{n}.html"
        path.write_bytes(gzip.decompress((SNAPSHOT / page["file"]).read_bytes()))
        lines.append({"id": n, "url": page["url"], "html_path": str(path)})
    lines.append({"id": "missing", "url": "https://example.org/x", "html_path": str(tmp_path / "nope.html")})
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert main(["extract", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl")]) == 0
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(out) == 7
    for record in out[:6]:
        assert set(record) >= {"id", "url", "title", "body", "published", "language", "authors"}
        assert record["title"] and record["body"] and record["language"] in {"en", "zh-Hant", "zh-Hans"}
        assert record["published"] is None or record["published"][-6:] in {"+08:00", "+00:00"}
    assert out[6]["body"] is None and "error" in out[6]
