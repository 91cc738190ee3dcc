"""The spiders yield declared Scrapy items, and the pipelines read them through ItemAdapter."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from spiders.items import ArticleItem
from spiders.model import ITEM_FIELDS
from spiders.pipelines import StagingWriterPipeline, ValidateItemPipeline
from tests.spiders.test_sources import MANIFEST, _spider


def _first_saved_page_item() -> ArticleItem:
    page = next(m for m in MANIFEST if m["source"] == "rthk_en" and m["kind"] == "page")
    body = gzip.decompress((page["root"] / page["file"]).read_bytes())
    response = HtmlResponse(url=page["url"], body=body, encoding="utf-8", request=Request(page["url"]))
    (item,) = _spider("rthk_en").parse_article(response, entry={})
    return item


def test_an_article_page_yields_an_article_item_with_every_declared_field() -> None:
    item = _first_saved_page_item()
    assert isinstance(item, ArticleItem)
    adapter = ItemAdapter(item)
    assert set(adapter.field_names()) == set(ITEM_FIELDS) == set(adapter.asdict())
    assert adapter["source"] == "rthk_en" and adapter["url"].startswith("https://news.rthk.hk/")
    with pytest.raises(KeyError):  # a misspelt field fails at the spider, not in the loader
        item["titel"] = "x"


def test_the_pipelines_validate_and_stage_items_through_itemadapter(tmp_path: Path) -> None:
    staging = tmp_path / "items.jsonl"
    crawler = get_crawler(settings_dict={"HKAI_STAGING_FILE": str(staging)})
    item = _first_saved_page_item()
    assert ValidateItemPipeline(crawler).process_item(item) is item
    writer = StagingWriterPipeline(crawler)
    writer.open_spider()
    writer.process_item(item)
    writer.close_spider()
    (line,) = staging.read_text(encoding="utf-8").splitlines()
    assert json.loads(line) == dict(item)

    broken = item.copy()
    broken["url"] = "javascript:alert(1)"
    with pytest.raises(DropItem, match="url is not an http"):
        ValidateItemPipeline(crawler).process_item(broken)
    assert crawler.stats is not None and crawler.stats.get_value("hkai/invalid_items") == 1
