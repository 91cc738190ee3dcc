from spiders.base import ListingArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules


class CommercialRadio(ListingArticleSpider):
    name = "cradio"
    source = Source(
        name="cradio",
        title="商業電台 Commercial Radio 881903 news (本地, 中國, 國際, 財經)",
        kind="listing",
        languages=("zh-Hant",),
        start_urls=(
            "https://www.881903.com/news/local",
            "https://www.881903.com/news/china",
            "https://www.881903.com/news/international",
            "https://www.881903.com/news/finance",
        ),
        homepage="https://www.881903.com/news/recent",
        verified=False,
        download_delay=5.0,
        listing_link_selector="a",
        # article pages: /news/{section}/{id}; the canonical form /news2/{section}/{id}/{slug} too
        article_url_pattern=r"/news2?/(?:local|china|international|finance|sports)/\d+(?:/|$)",
        rules=SiteRules(
            # the Vue page: the article text is div.article-content-text (one per content block), the
            # headline div.article-details-template3__title; the date is JSON-LD datePublished
            # (+08:00), the page's own "發佈 28.11.2025 10:15" being read only by the JSON-LD cascade
            body=("div.article-content-text",),
            title=("div.article-details-template3__title",),
            drop=("div.advert-wrapper", "div.article-content__info"),
        ),
        notes=(
            "Article rules checked on 4 real rendered pages of 27-29 Nov 2025 (../shared/fixtures/pages/"
            "cr881903, saved by Hong-Kong-Emergency-Coordination-Hub/Hong-Kong-Fire-Documentary). No copy of "
            "a section listing exists: the listing is a Vue app, and the replay snapshot's listings and "
            "article pages are regenerated from cradio_db.csv rows of wusiuyu/hknews (see the manifest), "
            "so the source stays unverified."
        ),
    )
