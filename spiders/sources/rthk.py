from spiders.base import FeedArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules

RTHK_RULES = SiteRules(
    body=("div.itemFullText",),
    title=("h2.itemTitle",),
    date=("div.createddate",),
    # the site's font-size script wraps every run of text in <font my="my">
    unwrap=("font[my=my]",),
    title_suffixes=(" - RTHK",),
    # English stories that were updated end with a rule and "Last updated: 2025-11-26 HKT 20:34"
    drop_paragraphs=(r"^[_\-=]{5,}$", r"^Last updated: \d{4}-\d{2}-\d{2}"),
)


class RthkEnglish(FeedArticleSpider):
    name = "rthk_en"
    source = Source(
        name="rthk_en",
        title="RTHK English news (local, finance, Greater China)",
        kind="rss",
        languages=("en",),
        start_urls=(
            "https://rthk.hk/rthk/news/rss/e_expressnews_elocal.xml",
            "https://rthk.hk/rthk/news/rss/e_expressnews_efinance.xml",
            "https://rthk.hk/rthk/news/rss/e_expressnews_egreaterchina.xml",
        ),
        homepage="https://news.rthk.hk/rthk/en/",
        verified=True,
        download_delay=3.0,
        article_pages="never",
        rules=RTHK_RULES,
        notes="Official feeds are full text (no <link> in some; guid is the URL), so pages are not fetched.",
    )


class RthkChinese(FeedArticleSpider):
    name = "rthk_zh"
    source = Source(
        name="rthk_zh",
        title="RTHK 香港電台 Chinese news (本地, 財經, 大中華)",
        kind="rss",
        languages=("zh-Hant",),
        start_urls=(
            "https://rthk.hk/rthk/news/rss/c_expressnews_clocal.xml",
            "https://rthk.hk/rthk/news/rss/c_expressnews_cfinance.xml",
            "https://rthk.hk/rthk/news/rss/c_expressnews_greaterchina.xml",
        ),
        homepage="https://news.rthk.hk/rthk/ch/",
        verified=True,
        download_delay=3.0,
        article_pages="never",
        rules=RTHK_RULES,
        notes="Greater China is c_expressnews_greaterchina.xml (no 'c' prefix), unlike the other feeds.",
    )
