"""Item pipelines: validate, then append to the run's staging JSONL (the replayable raw layer).

Both read items through ItemAdapter, so they take the spiders' ArticleItem (spiders/items.py) or
any other item type Scrapy supports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from spiders.model import validate_item


class ValidateItemPipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidateItemPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        fields = ItemAdapter(item).asdict()
        problems = validate_item(fields)
        if problems:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("hkai/invalid_items")
            raise DropItem(f"invalid item {fields.get('url')}: {', '.join(problems)}")
        return item


class StagingWriterPipeline:
    """One JSON object per line, flushed per item so a killed crawl keeps what it fetched.

    Only for the pipeline's own crawls (`HKAI_STAGING_FILE` set by spiders/run.py); a plain
    `scrapy crawl SOURCE -o FILE` uses Scrapy's feed exports instead.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        staging = crawler.settings.get("HKAI_STAGING_FILE")
        self.path = Path(staging) if staging else None
        self.handle: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StagingWriterPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.handle = self.path.open("w", encoding="utf-8")

    def close_spider(self) -> None:
        if self.handle:
            self.handle.close()

    def process_item(self, item: Any) -> Any:
        if self.handle is not None:
            self.handle.write(json.dumps(ItemAdapter(item).asdict(), ensure_ascii=False) + "\n")
            self.handle.flush()
        return item
