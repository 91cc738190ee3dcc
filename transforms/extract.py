"""Article extraction cascade: structured data first, then the site's own markup, then trafilatura.

Only generic logic lives here. What is particular to one site (CSS selectors, furniture to drop,
wrapper tags to unwrap, how to read its embedded JavaScript payload) is declared as `SiteRules` in
that site's module under `spiders/sources/` and handed in by the caller (`rules=`).

Order for the body: JSON-LD `NewsArticle.articleBody` → the site's `__NEXT_DATA__` payload (through
its `next_data` reader) → the site's body selectors, cleaned with BeautifulSoup → trafilatura.
Title: JSON-LD → payload → site selectors → meta tags → <h1>/<title>. Dates: structured data → the
site's own format → meta tags → htmldate, always through the plausibility guard.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from functools import cached_property
from typing import Any

import lxml.html
from bs4 import BeautifulSoup, Tag
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


# -- what a site declares ---------------------------------------------------------------------


@dataclass(frozen=True)
class PayloadArticle:
    """Article fields read from a page's embedded JavaScript payload (e.g. Next.js `__NEXT_DATA__`).

    Dates stay as the site writes them (ISO text, epoch seconds or milliseconds): `parse_date`
    reads them later, through the same plausibility guard as every other date.
    """

    title: str | None = None
    body: str | None = None
    published: object = None
    modified: object = None
    authors: tuple[str, ...] = ()


#: A site's reader of its own `__NEXT_DATA__` JSON; None when the payload holds no article.
PayloadReader = Callable[[dict[str, Any]], PayloadArticle | None]


@dataclass(frozen=True)
class SiteRules:
    """How to read one host's article pages; declared next to the source in `spiders/sources/`."""

    #: CSS selectors of the article body, tried in order; the first with real text wins
    body: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    date: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    #: furniture inside the body (ads, share bars, closing blocks), removed before text extraction
    drop: tuple[str, ...] = ()
    #: wrapper tags inside the body whose text is kept but the tag itself removed
    unwrap: tuple[str, ...] = ()
    title_suffixes: tuple[str, ...] = ()
    #: reader of the site's `__NEXT_DATA__` payload
    next_data: PayloadReader | None = None

    def as_record(self) -> dict[str, Any]:
        """The declared rules as JSON-friendly data (a payload reader by its qualified name)."""
        record: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if callable(value):
                record[f.name] = f"{value.__module__}.{value.__qualname__}"
            elif value:
                record[f.name] = list(value)
        return record


NO_RULES = SiteRules()


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


# -- structured data: JSON-LD and __NEXT_DATA__ -------------------------------------------------


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


def _loads_lenient(raw: str) -> Any:
    """JSON, retried with control characters blanked (some sites emit raw newlines in strings)."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return json.loads(re.sub(r"[\x00-\x1f]", " ", raw))


def jsonld_article(doc: lxml.html.HtmlElement) -> dict[str, Any] | None:
    """The first JSON-LD node typed as an article, tolerating the broken JSON some sites emit."""
    for script in doc.xpath('//script[@type="application/ld+json"]'):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = _loads_lenient(raw)
        except json.JSONDecodeError:
            continue
        for node in _walk_jsonld(data):
            if _types(node) & ARTICLE_TYPES:
                return node
    return None


def person_names(value: Any) -> list[str]:
    """Names from a JSON author field: a string, a {"name": ...} object or a list of either."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return person_names(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in person_names(item)]
    return []


def next_data(doc: lxml.html.HtmlElement) -> dict[str, Any] | None:
    """The Next.js `__NEXT_DATA__` payload of a page, if it has one."""
    scripts = doc.xpath('//script[@id="__NEXT_DATA__"]')
    if not scripts or not scripts[0].text:
        return None
    try:
        data = json.loads(scripts[0].text)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def dig(data: Any, *path: str) -> Any:
    """`data[path[0]][path[1]]...`, or None as soon as a step is not a dict."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


# -- DOM helpers --------------------------------------------------------------------------------

#: never article text, on any site
ALWAYS_DROP = ("script", "style", "noscript", "iframe", "figure", "figcaption")
_BLOCK_TAGS = ["p", "div", "h2", "h3", "h4", "li", "blockquote", "tr"]


def cleaned_fragment(element: lxml.html.HtmlElement, rules: SiteRules) -> BeautifulSoup:
    """A copy of `element` as a BeautifulSoup tree with furniture removed and wrappers unwrapped
    (`ALWAYS_DROP` plus the site's `drop` and `unwrap` selectors); the page itself is untouched."""
    markup = lxml.html.tostring(element, encoding="unicode", with_tail=False)
    soup = BeautifulSoup(markup, "lxml")
    for selector in (*ALWAYS_DROP, *rules.drop):
        for node in soup.select(selector):
            if not node.decomposed:  # may sit inside a node removed just before
                node.decompose()
    for selector in rules.unwrap:
        for node in soup.select(selector):
            node.unwrap()
    return soup


def paragraph_text(fragment: Tag) -> str:
    """Visible text with paragraphs kept: <br> is a line break, a block tag starts and ends a paragraph."""
    for br in fragment.find_all("br"):
        br.insert_after("\n")
    for block in fragment.find_all(_BLOCK_TAGS):
        block.insert_before("\n\n")
        block.insert_after("\n\n")
    paragraphs = (" ".join(part.split()) for part in re.split(r"\n\s*\n|\n", fragment.get_text()))
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
                return str(value).strip()
    return ""


# -- generic extractors: trafilatura and htmldate -----------------------------------------------

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


# -- the cascade --------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Page:
    """One parsed page and what every step reads from it, computed once."""

    url: str
    raw: str
    doc: lxml.html.HtmlElement
    rules: SiteRules
    jsonld: dict[str, Any] | None
    payload: PayloadArticle | None

    @classmethod
    def parse(cls, html_text: str | bytes, url: str, rules: SiteRules) -> Page:
        raw = html_text.decode("utf-8", errors="replace") if isinstance(html_text, bytes) else html_text
        doc = parse_document(raw)
        payload = None
        if rules.next_data is not None:
            data = next_data(doc)
            payload = rules.next_data(data) if data else None
        return cls(url=url, raw=raw, doc=doc, rules=rules, jsonld=jsonld_article(doc), payload=payload)

    @cached_property
    def jsonld_body(self) -> str:
        """JSON-LD articleBody, cleaned; empty when there is none."""
        value = self.jsonld_field("articleBody")
        return clean_text(value) if isinstance(value, str) else ""

    def jsonld_field(self, *names: str) -> Any:
        """The first of the JSON-LD article's fields that is set."""
        for name in names:
            if self.jsonld and self.jsonld.get(name):
                return self.jsonld[name]
        return None


def extract_article(
    html_text: str | bytes,
    url: str,
    *,
    fetched_at: datetime | None = None,
    declared_language: str | None = None,
    rules: SiteRules | None = None,
) -> Extracted:
    """Run the cascade on one page. Raises ExtractionError when no article text is found.

    `rules` are the site's declarations from the source registry; without them the generic steps run.
    """
    page = Page.parse(html_text, url, rules or NO_RULES)
    body, body_method = extract_body(page)
    title = extract_title(page)
    published, date_method = extract_published(page, fetched_at)
    result = Extracted(
        url=url,
        title=title,
        body=body,
        published=published,
        modified=extract_modified(page, fetched_at),
        authors=extract_authors(page),
        section=extract_section(page),
        language=detect_language(
            f"{title}\n{body}", (page.doc.get("lang") or "").strip() or declared_language
        ),
        body_method=body_method,
        date_method=date_method,
    )
    if len(result.body) < MIN_BODY_CHARS and not result.title:
        raise ExtractionError("no article text found")
    return result


# -- body ---------------------------------------------------------------------------------------


def extract_body(page: Page) -> tuple[str, str]:
    """(body, method): the first step that finds real text, trafilatura as the last resort."""
    for step in (body_generic_over_summary, body_from_structured_data, body_from_site_selectors):
        found = step(page)
        if found:
            return found
    return clean_text(_trafilatura(page.raw, page.url)), "trafilatura"


def body_generic_over_summary(page: Page) -> tuple[str, str] | None:
    """On an unknown site (no body selectors) JSON-LD articleBody is sometimes a summary or carries
    captions: the generic extractor's text wins unless articleBody is much longer (the extractor
    then cut the article short)."""
    ld_body = page.jsonld_body
    if page.rules.body or len(ld_body) < MIN_BODY_CHARS:
        return None
    generic = clean_text(_trafilatura(page.raw, page.url))
    if len(generic) >= MIN_BODY_CHARS and len(ld_body) < 1.5 * len(generic):
        return generic, "trafilatura"
    return None


def body_from_structured_data(page: Page) -> tuple[str, str] | None:
    """JSON-LD articleBody, else the body of the site's embedded payload."""
    ld_body = page.jsonld_body
    if len(ld_body) >= MIN_BODY_CHARS:
        return ld_body, "jsonld"
    payload_body = page.payload.body if page.payload else None
    if payload_body and len(payload_body) >= MIN_BODY_CHARS:
        return clean_text(payload_body), "next_data"
    return None


def body_from_site_selectors(page: Page) -> tuple[str, str] | None:
    """The first of the site's body selectors whose cleaned text is long enough."""
    for selector in page.rules.body:
        nodes = page.doc.cssselect(selector)
        if not nodes:
            continue
        text = paragraph_text(cleaned_fragment(nodes[0], page.rules))
        if len(text) >= MIN_BODY_CHARS:
            return clean_text(text), f"site:{selector}"
    return None


# -- title --------------------------------------------------------------------------------------

_SUFFIX_SPLIT = re.compile(r"\s+[|｜\-–]\s+[^|｜\-–]{2,40}$")


def extract_title(page: Page) -> str:
    """The headline, without the site name the page appends to it."""
    title = clean_title(_title_candidate(page))
    for suffix in page.rules.title_suffixes:
        if title.endswith(suffix):
            return title[: -len(suffix)].strip()
    if not page.rules.title_suffixes and not page.jsonld and len(title) > 30:
        title = _SUFFIX_SPLIT.sub("", title)
    return title


def _title_candidate(page: Page) -> str:
    headline = page.jsonld_field("headline")
    if headline:
        return str(headline)
    if page.payload and page.payload.title:
        return page.payload.title
    return (
        _first_text(page.doc, page.rules.title)
        or _meta(page.doc, "og:title", "twitter:title")
        or _first_text(page.doc, ("h1",))
        or _first_text(page.doc, ("title",))
    )


# -- dates --------------------------------------------------------------------------------------


def _published_candidates(page: Page) -> Iterator[tuple[str, Any]]:
    """(method, raw value) in order of trust; computed lazily, so a JSON-LD date costs nothing more."""
    if page.jsonld:
        yield "jsonld", page.jsonld_field("datePublished", "dateCreated")
    if page.payload:
        yield "next_data", page.payload.published
    for selector in page.rules.date:
        yield f"site:{selector}", _first_text(page.doc, [selector])
    yield "meta", _meta(page.doc, "article:published_time", "datePublished", "pubdate", "publishdate")


def extract_published(page: Page, fetched_at: datetime | None) -> tuple[datetime | None, str]:
    """(publication time, method), the first plausible candidate; htmldate when none is."""
    for method, value in _published_candidates(page):
        parsed = plausible(parse_date(value, reference=fetched_at), fetched_at=fetched_at) if value else None
        if parsed:
            return parsed, method
    found = plausible(_htmldate(page.raw), fetched_at=fetched_at)
    return (found, "htmldate") if found else (None, "none")


def extract_modified(page: Page, fetched_at: datetime | None) -> datetime | None:
    """Last update time from structured data: JSON-LD, else the site's payload."""
    value = page.jsonld_field("dateModified") or (page.payload.modified if page.payload else None)
    return plausible(parse_date(value), fetched_at=fetched_at) if value else None


# -- authors and section ------------------------------------------------------------------------


def extract_authors(page: Page) -> list[str]:
    """Structured authors first, then the site's byline, then a meta tag that is not a URL."""
    authors = person_names(page.jsonld.get("author")) if page.jsonld else []
    if not authors and page.payload:
        authors = list(page.payload.authors)
    byline = _first_text(page.doc, page.rules.authors) if not authors else ""
    if byline:
        authors = [byline]
    if not authors:
        meta_author = _meta(page.doc, "author", "article:author")
        if meta_author and not meta_author.startswith("http"):
            authors = [meta_author]
    return list(dict.fromkeys(a.strip() for a in authors if a and a.strip()))


def extract_section(page: Page) -> str | None:
    section = page.jsonld.get("articleSection") if page.jsonld else None
    if isinstance(section, list):
        section = section[0] if section else None
    return str(section) if section else None
