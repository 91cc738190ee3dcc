from spiders.base import FeedArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules

#: the in-article video player (GliaStudios) injected by the page's scripts, matched on the player itself so
#: that it goes whatever wrapper (ad slot, paragraph, plain div) it sits in
MINGPAO_PLAYER = (
    "[class*=gliaplayer]",
    "[class*=InstreamDom]",
    "[id^=glia_]",
    "[id*=contentvideo]",
    "[class*=teads]",
)
#: the player's furniture as text, for a player whose markup the selectors above do not know
MINGPAO_PLAYER_LINES = (
    r"^(close|Advertisements|CANCEL|NEXT VIDEO|Play|Pause|PausePlay|UnmuteMute|Unmute|Mute|Powered by"
    r"|GliaStudios|Powered by GliaStudios|Skip Ad|Replay)$",
    r"^%\s*buffered",
    r"^(\d{1,2}:)?\d{2}:\d{2}$",
    r"Producer-\d{8}-\d{2}:\d{2}$",  # the clip's caption, e.g. "明報 Entertainment Producer-20251128-09:04"
)

MINGPAO_RULES = SiteRules(
    # news.mingpao.com (instant and daily paper), then its finance (finance.mingpao.com/fin/instantf/) and
    # entertainment (ol.mingpao.com/ldy/showbiz/) pages, to which instant-news URLs of those sections redirect
    body=("article.txt4", ".article_content", ".txt3"),
    title=("hgroup h1", "h1[itemprop=headline]", "div.news-content h1"),
    date=("div[itemprop=datePublished]", "[itemprop=datePublished]", "div.news-content div.article-title p"),
    drop=(
        "div.ad300ins_m",
        "#ssm2",
        "div.clear",
        "[data-gc-id]",
        "figure",
        ".album_box",
        # ad slots, among them the in-article video player ("PausePlay", "GliaStudios")
        "aside.mpadsaside",
        ".mpads",
        "[id^=google_ads]",
        *MINGPAO_PLAYER,
        # the "點擊觀看更多圖片" photo strip
        "div.news2023_more_pic_title",
        "div.news2023_more_pic",
        # the daily paper's "日報新聞-相關報道" links and the "相關字詞" tag line
        "#pnsautornews",
        "p:has(> a.content_tag)",
        # the entertainment site's "如要讀取全文，請登入" box
        ".inontent_wrapper",
    ),
    drop_paragraphs=(
        *MINGPAO_PLAYER_LINES,
        r"^相關字詞[﹕:：]",
        r"^如要讀取全文",
        r"^明報記者$",  # the daily paper's credit line, an <h2> after the text
        r"^■明報報料熱線",  # the news hotline line under daily-paper articles (2018-2020 pages)
        r"^（[^（）]{1,12}）$",  # a credit or series label on its own line: "（即時娛樂）", "（疫情第三波）"
    ),
    # the daily paper's related reports; the finance site's "其他報道" list of headlines
    end_paragraphs=(r"^日報新聞-相關報道", r"^其他報道$"),
    # og:title and <title>: "{headline} (21:05) - 20251128 - 港聞 - 即時新聞 - 明報新聞網"
    title_strip=(r"\s+-\s+\d{8}\s+-\s.*$",),
    # instant news: the headline ends with the time, "… (21:05)", in the page's <span class="time">
    title_time=r"\s*[(（]\s*(?P<hour>\d{1,2})\s*[:：]\s*(?P<minute>\d{2})\s*[)）]$",
)


class MingPao(FeedArticleSpider):
    name = "mingpao"
    source = Source(
        name="mingpao",
        title="Ming Pao 明報 instant news and daily paper (港聞, 經濟, 熱點)",
        kind="rss",
        languages=("zh-Hant",),
        start_urls=(
            "https://news.mingpao.com/rss/ins/s00001.xml",
            "https://news.mingpao.com/rss/ins/s00002.xml",
            "https://news.mingpao.com/rss/ins/s00024.xml",
            "https://news.mingpao.com/rss/pns/s00002.xml",
        ),
        homepage="https://news.mingpao.com/",
        verified=True,
        download_delay=5.0,
        rules=MINGPAO_RULES,
        notes=(
            "No NewsArticle JSON-LD. Instant news gives the date in the page and the time at the end of the "
            "headline ('… (21:05)'); the daily paper gives the date only. Checked on the 212 rendered Ming Pao "
            "pages of Nov 2025 (instant, daily, and the finance and entertainment pages instant links redirect "
            "to) and on raw 2018-2020 pages; regression pages in tests/fixtures/regression/mingpao/."
        ),
    )
