from spiders.base import ListingArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules


class TheStandard(ListingArticleSpider):
    name = "the_standard"
    source = Source(
        name="the_standard",
        title="The Standard: Hong Kong news and Business & Innovation",
        kind="listing",
        languages=("en",),
        start_urls=(
            "https://www.thestandard.com.hk/hong-kong-news",
            "https://www.thestandard.com.hk/business-innovation",
        ),
        homepage="https://www.thestandard.com.hk/",
        verified=False,
        download_delay=5.0,
        listing_link_selector="a",
        article_url_pattern=r"/article/\d+/",
        rules=SiteRules(
            body=("div.article-detail__text-section",),
            date=("div.list-item__date-time",),
            drop=("div.article-detail__footer",),
        ),
        notes="2025 redesign is JavaScript-heavy; only the legacy 2019 layout has a saved page.",
    )
