"""Article extraction cascade: structured data first, then the site's own markup, then trafilatura.

Order for the body: JSON-LD `NewsArticle.articleBody` → `__NEXT_DATA__` (SCMP, HK01) → a site
parser (CSS selectors declared per host) → trafilatura. Dates: structured data → the site's own
format → meta tags → htmldate, always through the plausibility guard.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import lxml.html
from lxml import etree

from transforms.dates import parse_date, plausible
from transforms.text import clean_text, clean_title, detect_language

ARTICLE_TYPES = {
    "newsarticle",
    "article",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "blogposting",
    "webpage_article",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "report",
}
MIN_BODY_CHARS = 40


@dataclass(frozen=True)
class SiteRules:
    """CSS selectors for one host's article pages; declared next to the source in the registry."""

    body: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    date: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    title_suffixes: tuple[str, ...] = ()


_SUFFIX_SPLIT = re.compile(r"\s+[|｜\-–]\s+[^|｜\-–]{2,40}$")


@dataclass
class Extracted:
    url: str
    title: str = ""
    body: str = ""
    published: datetime | None = None
    modified: datetime | None = None
    authors: list[str] = field(default_factory=list)
    language: str = "en"
    section: str | None = None
    body_method: str = "none"
    date_method: str = "none"

    def as_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["published"] = self.published.isoformat() if self.published else None
        record["modified"] = self.modified.isoformat() if self.modified else None
        return record


class ExtractionError(ValueError):
    """The page has no article: empty, not HTML, or no text anywhere in the cascade."""


def _walk_jsonld(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for child in node:
            yield from _walk_jsonld(child)
    elif isinstance(node, dict):
        yield node
        if "@graph" in node:
            yield from _walk_jsonld(node["@graph"])


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("@type", [])
    values = value if isinstance(value, list) else [value]
    return {str(v).lower() for v in values}


def jsonld_article(doc: lxml.html.HtmlElement) -> dict[str, Any] | None:
    """The first JSON-LD node typed as an article, tolerating the broken JSON some sites emit."""
    for script in doc.xpath('//script[@type="application/ld+json"]'):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            try:
                data = json.loads(re.sub(r"[\x00-\x1f]", " ", raw))
            except json.JSONDecodeError:
                continue
        for node in _walk_jsonld(data):
            if _types(node) & ARTICLE_TYPES:
                return node
    return None


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    return []


def next_data(doc: lxml.html.HtmlElement) -> dict[str, Any] | None:
    scripts = doc.xpath('//script[@id="__NEXT_DATA__"]')
    if not scripts or not scripts[0].text:
        return None
    try:
        return json.loads(scripts[0].text)
    except json.JSONDecodeError:
        return None


def _dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _hk01_blocks(blocks: Iterable[dict[str, Any]]) -> str:
    paragraphs: list[str] = []
    for block in blocks:
        if block.get("blockType") not in {"text", "summary", "quote"}:
            continue
        for tokens in block.get("htmlTokens") or []:
            text = "".join(tok.get("content", "") for tok in tokens if isinstance(tok, dict))
            if text.strip():
                paragraphs.append(text.strip())
    return "\n\n".join(paragraphs)


def next_data_article(data: dict[str, Any]) -> dict[str, Any] | None:
    """Title, body, dates and authors from SCMP's or HK01's Next.js payload."""
    scmp = _dig(data, "props", "pageProps", "payload", "data", "article")
    if isinstance(scmp, dict) and _dig(scmp, "body", "text"):
        return {
            "title": scmp.get("headline"),
            "body": _dig(scmp, "body", "text"),
            "published": scmp.get("publishedDate"),
            "modified": scmp.get("updatedDate"),
            "authors": _names(scmp.get("authors")),
        }
    hk01 = _dig(data, "props", "initialProps", "pageProps", "article")
    if isinstance(hk01, dict) and hk01.get("blocks"):
        return {
            "title": hk01.get("title"),
            "body": _hk01_blocks(hk01["blocks"]),
            "published": hk01.get("publishTime"),
            "modified": hk01.get("lastModifyTime"),
            "authors": [a.get("publishName") for a in hk01.get("authors") or [] if a.get("publishName")],
        }
    return None


def _block_text(element: lxml.html.HtmlElement, drop: tuple[str, ...]) -> str:
    """Visible text of an element with paragraphs kept (<p>, <br>, block tags become breaks)."""
    element = lxml.html.fromstring(lxml.html.tostring(element))
    for selector in ("script", "style", "noscript", "iframe", "figure", "figcaption", *drop):
        for bad in element.cssselect(selector):
            bad.drop_tree()
    for br in element.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in element.iter("p", "div", "h2", "h3", "h4", "li", "blockquote", "tr"):
        block.tail = "\n\n" + (block.tail or "")
        if block.text:
            block.text = block.text
    text = element.text_content()
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n|\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def _first_text(doc: lxml.html.HtmlElement, selectors: Iterable[str]) -> str:
    for selector in selectors:
        for node in doc.cssselect(selector):
            text = " ".join(node.text_content().split())
            if text:
                return text
    return ""


def _meta(doc: lxml.html.HtmlElement, *names: str) -> str:
    for name in names:
        values = doc.xpath(f'//meta[@property="{name}" or @name="{name}" or @itemprop="{name}"]/@content')
        for value in values:
            if value and value.strip():
                return value.strip()
    return ""


def _strip_suffix(title: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if title.endswith(suffix):
            return title[: -len(suffix)].strip()
    return title


# Lines that are page furniture, not article text, whatever the site: calls to action, sharing,
# comment counters, copyright and teaser links. Applied to the generic extractor's output only.
_BOILERPLATE_LINE = re.compile(
    r"^\s*(read more|related( articles| stories)?:?$|more:|see also|also read|don't miss|most read|most popular|"
    r"follow (us|\w+ on)|share (this|on)|sign up|subscribe|newsletter|advertisement|filed under|tags?:|"
    r"tell us what|if you enjoyed|thank you\.?$|copyright|©|all rights reserved|\d+\s+comments?$|comments?$|"
    r"click here|watch:|listen:|photo:|image:|getty images|延伸閱讀|相關新聞|相關文章|熱門新聞|訂閱|分享到)",
    re.IGNORECASE,
)
_TEASER_LINE = re.compile(r"\[[A-Z ]{4,}\]\s*\|?$")
SHORT_PRECISE_OUTPUT = 500


def strip_boilerplate(text: str) -> str:
    return "\n".join(
        line
        for line in text.split("\n")
        if line.strip() and not _BOILERPLATE_LINE.match(line) and not _TEASER_LINE.search(line)
    )


def _reads_like_prose(longer: str, shorter: str) -> bool:
    """Whether what the balanced mode adds is paragraphs rather than a list of headlines or links."""
    kept = set(shorter.split("\n"))
    added = [line for line in longer.split("\n") if line.strip() and line not in kept]
    if not added:
        return False
    size = sum(len(line) for line in added)
    sentence_ends = sum(line.count(mark) for line in added for mark in ("。", ". ", "！", "？", "! ", "? "))
    return size / len(added) >= 80 and sentence_ends * 250 >= size


def _trafilatura(html_text: str, url: str) -> str:
    """trafilatura in precision mode; when that keeps very little, its balanced mode if it finds
    at least twice as much (precision mode sometimes drops most of a long article)."""
    import trafilatura

    precise = trafilatura.extract(html_text, url=url, favor_precision=True, include_comments=False) or ""
    if len(precise) < SHORT_PRECISE_OUTPUT:
        balanced = trafilatura.extract(html_text, url=url, include_comments=False) or ""
        if len(balanced) > 2 * len(precise) and _reads_like_prose(balanced, precise):
            precise = balanced
    return strip_boilerplate(precise)


def _htmldate(html_text: str) -> datetime | None:
    from htmldate import find_date

    try:
        found = find_date(html_text, outputformat="%Y-%m-%dT%H:%M:%S", extensive_search=False)
    except Exception:  # htmldate raises a variety of parser errors on odd pages
        return None
    return parse_date(found) if found else None


def parse_document(html_text: str | bytes) -> lxml.html.HtmlElement:
    if isinstance(html_text, bytes):
        html_text = html_text.decode("utf-8", errors="replace")
    if not html_text or not html_text.strip():
        raise ExtractionError("empty page")
    html_text = re.sub(r"^\s*<\?xml[^>]*\?>", "", html_text)
    try:
        doc = lxml.html.document_fromstring(html_text)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"not parseable as HTML: {exc}") from exc
    return doc


def _unwrap_font(doc: lxml.html.HtmlElement) -> None:
    """RTHK's accessibility script wraps text in <font my="my">; unwrap so text joins up."""
    for font in doc.xpath('//font[@my="my"]'):
        font.drop_tag()


def extract_article(
    html_text: str | bytes,
    url: str,
    *,
    fetched_at: datetime | None = None,
    declared_language: str | None = None,
    rules: SiteRules | None = None,
) -> Extracted:
    """Run the cascade on one page. Raises ExtractionError when no article text is found.

    `rules` are the site's selectors from the source registry; without them the generic steps run.
    """
    raw = html_text.decode("utf-8", errors="replace") if isinstance(html_text, bytes) else html_text
    doc = parse_document(raw)
    _unwrap_font(doc)
    rules = rules or SiteRules()
    result = Extracted(url=url)

    ld = jsonld_article(doc)
    nd = next_data(doc)
    nd_article = next_data_article(nd) if nd else None

    # Body. On a known site (selectors declared) structured data comes first. On an unknown site
    # JSON-LD articleBody is sometimes a summary or carries captions, so the generic extractor's
    # text is kept unless articleBody is much longer (the extractor then cut the article short).
    ld_body = clean_text(ld["articleBody"]) if ld and isinstance(ld.get("articleBody"), str) else ""
    if len(ld_body) >= MIN_BODY_CHARS and not rules.body:
        generic = clean_text(_trafilatura(raw, url))
        if len(generic) >= MIN_BODY_CHARS and len(ld_body) < 1.5 * len(generic):
            ld_body = ""
            result.body, result.body_method = generic, "trafilatura"
    if result.body:
        pass
    elif len(ld_body) >= MIN_BODY_CHARS:
        result.body, result.body_method = ld_body, "jsonld"
    elif nd_article and nd_article.get("body") and len(str(nd_article["body"])) >= MIN_BODY_CHARS:
        result.body, result.body_method = clean_text(str(nd_article["body"])), "next_data"
    else:
        for selector in rules.body:
            nodes = doc.cssselect(selector)
            if nodes:
                text = _block_text(nodes[0], rules.drop)
                if len(text) >= MIN_BODY_CHARS:
                    result.body, result.body_method = clean_text(text), f"site:{selector}"
                    break
    if not result.body:
        result.body, result.body_method = clean_text(_trafilatura(raw, url)), "trafilatura"

    # Title
    title = ""
    if ld and ld.get("headline"):
        title = str(ld["headline"])
    elif nd_article and nd_article.get("title"):
        title = str(nd_article["title"])
    else:
        title = _first_text(doc, rules.title) or _meta(doc, "og:title", "twitter:title")
        if not title:
            title = _first_text(doc, ("h1",)) or _first_text(doc, ("title",))
    title = _strip_suffix(clean_title(title), rules.title_suffixes)
    if not rules.title_suffixes and not ld:
        title = _SUFFIX_SPLIT.sub("", title) if len(title) > 30 else title
    result.title = title

    # Dates
    candidates: list[tuple[str, Any]] = []
    if ld:
        candidates.append(("jsonld", ld.get("datePublished") or ld.get("dateCreated")))
    if nd_article:
        candidates.append(("next_data", nd_article.get("published")))
    for selector in rules.date:
        candidates.append((f"site:{selector}", _first_text(doc, [selector])))
    candidates.append(
        ("meta", _meta(doc, "article:published_time", "datePublished", "pubdate", "publishdate"))
    )
    for method, value in candidates:
        parsed = plausible(parse_date(value, reference=fetched_at), fetched_at=fetched_at) if value else None
        if parsed:
            result.published, result.date_method = parsed, method
            break
    if result.published is None:
        found = plausible(_htmldate(raw), fetched_at=fetched_at)
        if found:
            result.published, result.date_method = found, "htmldate"
    if ld and ld.get("dateModified"):
        result.modified = plausible(parse_date(ld["dateModified"]), fetched_at=fetched_at)

    # Authors
    authors = _names(ld.get("author")) if ld else []
    if not authors and nd_article:
        authors = list(nd_article.get("authors") or [])
    if not authors and rules.authors:
        authors = [_first_text(doc, rules.authors)]
    if not authors:
        meta_author = _meta(doc, "author", "article:author")
        if meta_author and not meta_author.startswith("http"):
            authors = [meta_author]
    result.authors = list(dict.fromkeys(a.strip() for a in authors if a and a.strip()))

    section = ld.get("articleSection") if ld else None
    result.section = section[0] if isinstance(section, list) and section else section
    lang_attr = (doc.get("lang") or "").strip() or declared_language
    result.language = detect_language(f"{result.title}\n{result.body}", lang_attr)
    if len(result.body) < MIN_BODY_CHARS and not result.title:
        raise ExtractionError("no article text found")
    return result
