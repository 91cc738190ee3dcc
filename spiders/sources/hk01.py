from collections.abc import Iterable
from typing import Any

from spiders.base import JsonApiArticleSpider
from spiders.model import Source
from transforms.extract import PayloadArticle, SiteRules, dig

#: HK01 block types that carry article text (others are images, galleries, videos, embeds, related links)
HK01_TEXT_BLOCKS = {"text", "summary", "quote"}


def _token_line(tokens: Any) -> str:
    """One line of a block's `htmlTokens`: a list of tokens, each with its `content`."""
    if isinstance(tokens, str):
        return tokens.strip()
    if not isinstance(tokens, list):
        return ""
    return "".join(str(tok.get("content", "")) for tok in tokens if isinstance(tok, dict)).strip()


def _is_heading(tokens: Any) -> bool:
    """A line made only of heading tokens (`h2`, `h3`…), e.g. a cross-head or a gallery's title."""
    return (
        isinstance(tokens, list)
        and bool(tokens)
        and all(isinstance(tok, dict) and str(tok.get("type", "")).startswith("h") for tok in tokens)
    )


def hk01_blocks_text(blocks: Iterable[Any], teaser: Iterable[Any] = ()) -> str:
    """Paragraphs of an HK01 article as the page shows them: the teaser (the lead paragraphs), then
    the text blocks in order. A "text" or "quote" block holds `htmlTokens` (lines of tokens); a
    "summary" block holds its paragraphs as plain strings under `summary`. Headings after the last
    paragraph title the photo gallery that closes the page, not any text, and are left out."""
    lines = [(_token_line(line), False) for line in teaser]
    for block in blocks:
        if not isinstance(block, dict) or block.get("blockType") not in HK01_TEXT_BLOCKS:
            continue
        for line in block.get("htmlTokens") or block.get("summary") or []:
            lines.append((_token_line(line), _is_heading(line)))
    lines = [(text, heading) for text, heading in lines if text]
    while lines and lines[-1][1]:
        lines.pop()
    return "\n\n".join(text for text, _ in lines)


def hk01_next_data(data: dict[str, Any]) -> PayloadArticle | None:
    """HK01's Next.js payload: props.initialProps.pageProps.article, body in blocks, dates in epoch
    seconds."""
    article = dig(data, "props", "initialProps", "pageProps", "article")
    if not isinstance(article, dict) or not article.get("blocks"):
        return None
    authors = [a.get("publishName") for a in article.get("authors") or [] if isinstance(a, dict)]
    return PayloadArticle(
        title=article.get("title"),
        body=hk01_blocks_text(article["blocks"], article.get("teaser") or ()),
        published=article.get("publishTime"),
        modified=article.get("lastModifyTime"),
        authors=tuple(str(name) for name in authors if name),
    )


HK01_RULES = SiteRules(
    body=("article#article-content-section", "div.article-grid__content-section"),
    title=("h1#articleTitle",),
    authors=("[data-testid=article-author]",),
    next_data=hk01_next_data,
    # JSON-LD headline may carry the channel ("…｜數碼生活") or a live page's first headline
    prefer_page_title=True,
    title_suffixes=("｜香港01", "| 香港01", " | 香港01"),
    # text blocks that only point at the media below: "▼點擊下圖看現場直播▼", "↓↓大埔宏福苑發生五級火↓↓"
    drop_paragraphs=(r"^[▼↓⬇]+.*[▼↓⬇]+$",),
)


class Hk01Tech(JsonApiArticleSpider):
    name = "hk01_tech"
    source = Source(
        name="hk01_tech",
        title="HK01 數碼生活 channel and 科技玩物 zone (JSON API)",
        kind="api",
        languages=("zh-Hant",),
        start_urls=(
            "https://web-data.api.hk01.com/v2/feed/category/391?bucketId=00000&limit=40",
            "https://web-data.api.hk01.com/v2/page/zone/11?bucketId=00000&limit=40",
        ),
        homepage="https://www.hk01.com/channel/391/數碼生活",
        verified=True,
        download_delay=5.0,
        api_items_path="items",
        api_fields={"url": "data.canonicalUrl", "title": "data.title", "published": "data.publishTime"},
        rules=HK01_RULES,
        notes="Listing pages are built by JavaScript; the JSON API lists articles. Article pages are verified.",
    )
