"""Base spiders, one per kind of source: RSS/Atom feed, news sitemap, JSON API, listing page.

A per-source module only declares a `Source`; these classes do the crawling. Every kind ends in
the same place: an article URL that is new (or changed) is fetched and run through the
extraction cascade, and an item is yielded. Known URLs are skipped (incremental crawling), feeds
are fetched with conditional GET, and every failure is counted in the crawler stats, which the
runner turns into source health.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response

from spiders.model import Source
from transforms.dates import HKT, parse_date, plausible
from transforms.extract import ExtractionError, extract_article
from transforms.text import clean_text, clean_title, detect_language
from transforms.urls import canonical_url

_TRUNCATED = re.compile(r"(\.\.\.|…|……|\[\.\.\.\]|Read more|閱讀全文|more\s*»)\s*$", re.IGNORECASE)
FULL_TEXT_MIN_CHARS = 20
_LATIN1 = {"iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252", "ascii", "us-ascii"}


def response_text(response: Response) -> str:
    """Body text, trusting bytes over a wrong declaration.

    Some HK sites declare ISO-8859-1 but serve UTF-8 (on.cc, The Standard's legacy site) and
    some old pages are Big5: valid UTF-8 wins over a Latin-1 label, then Big5 is tried.
    """
    body = response.body
    declared = (getattr(response, "encoding", None) or "").lower()
    if declared in _LATIN1 or not declared:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        return response.text
    except (AttributeError, UnicodeDecodeError):
        for encoding in ("utf-8", "big5hkscs", "gb18030"):
            try:
                return body.decode(encoding)
            except UnicodeDecodeError:
                continue
        return body.decode("utf-8", errors="replace")


def load_crawl_state(path: str | None) -> dict[str, Any]:
    """Seen URLs and feed validators, prepared by the runner from the warehouse."""
    if not path or not Path(path).exists():
        return {"seen": {}, "validators": {}}
    return json.loads(Path(path).read_text(encoding="utf-8"))


class ArticleSpider(scrapy.Spider):
    """Shared behaviour: incremental skip, article requests, extraction, item building, errors."""

    source: ClassVar[Source]

    custom_settings: ClassVar[dict[str, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not getattr(self, "name", None):
            self.name = self.source.name
        overrides = kwargs.get("start_urls")
        self.start_urls = overrides.split(",") if isinstance(overrides, str) else list(self.source.start_urls)
        self.crawl_state = load_crawl_state(kwargs.get("state_file"))
        self.seen: dict[str, str | None] = self.crawl_state.get("seen", {})
        self.validators: dict[str, dict[str, str]] = self.crawl_state.get("validators", {})
        self.new_validators: dict[str, dict[str, str]] = {}
        self.fetched_at = datetime.now(HKT)
        self._queued: set[str] = set()

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        settings.set("DOWNLOAD_DELAY", cls.source.download_delay, priority="spider")

    # -- stats helpers -------------------------------------------------------------------------
    def count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"hkai/{key}", n)

    def problem(self, reason: str, url: str) -> None:
        """Count a failure and keep the first few reasons for the health report."""
        self.count("errors")
        reasons: list[str] = self.crawler.stats.get_value("hkai/error_reasons", [])
        if len(reasons) < 20:
            reasons.append(f"{reason}: {url}")
            self.crawler.stats.set_value("hkai/error_reasons", reasons)
        self.logger.warning("%s: %s", reason, url)

    # -- requests ------------------------------------------------------------------------------
    def listing_request(self, url: str, callback: Any) -> scrapy.Request:
        """Feed, sitemap, API or listing request, conditional when validators are known."""
        headers: dict[str, str] = {}
        known = self.validators.get(url, {})
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            headers=headers,
            dont_filter=True,
            meta={"handle_httpstatus_list": [304], "hkai_listing": True},
        )

    async def start(self) -> AsyncIterator[Any]:
        for url in self.start_urls:
            yield self.listing_request(url, self.parse_listing)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        if response.status == 304:
            self.count("listing_not_modified")
            return
        self.remember_validators(response)
        self.count("listings")
        if not response.body.strip():
            self.count("parse_failures")
            self.problem("malformed feed/listing (empty response body)", response.url)
            return
        yield from self.entries_to_requests(response)

    def entries_to_requests(self, response: Response) -> Iterator[Any]:
        raise NotImplementedError

    def remember_validators(self, response: Response) -> None:
        etag = response.headers.get("ETag")
        modified = response.headers.get("Last-Modified")
        if etag or modified:
            self.new_validators[response.url] = {
                "etag": etag.decode() if etag else "",
                "last_modified": modified.decode() if modified else "",
            }

    def is_known(self, url: str, updated: datetime | None = None) -> bool:
        """Stored and unchanged: the warehouse already has it and the feed reports no update."""
        key = canonical_url(url)
        if key in self._queued:
            return True
        if key not in self.seen:
            return False
        stored = parse_date(self.seen[key]) if self.seen[key] else None
        return not (updated and stored and updated > stored)

    def follow_article(self, url: str, entry: dict[str, Any] | None = None) -> Iterator[Any]:
        """Yield an item from a full-text entry, or a request for the article page."""
        entry = entry or {}
        updated = entry.get("modified_at") or entry.get("published_at")
        if self.is_known(url, updated):
            self.count("skipped_known")
            return
        self._queued.add(canonical_url(url))
        self.count("entries_new")
        if self.source.article_pages == "never" or (
            self.source.article_pages == "when_truncated" and self._full_text(entry.get("body"))
        ):
            item = self.build_item(url, entry, extraction="feed")
            if item:
                yield item
            return
        # dont_filter: duplicates are already skipped above, and a redirect loop must reach its limit
        # (and the errback) instead of vanishing silently in the dupefilter
        yield scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            cb_kwargs={"entry": entry},
            dont_filter=True,
        )

    @staticmethod
    def _full_text(body: str | None) -> bool:
        return bool(body) and len(body) >= FULL_TEXT_MIN_CHARS and not _TRUNCATED.search(body or "")

    # -- articles ------------------------------------------------------------------------------
    def parse_article(self, response: Response, entry: dict[str, Any]) -> Iterator[Any]:
        self.count("article_pages")
        if response.meta.get("hkai_blocked"):
            self.problem(f"blocked ({response.meta['hkai_blocked']})", response.url)
            return
        try:
            extracted = extract_article(
                response_text(response), response.url, fetched_at=self.fetched_at, rules=self.source.rules
            )
        except ExtractionError as exc:
            self.count("parse_failures")
            self.problem(f"extraction failed ({exc})", response.url)
            if entry.get("body"):
                item = self.build_item(response.url, entry, extraction="feed-fallback")
                if item:
                    yield item
            return
        record = {
            "title": extracted.title or entry.get("title"),
            "body": extracted.body or entry.get("body"),
            "published_at": extracted.published or entry.get("published_at"),
            "modified_at": extracted.modified,
            "authors": extracted.authors or entry.get("authors") or [],
            "section": extracted.section or entry.get("section"),
            "language": extracted.language,
        }
        item = self.build_item(
            response.url, record, extraction=f"{extracted.body_method}/{extracted.date_method}"
        )
        if item:
            yield item

    def build_item(self, url: str, record: dict[str, Any], *, extraction: str) -> dict[str, Any] | None:
        title = clean_title(record.get("title"))
        body = clean_text(record.get("body"))
        if not title and not body:
            self.count("parse_failures")
            self.problem("no title and no text", url)
            return None
        published = plausible(parse_date(record.get("published_at")), fetched_at=self.fetched_at)
        if record.get("published_at") and published is None:
            self.count("dates_rejected")
        modified = plausible(parse_date(record.get("modified_at")), fetched_at=self.fetched_at)
        language = record.get("language") or detect_language(f"{title}\n{body}", self.source.languages[0])
        return {
            "url": url,
            "canonical_url": canonical_url(url),
            "source": self.source.name,
            "language": language,
            "title": title,
            "body": body,
            "published_at": published.isoformat() if published else None,
            "modified_at": modified.isoformat() if modified else None,
            "authors": [a for a in record.get("authors") or [] if a],
            "fetched_at": self.fetched_at.isoformat(),
            "section": record.get("section"),
            "extraction": extraction,
        }

    def on_error(self, failure: Any) -> None:
        from scrapy.exceptions import IgnoreRequest

        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            self.count("robots_forbidden")  # the site asked us not to: polite, not an error
            self.logger.info("skipped by robots.txt: %s", url)
            return
        if request is not None and request.meta.get("hkai_listing"):
            self.count("listing_errors")
        response = getattr(failure.value, "response", None)
        status = f"HTTP {response.status}" if response is not None else failure.getErrorMessage()[:120]
        self.problem(f"download failed ({failure.type.__name__}: {status})", url)

    def closed(self, reason: str) -> None:
        self.crawler.stats.set_value("hkai/validators", self.new_validators)


class FeedArticleSpider(ArticleSpider):
    """RSS 2.0 / Atom feeds through feedparser; malformed feeds are counted, never fatal."""

    def entries_to_requests(self, response: Response) -> Iterator[Any]:
        import feedparser

        parsed = feedparser.parse(response.body, response_headers={"content-type": "application/xml"})
        if parsed.bozo and not parsed.entries:
            self.count("parse_failures")
            self.problem(f"malformed feed ({type(parsed.bozo_exception).__name__})", response.url)
            return
        if parsed.bozo:
            self.count("parse_failures")
            self.problem(
                f"malformed feed, partly parsed ({type(parsed.bozo_exception).__name__})", response.url
            )
        self.count("feed_entries", len(parsed.entries))
        for entry in parsed.entries:
            link = entry.get("link") or (
                entry.get("id") if str(entry.get("id", "")).startswith("http") else None
            )
            if not link:
                self.count("entries_without_link")
                continue
            content = entry.get("content") or []
            body = content[0].get("value") if content else entry.get("summary") or entry.get("description")
            authors = [a.get("name") for a in entry.get("authors") or [] if a.get("name")]
            record = {
                "title": entry.get("title"),
                "body": body,
                "published_at": entry.get("published") or entry.get("updated"),
                "modified_at": entry.get("updated") if entry.get("published") else None,
                "authors": authors or ([entry["author"]] if entry.get("author") else []),
                "section": (entry.get("tags") or [{}])[0].get("term") if entry.get("tags") else None,
            }
            record["published_at"] = parse_date(record["published_at"]) if record["published_at"] else None
            record["modified_at"] = parse_date(record["modified_at"]) if record["modified_at"] else None
            yield from self.follow_article(response.urljoin(link.strip()), record)


class SitemapArticleSpider(ArticleSpider):
    """Google News sitemaps and plain sitemaps; sitemap indexes are followed one level down."""

    def entries_to_requests(self, response: Response) -> Iterator[Any]:
        from scrapy.utils.sitemap import Sitemap

        try:
            sitemap = Sitemap(response.body)
        except Exception as exc:  # lxml raises several types on broken XML
            self.count("parse_failures")
            self.problem(f"malformed sitemap ({type(exc).__name__})", response.url)
            return
        pattern = re.compile(self.source.article_url_pattern) if self.source.article_url_pattern else None
        entries = list(sitemap)
        self.count("feed_entries", len(entries))
        for entry in entries:
            loc = entry.get("loc", "").strip()
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                yield self.listing_request(loc, self.parse_listing)
                continue
            if pattern and not pattern.search(loc):
                continue
            news = entry.get("news") if isinstance(entry.get("news"), dict) else {}
            published = parse_date(news.get("publication_date") or entry.get("lastmod"))
            yield from self.follow_article(loc, {"title": news.get("title"), "published_at": published})


class JsonApiArticleSpider(ArticleSpider):
    """JSON APIs (HK01, HKMA): records give URL, title and time; pages give the text."""

    def entries_to_requests(self, response: Response) -> Iterator[Any]:
        try:
            data: Any = json.loads(response_text(response))
        except json.JSONDecodeError as exc:
            self.count("parse_failures")
            self.problem(f"malformed JSON ({exc.msg})", response.url)
            return
        for key in (self.source.api_items_path or "").split("."):
            if key:
                data = data.get(key, []) if isinstance(data, dict) else []
        records = data if isinstance(data, list) else []
        self.count("feed_entries", len(records))
        fields = self.source.api_fields
        for record in records:
            flat = _flatten(record)
            url = flat.get(fields.get("url", "url"))
            if not url:
                continue
            yield from self.follow_article(
                response.urljoin(str(url)),
                {
                    "title": flat.get(fields.get("title", "title")),
                    "published_at": parse_date(flat.get(fields.get("published", "published"))),
                    "body": flat.get(fields.get("body", "body")),
                },
            )


class ListingArticleSpider(ArticleSpider):
    """HTML listing pages with article links (ezone, Cyberport, HKSTP, PCPD...)."""

    def entries_to_requests(self, response: Response) -> Iterator[Any]:
        selector = self.source.listing_link_selector or "a"
        pattern = re.compile(self.source.article_url_pattern) if self.source.article_url_pattern else None
        hrefs = [node.attrib.get("href") for node in response.css(selector)]
        links = [
            response.urljoin(href.strip())
            for href in hrefs
            if href and not href.startswith(("#", "javascript:"))
        ]
        links = [link for link in dict.fromkeys(links) if not pattern or pattern.search(link)]
        self.count("feed_entries", len(links))
        for link in links:
            yield from self.follow_article(link)


def _flatten(record: Any, prefix: str = "") -> dict[str, Any]:
    """{"data": {"title": x}} → {"data.title": x}, so API field paths are plain strings."""
    flat: dict[str, Any] = {}
    if isinstance(record, dict):
        for key, value in record.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                flat.update(_flatten(value, f"{name}."))
            else:
                flat[name] = value
    return flat
