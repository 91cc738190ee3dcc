from spiders.base import FeedArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules


class Unwire(FeedArticleSpider):
    name = "unwire"
    source = Source(
        name="unwire",
        title="unwire.hk tech news",
        kind="rss",
        languages=("zh-Hant",),
        start_urls=("https://unwire.hk/feed/",),
        homepage="https://unwire.hk/",
        verified=False,
        download_delay=5.0,
        rules=SiteRules(body=("div.entry-content",), drop=(".google-ad", ".google-ad-label")),
        notes="WordPress feed with excerpts; no saved page is known.",
    )
