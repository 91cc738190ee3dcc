"""Bad input through the real crawl path: each case is flagged with a clear reason, others carry on."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hkai import ingest
from tests.paths import SNAPSHOT
from warehouse.db import get_engine
from warehouse.models import Article

# Markup and a script element inside a feed title (escaped once more inside the XML)
HOSTILE_TITLE = "<b>Cyberport</b> &lt;script&gt;alert(1)&lt;/script&gt; AI"
HOSTILE_URL = "https://www.scmp.com/tech/article/5/hostile-title"

FEEDS = [
    "https://www.scmp.com/rss/36/feed",
    "https://www.scmp.com/rss/325332/feed",
    "https://www.scmp.com/rss/519748/feed",
]


def _rss(items: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link><pubDate>Thu, 27 Nov 2025 10:00:00 +0800</pubDate>"
        f"<description>Cut...</description></item>"
        for title, link in items
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()


@pytest.fixture
def bad_snapshot(hkai_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = hkai_env / "snapshot"
    shutil.copytree(SNAPSHOT, root)
    manifest = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]
    manifest = [m for m in manifest if m["source"] != "scmp_tech" or m["kind"] == "page"]
    real_page = next(m for m in manifest if m["source"] == "scmp_tech")
    bad = root / "files" / "bad"
    bad.mkdir()
    (bad / "huge.html").write_bytes(
        b"<html><body>" + b"<p>AI in Hong Kong. </p>" * 450_000 + b"</body></html>"
    )
    (bad / "empty.xml").write_bytes(b"")
    (bad / "feed1.xml").write_bytes(
        _rss(
            [
                (HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;"), HOSTILE_URL),
                ("A real headline", real_page["url"]),
                ("huge", "https://www.scmp.com/tech/article/1/huge"),
                ("loop", "https://www.scmp.com/tech/article/2/loop"),
                ("slow", "https://www.scmp.com/tech/article/3/slow"),
                ("blank", "https://www.scmp.com/tech/article/4/blank"),
            ]
        )
    )
    (bad / "blank.html").write_bytes(b"   ")
    manifest += [
        {
            "url": FEEDS[0],
            "file": "files/bad/feed1.xml",
            "source": "scmp_tech",
            "kind": "feed",
            "content_type": "application/rss+xml",
        },
        {"url": FEEDS[1], "file": "files/bad/empty.xml", "source": "scmp_tech", "kind": "feed"},
        {"url": FEEDS[2], "file": None, "status": 503, "source": "scmp_tech", "kind": "feed"},
        {
            "url": "https://www.scmp.com/tech/article/1/huge",
            "file": "files/bad/huge.html",
            "source": "scmp_tech",
            "kind": "page",
        },
        {
            "url": "https://www.scmp.com/tech/article/2/loop",
            "file": None,
            "status": 302,
            "location": "https://www.scmp.com/tech/article/2/loop-b",
            "source": "scmp_tech",
            "kind": "page",
        },
        {
            "url": "https://www.scmp.com/tech/article/2/loop-b",
            "file": None,
            "status": 302,
            "location": "https://www.scmp.com/tech/article/2/loop",
            "source": "scmp_tech",
            "kind": "page",
        },
        {
            "url": "https://www.scmp.com/tech/article/3/slow",
            "file": "files/bad/blank.html",
            "delay": 4,
            "source": "scmp_tech",
            "kind": "page",
        },
        {
            "url": "https://www.scmp.com/tech/article/4/blank",
            "file": "files/bad/blank.html",
            "source": "scmp_tech",
            "kind": "page",
        },
        # the page has no text, so the item is the feed's own entry: its hostile title reaches the pipeline
        {"url": HOSTILE_URL, "file": "files/bad/blank.html", "source": "scmp_tech", "kind": "page"},
    ]
    (root / "manifest.jsonl").write_text("\n".join(json.dumps(m) for m in manifest) + "\n")
    monkeypatch.setenv("HKAI_SNAPSHOT_DIR", str(root))
    monkeypatch.setenv("HKAI_SCRAPY_SETTINGS", json.dumps({"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 0}))
    return root


@pytest.mark.slow
def test_each_bad_input_is_counted_and_nothing_stored_is_lost(bad_snapshot: Path) -> None:
    good = ingest.run_all("before", ["rthk_en"])
    assert good["load"]["loaded"] == 4

    result = ingest.run_all("bad", ["scmp_tech", "mingpao"])
    crawls = {c["source"]: c for c in result["crawls"]}
    scmp = crawls["scmp_tech"]
    assert scmp["flagged"], scmp
    reasons = " | ".join(scmp["health"]["error_reasons"])
    assert "HTTP 503" in reasons  # server error on a feed
    assert "malformed feed" in reasons  # empty body is not a feed
    assert "article/1/huge" in reasons  # 10 MB page cancelled by DOWNLOAD_MAXSIZE
    assert "article/2/loop" in reasons  # redirect loop stops at REDIRECT_MAX_TIMES
    assert "article/3/slow" in reasons and "TimeoutError" in reasons.replace(
        "TCPTimedOutError", "TimeoutError"
    )
    assert "extraction failed (empty page)" in reasons
    assert not crawls["mingpao"]["flagged"] and crawls["mingpao"]["items"] == 8  # the others carry on

    with get_engine().connect() as conn:
        titles = list(conn.execute(select(Article.title).where(Article.source == "scmp_tech")).scalars())
        total = conn.execute(select(func.count()).select_from(Article)).scalar_one()
        hostile = conn.execute(
            select(Article.title, Article.extraction).where(Article.url == HOSTILE_URL)
        ).one_or_none()
    assert total == 4 + 8 + len(titles)  # nothing already stored was lost
    # the hostile feed title reached the pipeline (the item is the feed entry) and was stored clean:
    # tags and the script element are gone, the words remain
    assert hostile == ("Cyberport AI", "feed-fallback"), hostile
    assert titles and all("<" not in t and "alert" not in t for t in titles)


def test_empty_and_huge_inputs_to_the_extractor() -> None:
    from transforms.extract import ExtractionError, extract_article

    with pytest.raises(ExtractionError, match="empty"):
        extract_article(b"", "https://example.org/")
    page = gzip.decompress(
        (
            SNAPSHOT
            / next(
                json.loads(line)["file"]
                for line in (SNAPSHOT / "manifest.jsonl").read_text().splitlines()
                if json.loads(line)["kind"] == "page"
            )
        ).read_bytes()
    )
    assert extract_article(page, "https://example.org/x").title
