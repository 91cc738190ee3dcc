from spiders.base import FeedArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules

GIA_RULES = SiteRules(
    body=("span#pressrelease",),
    title=("div#PRHeadline", "h1"),
    # the time is only in the closing block: "Ends/Tuesday, January 7, 2020 Issued at HKT 17:12"
    date=("div.mB15.f15",),
    # the closing "Ends/... Issued at HKT" block and the "NNNN" end mark sit inside the release span
    drop=("div.mB15.f15", "div[style='margin-top:10px;']"),
)
GIA_NOTE = (
    "Article pages checked on 3 real English press releases of Dec 2019 - Jan 2020 (raw server HTML saved by "
    "odaiwai/2020_SARS2-CoV_COVID19; tests/fixtures/sources/gia_en/, provenance in its MANIFEST.jsonl). No real "
    "copy of the RSS feed or daily index exists anywhere we can reach, so the source stays unverified; the feed "
    "URLs come from public scraper configs. EN and ZH ids differ."
)


class GiaEnglish(FeedArticleSpider):
    name = "gia_en"
    source = Source(
        name="gia_en",
        title="HKSAR Government press releases (English)",
        kind="rss",
        languages=("en",),
        start_urls=("https://www.info.gov.hk/gia/rss/general_en.xml",),
        homepage="https://www.info.gov.hk/gia/general/today.htm",
        verified=False,
        download_delay=3.0,
        rules=GIA_RULES,
        notes=GIA_NOTE,
    )


class GiaChinese(FeedArticleSpider):
    name = "gia_zh"
    source = Source(
        name="gia_zh",
        title="香港特區政府新聞公報 (中文)",
        kind="rss",
        languages=("zh-Hant",),
        start_urls=("https://www.info.gov.hk/gia/rss/general_zh.xml",),
        homepage="https://www.info.gov.hk/gia/general/ctoday.htm",
        verified=False,
        download_delay=3.0,
        rules=GIA_RULES,
        notes=GIA_NOTE,
    )
