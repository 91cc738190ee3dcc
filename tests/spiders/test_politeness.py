"""Politeness through the real crawl path: robots.txt rules and its Crawl-delay are obeyed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from spiders.run import crawl_source
from tests.paths import SNAPSHOT


@pytest.mark.slow
def test_robots_disallow_and_crawl_delay_are_honoured(
    hkai_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = hkai_env / "snapshot"
    shutil.copytree(SNAPSHOT, root)
    robots = root / "files" / "robots.txt"
    robots.write_text("User-agent: *\nCrawl-delay: 1\nDisallow: /rthk/news/rss/e_expressnews_efinance.xml\n")
    with (root / "manifest.jsonl").open("a") as handle:
        handle.write(
            json.dumps(
                {
                    "url": "https://rthk.hk/robots.txt",
                    "file": "files/robots.txt",
                    "content_type": "text/plain",
                    "source": "rthk_en",
                    "kind": "robots",
                }
            )
            + "\n"
        )
    monkeypatch.setenv("HKAI_SNAPSHOT_DIR", str(root))
    result = crawl_source("rthk_en", hkai_env / "crawl")
    stats = json.loads((hkai_env / "crawl" / "rthk_en.stats.json").read_text())
    assert stats.get("robotstxt/forbidden", 0) == 1  # the disallowed feed was never requested
    assert stats["hkai/crawl_delay"] == 1.0
    assert "efinance" not in " ".join(result.health.error_reasons)  # a robots skip is not an error


def test_user_agent_is_honest() -> None:
    import spiders.settings as settings

    assert "hkai" in settings.USER_AGENT and "+http" in settings.USER_AGENT
    assert settings.ROBOTSTXT_OBEY is True and settings.AUTOTHROTTLE_ENABLED is True


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
