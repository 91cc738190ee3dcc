from spiders.base import FeedArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules

GIA_RULES = SiteRules(body=("span#pressrelease",), title=("div#PRHeadline", "h1"))
GIA_NOTE = "No saved GIA page is known; selectors come from public scraper configs. EN and ZH ids differ."


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
