from spiders.base import FeedArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules


class ScmpTech(FeedArticleSpider):
    name = "scmp_tech"
    source = Source(
        name="scmp_tech",
        title="South China Morning Post: Tech, Technology and AI: Policy feeds",
        kind="rss",
        languages=("en",),
        start_urls=(
            "https://www.scmp.com/rss/36/feed",
            "https://www.scmp.com/rss/325332/feed",
            "https://www.scmp.com/rss/519748/feed",
        ),
        homepage="https://www.scmp.com/tech",
        verified=True,
        download_delay=10.0,  # robots.txt: Crawl-delay: 10
        rules=SiteRules(
            body=("[data-qa=GenericArticle-Content]", "[data-qa=ContentBody-ContentBodyContainer]"),
            title=("[data-qa=ContentHeadline-Headline]", "h1"),
            date=("time[data-qa=Article20Date-PublishedDate]",),
            authors=("[data-qa=AuthorNames-AuthorNamesContainer]",),
        ),
        notes="Feed descriptions are cut after ~3 paragraphs; JSON-LD articleBody carries the full text.",
    )
