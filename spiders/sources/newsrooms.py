"""Institutional newsrooms: Cyberport, HKSTP, InvestHK, the Digital Policy Office and the PCPD."""

from spiders.base import FeedArticleSpider, ListingArticleSpider
from spiders.model import Source

UNVERIFIED = "No saved page is known; listing URL from public configs."


class Cyberport(ListingArticleSpider):
    name = "cyberport"
    source = Source(
        name="cyberport",
        title="Cyberport newsroom",
        kind="listing",
        languages=("en",),
        start_urls=("https://www.cyberport.hk/en/news/",),
        homepage="https://www.cyberport.hk/en/news/",
        verified=False,
        download_delay=5.0,
        listing_link_selector="a",
        article_url_pattern=r"/en/news/[^/?#]+/?$",
        notes=UNVERIFIED,
    )


class Hkstp(ListingArticleSpider):
    name = "hkstp"
    source = Source(
        name="hkstp",
        title="Hong Kong Science and Technology Parks newsroom",
        kind="listing",
        languages=("en",),
        start_urls=("https://www.hkstp.org/news-room/",),
        homepage="https://www.hkstp.org/news-room/",
        verified=False,
        download_delay=5.0,
        listing_link_selector="a",
        article_url_pattern=r"/news-room/[^/?#]+/?$",
        notes=UNVERIFIED,
    )


class InvestHk(ListingArticleSpider):
    name = "investhk"
    source = Source(
        name="investhk",
        title="InvestHK news",
        kind="listing",
        languages=("en",),
        start_urls=("https://www.investhk.gov.hk/en/news/?newsType=News",),
        homepage="https://www.investhk.gov.hk/en/news/",
        verified=False,
        download_delay=5.0,
        listing_link_selector="a",
        article_url_pattern=r"/en/news/[^/?#]+/?$",
        notes=UNVERIFIED + " Dates are DD.MM.YYYY.",
    )


class DigitalPolicyOffice(FeedArticleSpider):
    name = "digital_policy_office"
    source = Source(
        name="digital_policy_office",
        title="Digital Policy Office news",
        kind="rss",
        languages=("en",),
        start_urls=("https://www.digitalpolicy.gov.hk/en/news/latest/rss.data.xml",),
        homepage="https://www.digitalpolicy.gov.hk/en/news/",
        verified=False,
        download_delay=5.0,
        notes="RSS URL from one config only; its press releases also go out through GIA.",
    )


class Pcpd(ListingArticleSpider):
    name = "pcpd"
    source = Source(
        name="pcpd",
        title="Privacy Commissioner for Personal Data: media statements",
        kind="listing",
        languages=("en",),
        start_urls=("https://www.pcpd.org.hk/english/news_events/media_statements/media_statements.html",),
        homepage="https://www.pcpd.org.hk/english/news_events/media_statements/",
        verified=False,
        download_delay=5.0,
        listing_link_selector="a",
        article_url_pattern=r"/media_statements/press_\d{8}\.html",
        notes=UNVERIFIED + " First line of a statement is 'Date: 21 June 2024'.",
    )
