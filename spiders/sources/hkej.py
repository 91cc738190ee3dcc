from spiders.base import ListingArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules


class HkejInstant(ListingArticleSpider):
    name = "hkej"
    source = Source(
        name="hkej",
        title="Hong Kong Economic Journal 信報 instant news",
        kind="listing",
        languages=("zh-Hant",),
        start_urls=("https://www.hkej.com/instantnews/current", "https://www.hkej.com/instantnews/hongkong"),
        homepage="https://www.hkej.com/instantnews",
        verified=True,
        download_delay=8.0,
        listing_link_selector="h3 a, h4 a",
        article_url_pattern=r"/instantnews/[a-z]+/article/\d+",
        rules=SiteRules(
            body=("div#article-content", "div#article-detail-wrapper"),
            title=("h1#article-title",),
            date=("p.info span.date", "span.date"),
            authors=("p.info span.author",),
            title_suffixes=(" - 信報網站 hkej.com",),
            # og:title "信報即時新聞 - 時事脈搏 - {headline} - 信報網站 hkej.com"
            title_strip=(r"^信報即時新聞\s*-+\s*(\S+\s+-\s+)?",),
            # JSON-LD datePublished is the right day at 05:00 for every article; the page shows the
            # minute ("今日 15:23", "昨日 19:11") while the article is recent
            structured_day_only=True,
        ),
        notes="Flagged anti-crawler by RSSHub (cookies from the listing page); expect blocks live.",
    )
