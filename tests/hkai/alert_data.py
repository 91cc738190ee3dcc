"""Real AI-in-Hong-Kong articles (tests/fixtures/ai-news, provenance in its README) loaded into a
warehouse as the ingest would: tagged by the project's tagger, loaded, marts refreshed.

What the data holds, as the tagger sees it (checked by the tests, not assumed): FSDC (the
Financial Services Development Council) is named in 4 relevant RTHK stories in the week of
2025-11-17 and never before, 3 of them on 2025-11-19; on 2025-11-21 a new name first appears in a
smart-city story.
"""

from __future__ import annotations

import json
from datetime import datetime

from hkai.ingest import prepare_warehouse
from tests.paths import REPO
from transforms.dates import HKT
from transforms.tagging import default_tagger, tag_record
from warehouse.db import get_engine
from warehouse.load import load_articles
from warehouse.marts import refresh_marts

ARTICLES = REPO / "tests" / "fixtures" / "ai-news" / "articles.jsonl"
OUTLET_SOURCES = {"rthk": "rthk_zh", "thestandard": "the_standard"}  # outlets the registry crawls


def load_real_articles() -> int:
    """Migrate the warehouse and load the fixture's 2025 articles; returns how many were loaded."""
    prepare_warehouse()
    fetched = datetime(2025, 11, 30, 12, 0, tzinfo=HKT).isoformat()
    tagger = default_tagger()
    records = []
    for line in ARTICLES.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["outlet"] not in OUTLET_SOURCES or not item["published"].startswith("2025"):
            continue
        record = {
            "url": item["url"],
            "canonical_url": item["url"],
            "source": OUTLET_SOURCES[item["outlet"]],
            "language": item["language"],
            "title": item["title"],
            "body": item["body"],
            "fetched_at": fetched,
            "authors": [],
            "published_at": item["published"],
        }
        records.append(tag_record(record, tagger))
    engine = get_engine()
    load_articles(engine, records, "alerts-fixture")
    refresh_marts(engine)
    return len(records)
