"""The items the spiders yield, declared as Scrapy items so Scrapy's feed exports, pipelines and
ItemAdapter know their fields (a misspelt field is a KeyError at the spider, not a silent column).

One kind today: an article, from a full-text feed entry or an article page. Failed pages and feed
validators are not items; they travel in the crawl's stats (`hkai/failed_pages`,
`hkai/validators`), which spiders/run.py reads when the crawl ends.
"""

from __future__ import annotations

import scrapy

from spiders.model import ITEM_FIELDS


class ArticleItem(scrapy.Item):
    """One article as crawled: the fields of spiders.model.ITEM_FIELDS, nothing else."""

    url = scrapy.Field()
    canonical_url = scrapy.Field()
    source = scrapy.Field()
    language = scrapy.Field()
    title = scrapy.Field()
    body = scrapy.Field()
    published_at = scrapy.Field()  # ISO 8601 with offset, or None
    modified_at = scrapy.Field()
    authors = scrapy.Field()
    fetched_at = scrapy.Field()
    section = scrapy.Field()
    extraction = scrapy.Field()  # how the text and the date were found (feed, trafilatura/meta...)


if set(ArticleItem.fields) != set(ITEM_FIELDS):  # one list of fields for the loader and the item
    raise RuntimeError("ArticleItem's fields differ from spiders.model.ITEM_FIELDS")
