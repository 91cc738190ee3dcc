from spiders.base import FeedArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules


class NewsGovHk(FeedArticleSpider):
    name = "news_gov_hk"
    source = Source(
        name="news_gov_hk",
        title="news.gov.hk top stories and news ticker (English)",
        kind="rss",
        languages=("en",),
        start_urls=(
            "https://www.news.gov.hk/en/common/html/topstories.rss.xml",
            "https://www.news.gov.hk/en/common/html/ticker.rss.xml",
        ),
        homepage="https://www.news.gov.hk/eng/",
        verified=False,
        download_delay=3.0,
        rules=SiteRules(body=("div.newsdetail-content",), title=("h1.news-title",), date=("span.news-date",)),
        notes="Feed pubDate is date-only at 00:00 +0800; the page gives the time. No saved page is known.",
    )
