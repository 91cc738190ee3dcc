from spiders.base import FeedArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules


class HongKongFreePress(FeedArticleSpider):
    name = "hkfp"
    source = Source(
        name="hkfp",
        title="Hong Kong Free Press",
        kind="rss",
        languages=("en",),
        start_urls=("https://hongkongfp.com/feed/",),
        homepage="https://hongkongfp.com/",
        verified=False,
        download_delay=5.0,
        rules=SiteRules(
            body=("div.entry-content",),
            title=("h1.entry-title",),
            date=("span.posted-on time",),
            authors=("span.author.vcard",),
        ),
        notes="Returned 403 to bots in public reports: expect the source to be flagged as blocked.",
    )
