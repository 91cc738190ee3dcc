from spiders.base import JsonApiArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules


class Hk01Tech(JsonApiArticleSpider):
    name = "hk01_tech"
    source = Source(
        name="hk01_tech",
        title="HK01 數碼生活 channel and 科技玩物 zone (JSON API)",
        kind="api",
        languages=("zh-Hant",),
        start_urls=(
            "https://web-data.api.hk01.com/v2/feed/category/391?bucketId=00000&limit=40",
            "https://web-data.api.hk01.com/v2/page/zone/11?bucketId=00000&limit=40",
        ),
        homepage="https://www.hk01.com/channel/391/數碼生活",
        verified=True,
        download_delay=5.0,
        api_items_path="items",
        api_fields={"url": "data.canonicalUrl", "title": "data.title", "published": "data.publishTime"},
        rules=SiteRules(
            body=("article#article-content-section", "div.article-grid__content-section"),
            title=("h1#articleTitle",),
            authors=("[data-testid=article-author]",),
        ),
        notes="Listing pages are built by JavaScript; the JSON API lists articles. Article pages are verified.",
    )
