from spiders.base import ListingArticleSpider
from spiders.model import Source


class Ezone(ListingArticleSpider):
    name = "ezone"
    source = Source(
        name="ezone",
        title="ezone.hk 科技焦點",
        kind="listing",
        languages=("zh-Hant",),
        start_urls=("https://ezone.hk/srae001/科技焦點/",),
        homepage="https://ezone.hk/",
        verified=False,
        download_delay=5.0,
        listing_link_selector='a[href*="/article/"]',
        article_url_pattern=r"/article/\d{8}/",
        notes="No RSS; listing dates are DD-MM-YYYY HH:MM. No saved page is known.",
    )
