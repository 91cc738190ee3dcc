from spiders.base import FeedArticleSpider
from spiders.model import Source


class HkmaPressReleases(FeedArticleSpider):
    name = "hkma"
    source = Source(
        name="hkma",
        title="Hong Kong Monetary Authority press releases",
        kind="rss",
        languages=("en",),
        start_urls=("https://www.hkma.gov.hk/eng/other-information/rss/rss_press-release.xml",),
        homepage="https://www.hkma.gov.hk/eng/news-and-media/press-releases/",
        verified=False,
        download_delay=5.0,
        notes="Feed confirmed reachable in July 2025 by a public test log; no saved page. JSON API alternative: "
        "api.hkma.gov.hk/public/press-releases.",
    )
