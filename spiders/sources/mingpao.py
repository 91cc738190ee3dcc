from spiders.base import FeedArticleSpider
from spiders.model import Source
from transforms.extract import SiteRules


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
        rules=SiteRules(
            body=("article.txt4", ".article_content", ".txt3"),
            title=("hgroup h1",),
            date=("div[itemprop=datePublished]",),
            drop=(
                "div.ad300ins_m",
                "#ssm2",
                "div.clear",
                "[data-gc-id]",
                "figure",
                ".album_box",
                # ad slots, among them an in-article video player ("PausePlay", "GliaStudios")
                "aside.mpadsaside",
                # the "點擊觀看更多圖片" photo strip
                "div.news2023_more_pic_title",
                "div.news2023_more_pic",
                # the daily paper's "日報新聞-相關報道" links and the "相關字詞" tag line
                "#pnsautornews",
                "p:has(> a.content_tag)",
            ),
        ),
        notes="No NewsArticle JSON-LD; pages give the date only (instant news puts the time in the title).",
    )
