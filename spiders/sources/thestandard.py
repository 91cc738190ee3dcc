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
        verified=True,
        download_delay=5.0,
        listing_link_selector="a",
        # 2025 site: /{section}/article/{id}/{slug}; 2020: /breaking-news/section/{sid}/{id}/{slug};
        # 2018: breaking-news.php?id={id}&...
        article_url_pattern=r"/article/\d+/|/breaking-news/section/\d+/\d+/|/breaking-news\.php\?id=\d+",
        rules=SiteRules(
            body=("div.article-detail__text-section", "div.breaking-news div.content"),
            title=("div.breaking-news div.heading h1",),
            # legacy pages give the time only after the section link: "Local | 7 Aug 2020 3:48 pm"
            date=("div.list-item__date-time", "div.breaking-news div.heading span.pull-left"),
            drop=("div.article-detail__footer", "#myCarousel", "div.ad1", "div.gad1", "div.sidebar-video"),
        ),
        notes=(
            "Parses real raw responses of the legacy layout: section listings ajax_sections_list.php?sid=4 of "
            "2018-08-01 and 2020-08-07 and one article of each date, saved by ayltai/hknews(-backend) as parser "
            "fixtures (tests/fixtures/sources/the_standard/, provenance in its MANIFEST.jsonl; the 2018 page "
            "declares iso-8859-1 but is UTF-8). The 2025 redesign (/{section}/article/{id}/..., JavaScript-heavy) "
            "has no saved copy: its article-detail__* selectors come from public scrapers and are unchecked."
        ),
    )
