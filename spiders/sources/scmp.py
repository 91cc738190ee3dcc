from typing import Any

from spiders.base import FeedArticleSpider
from spiders.model import Source
from transforms.extract import PayloadArticle, SiteRules, dig, person_names


def scmp_next_data(data: dict[str, Any]) -> PayloadArticle | None:
    """SCMP's Next.js payload: props.pageProps.payload.data.article, body as plain text, dates in
    epoch milliseconds."""
    article = dig(data, "props", "pageProps", "payload", "data", "article")
    if not isinstance(article, dict) or not dig(article, "body", "text"):
        return None
    return PayloadArticle(
        title=article.get("headline"),
        body=str(dig(article, "body", "text")),
        published=article.get("publishedDate"),
        modified=article.get("updatedDate"),
        authors=tuple(person_names(article.get("authors"))),
    )


SCMP_RULES = SiteRules(
    body=("[data-qa=GenericArticle-Content]", "[data-qa=ContentBody-ContentBodyContainer]"),
    title=("[data-qa=ContentHeadline-Headline]", "h1"),
    date=("time[data-qa=Article20Date-PublishedDate]",),
    authors=("[data-qa=AuthorNames-AuthorNamesContainer]",),
    next_data=scmp_next_data,
    # JSON-LD headline carries labels the page shows apart ("Exclusive | Hong Kong contractor …")
    prefer_page_title=True,
    title_suffixes=(" | South China Morning Post",),
    # articleBody (like the page) opens free stories with a subscription notice and ends with credit lines
    drop_paragraphs=(
        r"^This story has been made freely available as a public service",
        r"^(Additional )?[Rr]eporting by ",
        r"^Click here for the full list",
        r"^Follow the latest live updates below",
    ),
    end_paragraphs=(r"^More from our coverage:?$",),
)


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
        rules=SCMP_RULES,
        notes="Feed descriptions are cut after ~3 paragraphs; JSON-LD articleBody carries the full text.",
    )
