from spiders.base import FeedArticleSpider
from spiders.model import Source


class ChinaDailyHk(FeedArticleSpider):
    name = "chinadaily_hk"
    source = Source(
        name="chinadaily_hk",
        title="China Daily Hong Kong",
        kind="rss",
        languages=("en",),
        start_urls=("https://www.chinadailyhk.com/rss",),
        homepage="https://www.chinadailyhk.com/hk",
        verified=False,
        download_delay=5.0,
        notes="Feed URL seen only in third-party configs; no saved page is known.",
    )
