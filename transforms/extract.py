"""Article extraction cascade: structured data first, then the site's own markup, then trafilatura.

Only generic logic lives here. What is particular to one site (CSS selectors, furniture to drop by
selector or by paragraph text, where its article ends, wrapper tags to unwrap, what it appends to its
headline, a clock written into the headline, how to read its embedded JavaScript payload) is declared
as `SiteRules` in that site's module under `spiders/sources/` and handed in by the caller (`rules=`).

Bytes are decoded by `transforms.decode.decode_html` (BOM, HTTP charset, <meta>, detection, mojibake
check); a page that reads clean in no encoding raises `UndecodablePage`.

Order for the body: JSON-LD `NewsArticle.articleBody` → the site's `__NEXT_DATA__` payload (through
its `next_data` reader) → the site's body selectors, cleaned with BeautifulSoup → trafilatura on the
same parsed tree, followed by generic clean-up (furniture lines, the headline repeated at the top, a
body split over sibling containers by ad slots). The site's paragraph rules apply to whichever won.
Title: JSON-LD → payload → site selectors (the page's own headline first when the site says JSON-LD
decorates it) → meta tags → <h1>/<title>, without site names, dates or clocks appended to it. Dates:
structured data → the site's own element (its `datetime`/`content` first) → meta tags → htmldate,
always through the plausibility guard; a day without a clock takes the clock the page shows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import date as date_type
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

import lxml.html
from bs4 import BeautifulSoup, Tag
from lxml import etree
from lxml.cssselect import CSSSelector

from transforms.dates import parse_date, plausible
from transforms.decode import decode_html
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
#: a body the site's own selectors find may be this short (a one-line notice) and still beat the generic extractor
MIN_SITE_BODY_CHARS = 10


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
    #: the page's own date element; its `datetime` or `content` attribute is read before its text
    date: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    #: furniture inside the body (ads, share bars, closing blocks), removed before text extraction
    drop: tuple[str, ...] = ()
    #: wrapper tags inside the body whose text is kept but the tag itself removed
    unwrap: tuple[str, ...] = ()
    title_suffixes: tuple[str, ...] = ()
    #: reader of the site's `__NEXT_DATA__` payload
    next_data: PayloadReader | None = None
    #: regexes of whole body paragraphs that are furniture wherever their markup sits (player controls, tag lines)
    drop_paragraphs: tuple[str, ...] = ()
    #: regexes of the body paragraph where the article ends (a related-links block): it and all after it go
    end_paragraphs: tuple[str, ...] = ()
    #: regexes removed from the title: the date, section and site name a page appends to its headline
    title_strip: tuple[str, ...] = ()
    #: regex of a clock the site writes into its headline, e.g. "(21:05)", with groups `hour` and `minute`:
    #: it is cut from the title and gives the publication time when the page's date has none
    title_time: str | None = None
    #: the page's own headline (payload, then title selectors) wins over JSON-LD `headline`, which the
    #: site decorates (labels such as "Exclusive |", its channel name) or leaves stale
    prefer_page_title: bool = False
    #: the site's structured dates (JSON-LD, meta) give the right day but a placeholder clock: the time
    #: comes from the page's own date element (or its headline) when that shows one
    structured_day_only: bool = False

    def as_record(self) -> dict[str, Any]:
        """The declared rules as JSON-friendly data (a payload reader by its qualified name)."""
        record: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if callable(value):
                record[f.name] = f"{value.__module__}.{value.__qualname__}"
            elif isinstance(value, tuple) and value:
                record[f.name] = list(value)
            elif isinstance(value, str | bool) and value:
                record[f.name] = value
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


#: <title> of the interstitial a bot wall serves instead of the page (Cloudflare, DDoS-Guard)
_INTERSTITIAL_TITLE = re.compile(
    r"^(Just a moment\.\.\.|Attention Required! \| Cloudflare|DDoS-Guard|Checking your browser.*)$",
    re.IGNORECASE,
)


class ExtractionError(ValueError):
    """The page has no article: empty, not HTML, or no text anywhere in the cascade."""


class UndecodablePage(ExtractionError):
    """The page's bytes read as clean text in no encoding (transforms/decode.py): never stored."""


def page_text(html: str | bytes, content_type: str | bytes | None = None) -> str:
    """A page's text: bytes through `decode_html` (BOM, HTTP charset, <meta>, detection, mojibake check)."""
    if isinstance(html, str):
        return html
    decoded = decode_html(html, content_type)
    if not decoded.clean:
        raise UndecodablePage(f"undecodable page ({decoded.note})")
    return decoded.text


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


#: runs of white space a browser collapses; the full-width space U+3000 is text and stays as written
_COLLAPSIBLE_SPACE = re.compile(r"[ \t\r\n\f\v\u00a0]+")


def _inline_text(node: lxml.html.HtmlElement) -> str:
    return _COLLAPSIBLE_SPACE.sub(" ", node.text_content()).strip()


def _first_text(doc: lxml.html.HtmlElement, selectors: Iterable[str]) -> str:
    for selector in selectors:
        for node in _css(selector)(doc):
            text = _inline_text(node)
            if text:
                return text
    return ""


def _date_text(node: lxml.html.HtmlElement) -> str:
    """A date element's machine-readable value (`datetime`, `content`) if it has one, else its text."""
    for attribute in ("datetime", "content"):
        value = (node.get(attribute) or "").strip()
        if value:
            return value
    return _inline_text(node)


def _first_date_node(doc: lxml.html.HtmlElement, selectors: Iterable[str]) -> lxml.html.HtmlElement | None:
    """The page's date element: the first node of the first selector that matches anything."""
    for selector in selectors:
        nodes = _css(selector)(doc)
        if nodes:
            return nodes[0]
    return None


@lru_cache(maxsize=512)
def _css(selector: str) -> CSSSelector:
    """A compiled CSS selector (compiling one costs more than running it)."""
    return CSSSelector(selector, translator="html")


def meta_index(doc: lxml.html.HtmlElement) -> dict[str, str]:
    """Each <meta> `property`, `name` or `itemprop` with its first non-empty `content`, read in one pass."""
    index: dict[str, str] = {}
    for node in doc.iter("meta"):
        content = (node.get("content") or "").strip()
        if not content:
            continue
        for attribute in ("property", "name", "itemprop"):
            key = node.get(attribute)
            if key and key not in index:
                index[key] = content
    return index


def _meta(page: Page, *names: str) -> str:
    for name in names:
        if value := page.metas.get(name):
            return value
    return ""


# -- generic extractors: trafilatura and htmldate -----------------------------------------------

# Lines that are page furniture, not article text, whatever the site: calls to action, sharing,
# comment counters, copyright, teaser links, datelines and credit lines. Applied to the generic
# extractor's output only.
_BOILERPLATE_LINE = re.compile(
    r"^\s*(read more|related( articles| stories)?:?$|more:|see also|also read|don't miss|most read|most popular|"
    r"follow (us|\w+ on)|share (this|on)|sign up|subscribe|newsletter|advertisement|filed under|tags?:|"
    r"tell us what|if you enjoyed|thank you\.?$|copyright|©|all rights reserved|\d+\s+comments?$|comments?$|"
    r"click here|watch:|listen:|photo:|image:|getty images|also on \S+\.\w+ |like this story\?|"
    r"write to .{2,60} at \S+@\S+$|this copy is for your personal|this article has been sent to|"
    r"an error has occurred, please try again|- (order reprints|print article)$|updated( at)? \d{1,2}[:.]\d{2}|"
    r"first published|opt out of the sale|we won't sell or share your personal information|廣告$|延伸閱讀|相關新聞|相關文章|相關報道|熱門新聞|其他熱爆話題|訂閱|分享到|"
    r"(發佈|發布|更新|出版)時間[:：]|(記者|攝影|撰文|編輯|來源|圖片來源)[:：]\s*\S{1,30}$)",
    re.IGNORECASE,
)
_TEASER_LINE = re.compile(r"\[[A-Z ]{4,}\]\s*\|?$")
#: a tag list closing the article: "Tags", then the tags
_TAGS_LINE = re.compile(r"^\s*(tags?|topics?|tagged( with)?|標籤|相關字詞)\s*[:：﹕]?\s*$", re.IGNORECASE)
#: a counter on its own line: reactions ("41", "1,463"), gallery positions ("1/2")
_COUNTER_LINE = re.compile(r"^[\d,.\s/]{1,12}$")
_SENTENCE_END = re.compile(r"[.!?。！？…;；:：]")
SHORT_PRECISE_OUTPUT = 500


def strip_boilerplate(text: str) -> str:
    """The generic extractor's text without furniture lines, counters and a closing tag list."""
    lines = [
        line
        for line in text.split("\n")
        if line.strip() and not _BOILERPLATE_LINE.match(line) and not _TEASER_LINE.search(line)
    ]
    for k in range(max(0, len(lines) - 3), len(lines)):
        if _TAGS_LINE.match(lines[k]):
            lines = lines[:k]
            break
    kept: list[str] = []
    for k, line in enumerate(lines):
        if _COUNTER_LINE.match(line):
            continue
        # a reaction label ("好驚", "Like") right before its counter
        following = lines[k + 1] if k + 1 < len(lines) else ""
        if len(line.strip()) <= 6 and not _SENTENCE_END.search(line) and _COUNTER_LINE.match(following):
            continue
        kept.append(line)
    return "\n".join(kept)


def _reads_like_prose(longer: str, shorter: str) -> bool:
    """Whether what the balanced mode adds is paragraphs rather than a list of headlines or links."""
    kept = set(shorter.split("\n"))
    added = [line for line in longer.split("\n") if line.strip() and line not in kept]
    if not added:
        return False
    size = sum(len(line) for line in added)
    sentence_ends = sum(line.count(mark) for line in added for mark in ("。", ". ", "！", "？", "! ", "? "))
    return size / len(added) >= 80 and sentence_ends * 250 >= size


def _squash(text: str) -> str:
    return " ".join(text.split())


def _fold_key(text: str) -> str:
    """Letters and digits only, lower case: how a headline is recognised in a line of text."""
    return re.sub(r"\W+", "", text).lower()


def _trafilatura(page: Page) -> str:
    """trafilatura in precision mode on the page's own parsed tree (trafilatura copies it); when that
    keeps very little, its balanced mode if it finds at least twice as much. Then the generic clean-up:
    furniture lines, the headline repeated at the top, and the rest of an article split over sibling
    containers (ad slots between parts of the body), which trafilatura stops short of."""
    import trafilatura

    precise = (
        trafilatura.extract(page.doc, url=page.url, favor_precision=True, include_comments=False, fast=True)
        or ""
    )
    if len(precise) < SHORT_PRECISE_OUTPUT:
        balanced = trafilatura.extract(page.doc, url=page.url, include_comments=False) or ""
        if len(balanced) > 2 * len(precise) and _reads_like_prose(balanced, precise):
            precise = balanced
    text = _drop_leading_headline(strip_boilerplate(precise), page)
    text = strip_boilerplate(_continue_in_sibling_containers(text, page))
    if len(text) < SHORT_GENERIC_OUTPUT:
        dense = _densest_paragraphs(page)
        if len(dense) > max(2 * len(text), MIN_BODY_CHARS):
            text = strip_boilerplate(dense)
    return text


#: below this, the generic text is checked against the page's densest block of paragraphs
SHORT_GENERIC_OUTPUT = 200
_NOT_CONTENT = {"header", "footer", "nav", "aside", "form", "button", "figcaption", "li", "a"}


def _densest_paragraphs(page: Page) -> str:
    """The paragraphs of the element holding the most paragraph text, outside navigation and furniture:
    a last resort when the generic extractor keeps next to nothing of a short article."""
    totals: dict[Any, int] = {}
    for paragraph in page.doc.iter("p"):
        parent = paragraph.getparent()
        if parent is None or any(node.tag in _NOT_CONTENT for node in paragraph.iterancestors()):
            continue
        totals[parent] = totals.get(parent, 0) + len(_squash(paragraph.text_content()))
    if not totals:
        return ""
    best = max(totals, key=lambda node: totals[node])
    if totals[best] < MIN_BODY_CHARS:
        return ""
    paragraphs = (_squash(child.text_content()) for child in best if child.tag == "p")
    return "\n".join(text for text in paragraphs if text)


def _headline_keys(page: Page) -> set[str]:
    names = [_meta(page, "og:title"), _meta(page, "twitter:title"), _first_text(page.doc, ("title",))]
    names += [_inline_text(node) for node in page.doc.xpath("//h1")[:3]]
    headline = page.jsonld_field("headline")
    if isinstance(headline, str):
        names.append(headline)
    return {key for key in map(_fold_key, names) if len(key) >= 8}


def _drop_leading_headline(text: str, page: Page) -> str:
    """The text without the page's headline (and a document title built on it) heading it."""
    lines = text.split("\n")
    if not lines or len(lines[0]) > 300:  # a paragraph, not a headline
        return text
    keys = _headline_keys(page)

    def is_headline(line: str) -> bool:
        key = _fold_key(line)
        return bool(key) and any(
            key == h
            or (len(key) >= 12 and h.startswith(key))
            or (key.startswith(h) and len(key) - len(h) < 40)
            for h in keys
        )

    while lines and (not lines[0].strip() or is_headline(lines[0])):
        lines.pop(0)
    return "\n".join(lines)


def _continue_in_sibling_containers(text: str, page: Page) -> str:
    """Paragraphs that follow the extracted text in sibling or cousin elements of the same class as the
    element holding its last paragraph: an article body cut into parts by ad slots."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines or len(lines[-1]) < 20:
        return text
    last = _squash(lines[-1])
    probe = last[:20]
    holder = None
    for paragraph in page.doc.iter("p"):
        raw = paragraph.text_content()
        if probe not in raw and probe not in _squash(raw[:200]):
            continue
        content = _squash(raw)
        if len(content) >= 20 and (content == last or (len(last) > 40 and last.startswith(content[:40]))):
            holder = paragraph.getparent()
            break
    if holder is None or not holder.get("class") or holder.getparent() is None:
        return text
    parent = holder.getparent()
    grandparent = parent.getparent()
    same = [
        node
        for node in page.doc.xpath("//*[@class=$c]", c=holder.get("class"))
        if node is holder
        or node.getparent() is parent
        or (
            grandparent is not None
            and node.getparent() is not None
            and node.getparent().getparent() is grandparent
        )
    ]
    if len(same) < 2 or holder not in same:
        return text
    have = {_squash(line) for line in lines}
    extra = [
        content
        for node in same[same.index(holder) + 1 :]
        for paragraph in node.iter("p")
        if (content := _squash(paragraph.text_content())) and content not in have
    ]
    return "\n".join(lines + extra) if extra else text


def _htmldate(page: Page) -> datetime | None:
    from htmldate import find_date

    try:  # htmldate copies a tree it is handed before pruning it
        found = find_date(page.doc, outputformat="%Y-%m-%dT%H:%M:%S", extensive_search=False)
    except Exception:  # htmldate raises a variety of parser errors on odd pages
        return None
    return parse_date(found) if found else None


# -- the cascade --------------------------------------------------------------------------------


#: comments and processing instructions are never text; trafilatura parses the same way, so it can work
#: on this tree instead of parsing the page again
_HTML_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)


def parse_document(html_text: str | bytes) -> lxml.html.HtmlElement:
    html_text = page_text(html_text)
    if not html_text or not html_text.strip():
        raise ExtractionError("empty page")
    html_text = re.sub(r"^\s*<\?xml[^>]*\?>", "", html_text)
    try:
        doc = lxml.html.document_fromstring(html_text, parser=_HTML_PARSER)
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
        raw = page_text(html_text)
        doc = parse_document(raw)
        payload = None
        if rules.next_data is not None:
            data = next_data(doc)
            payload = rules.next_data(data) if data else None
        return cls(url=url, raw=raw, doc=doc, rules=rules, jsonld=jsonld_article(doc), payload=payload)

    @cached_property
    def headline(self) -> tuple[str, tuple[int, int] | None]:
        """(title, clock written into the headline), see `read_headline`."""
        return read_headline(self)

    @cached_property
    def metas(self) -> dict[str, str]:
        return meta_index(self.doc)

    @cached_property
    def generic_text(self) -> str:
        """The generic extractor's text (trafilatura and clean-up), computed once."""
        return clean_text(_trafilatura(self))

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
    if _INTERSTITIAL_TITLE.match(_first_text(page.doc, ("title",))):
        raise ExtractionError("a bot-check interstitial, not the article")
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
    # a page titled only with the site's name and without text is a home or error page (a redirect target)
    if len(result.body) < MIN_BODY_CHARS and (not result.title or result.title in _site_names(page)):
        raise ExtractionError("no article text found")
    return result


# -- body ---------------------------------------------------------------------------------------


def extract_body(page: Page) -> tuple[str, str]:
    """(body, method): the first step that finds real text, trafilatura as the last resort; the site's
    paragraph rules then drop furniture whatever markup it came in."""
    for step in (body_generic_over_summary, body_from_structured_data, body_from_site_selectors):
        found = step(page)
        if found:
            return drop_furniture_paragraphs(found[0], page.rules), found[1]
    return drop_furniture_paragraphs(page.generic_text, page.rules), "trafilatura"


def drop_furniture_paragraphs(body: str, rules: SiteRules) -> str:
    """The body without the lines the site declares furniture, cut at its end-of-article marker. A line
    is a paragraph here: site markup gives blank-line paragraphs, JSON-LD bodies single line breaks."""
    if not (rules.drop_paragraphs or rules.end_paragraphs):
        return body
    kept: list[str] = []
    for line in body.split("\n"):
        text = line.strip()
        if text and any(re.search(pattern, text) for pattern in rules.end_paragraphs):
            break
        if not text or not any(re.search(pattern, text) for pattern in rules.drop_paragraphs):
            kept.append(line)
    return re.sub(r"\n\s*\n+", "\n\n", "\n".join(kept)).strip()


def body_generic_over_summary(page: Page) -> tuple[str, str] | None:
    """On an unknown site (no body selectors) JSON-LD articleBody is sometimes a summary or carries
    captions: the generic extractor's text wins unless articleBody is much longer (the extractor
    then cut the article short)."""
    ld_body = page.jsonld_body
    if page.rules.body or len(ld_body) < MIN_BODY_CHARS:
        return None
    generic = page.generic_text
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
    """The first of the site's body selectors that holds real text once its furniture is gone; that may
    be short (a one-line notice, a paywalled lead), which the generic extractor would only pad with the
    headline and dateline."""
    for selector in page.rules.body:
        nodes = _css(selector)(page.doc)
        if not nodes:
            continue
        text = clean_text(paragraph_text(cleaned_fragment(nodes[0], page.rules)))
        if len(drop_furniture_paragraphs(text, page.rules)) >= MIN_SITE_BODY_CHARS:
            return text, f"site:{selector}"
    return None


# -- title --------------------------------------------------------------------------------------

_SUFFIX_SPLIT = re.compile(r"\s+[|｜\-–]\s+[^|｜\-–]{2,40}$")
_TITLE_SEPARATORS = "|｜-–—:·•丨"


def extract_title(page: Page) -> str:
    """The headline as the outlet wrote it, without the site name, date or clock the page appends."""
    return page.headline[0]


def read_headline(page: Page) -> tuple[str, tuple[int, int] | None]:
    """(title, clock): the cleaned headline and the time of day the site wrote into it, if any."""
    candidate, origin = _title_candidate(page)
    title = clean_title(candidate)
    for pattern in page.rules.title_strip:
        title = re.sub(pattern, "", title).strip()
    for suffix in page.rules.title_suffixes:
        if title.endswith(suffix):
            title = title[: -len(suffix)].strip()
            break
    else:
        title = _strip_site_name(title, page)
        # a document title often ends with the site's name; a headline element or field does not
        if origin == "document" and not page.rules.title_suffixes and not page.jsonld and len(title) > 30:
            title = _SUFFIX_SPLIT.sub("", title)
    clock = None
    if page.rules.title_time and (match := re.search(page.rules.title_time, title)):
        hour, minute = int(match["hour"]), int(match["minute"])
        if hour < 24 and minute < 60:
            clock = (hour, minute)
            title = (title[: match.start()] + title[match.end() :]).strip()
    return title, clock


def _title_candidate(page: Page) -> tuple[str, str]:
    """(raw headline, origin): "headline" for structured data and the site's own headline elements,
    "document" for meta tags and <title>, which often append the site's name."""
    structured = page.jsonld_field("headline")
    own = (page.payload.title if page.payload else None) or _first_text(page.doc, page.rules.title)
    if own and (page.rules.prefer_page_title or not structured):
        return own, "headline"
    if structured:
        return str(structured), "headline"
    meta = _meta(page, "og:title", "twitter:title")
    if meta:
        return meta, "document"
    h1 = _first_text(page.doc, ("h1",))
    if h1:
        return h1, "headline"
    return _first_text(page.doc, ("title",)), "document"


def _site_names(page: Page) -> list[str]:
    names = [_meta(page, "og:site_name"), _meta(page, "application-name")]
    publisher = page.jsonld_field("publisher")
    names.extend(person_names(publisher) if isinstance(publisher, dict | list) else [])
    return [name.strip() for name in names if name and len(name.strip()) >= 2]


def _strip_site_name(title: str, page: Page) -> str:
    """The title without a trailing (or leading) "| Site Name" when the page names the site."""
    for name in _site_names(page):
        if title == name:
            continue
        if title.endswith(name):
            head = title[: -len(name)].rstrip()
            if head and head[-1] in _TITLE_SEPARATORS:
                return head[:-1].strip()
        if title.startswith(name):
            tail = title[len(name) :].lstrip()
            if tail and tail[0] in _TITLE_SEPARATORS:
                return tail[1:].strip()
    return title


# -- dates --------------------------------------------------------------------------------------

#: a clock in a date text: "19:11", "19：11", "19時11分"
_CLOCK = re.compile(r"(?<!\d)(\d{1,2})\s*(?:[:：]|時)\s*(\d{2})(?!\d)")


def _has_clock(value: Any) -> bool:
    """Whether a raw date value carries a time of day (an epoch number or datetime always does)."""
    if isinstance(value, str):
        return bool(_CLOCK.search(value))
    if isinstance(value, datetime):
        return True
    return isinstance(value, int | float) and not isinstance(value, bool | date_type)


def _published_candidates(page: Page) -> Iterator[tuple[str, Any]]:
    """(method, raw value) in order of trust; computed lazily, so a JSON-LD date costs nothing more."""
    if page.jsonld:
        yield "jsonld", page.jsonld_field("datePublished", "dateCreated")
    if page.payload:
        yield "next_data", page.payload.published
    for selector in page.rules.date:
        nodes = _css(selector)(page.doc)
        yield f"site:{selector}", _date_text(nodes[0]) if nodes else ""
    yield "meta", _meta(page, "article:published_time", "datePublished", "pubdate", "publishdate")


def extract_published(page: Page, fetched_at: datetime | None) -> tuple[datetime | None, str]:
    """(publication time, method), the first plausible candidate; htmldate when none is. A day without
    a clock (or a placeholder clock the site declares) takes the clock the page shows elsewhere."""
    for method, value in _published_candidates(page):
        parsed = plausible(parse_date(value, reference=fetched_at), fetched_at=fetched_at) if value else None
        if parsed:
            structured = not method.startswith("site:")
            if not _has_clock(value) or (page.rules.structured_day_only and structured):
                clock, source = _page_clock(page, fetched_at)
                if clock:
                    moved = parsed.replace(hour=clock[0], minute=clock[1], second=0, microsecond=0)
                    return plausible(moved, fetched_at=fetched_at) or parsed, f"{method}+{source}"
            return parsed, method
    found = plausible(_htmldate(page), fetched_at=fetched_at)
    return (found, "htmldate") if found else (None, "none")


def _page_clock(page: Page, fetched_at: datetime | None) -> tuple[tuple[int, int] | None, str]:
    """The time of day the page shows: its own date element's, else the one in its headline."""
    node = _first_date_node(page.doc, page.rules.date)
    text = _date_text(node) if node is not None else ""
    if text and _has_clock(text):
        parsed = parse_date(text, reference=fetched_at)
        if parsed:
            return (parsed.hour, parsed.minute), "site-clock"
        if match := _CLOCK.search(text):
            return (int(match.group(1)), int(match.group(2))), "site-clock"
    clock = page.headline[1]
    return (clock, "title-clock") if clock else (None, "")


def extract_modified(page: Page, fetched_at: datetime | None) -> datetime | None:
    """Last update time from structured data: JSON-LD, else the site's payload."""
    if page.rules.structured_day_only:
        return None
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
        meta_author = _meta(page, "author", "article:author")
        if meta_author and not meta_author.startswith("http"):
            authors = [meta_author]
    return list(dict.fromkeys(a.strip() for a in authors if a and a.strip()))


def extract_section(page: Page) -> str | None:
    section = page.jsonld.get("articleSection") if page.jsonld else None
    if isinstance(section, list):
        section = section[0] if section else None
    return str(section) if section else None
