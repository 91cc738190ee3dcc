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
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Response

from spiders.items import ArticleItem
from spiders.middlewares import ROBOTS_UNAVAILABLE
from spiders.model import Source
from transforms.dates import FUTURE_TOLERANCE, HKT, as_hkt, parse_date, plausible
from transforms.decode import decode_html
from transforms.extract import ExtractionError, UndecodablePage, extract_article
from transforms.text import clean_text, clean_title, detect_language
from transforms.urls import canonical_url

_TRUNCATED = re.compile(r"(\.\.\.|…|……|\[\.\.\.\]|Read more|閱讀全文|more\s*»)\s*$", re.IGNORECASE)
FULL_TEXT_MIN_CHARS = 20
# A failed article page is retried on later runs, whatever its feed answers: attempt n+1 waits
# RETRY_BACKOFF_HOURS * 2**(n-1) hours (1, 2, 4, 8 h), and the page is given up after attempt 5.
MAX_PAGE_ATTEMPTS = 5
RETRY_BACKOFF_HOURS = 1.0


def response_text(response: Response, spider: ArticleSpider | None = None) -> str:
    """Body text through the project's one decoding function (transforms/decode.py): BOM, the
    Content-Type charset, the page's <meta>, then detection, each checked for mojibake (some HK sites
    declare ISO-8859-1 but serve UTF-8; old pages are Big5).

    An article page (`spider` given) whose bytes read clean in no encoding is counted as
    `hkai/undecodable` and refused with UndecodablePage (an ExtractionError), so it is never stored as
    gibberish; other callers get the best-effort text.
    """
    decoded = decode_html(response.body, response.headers.get("Content-Type"))
    if not decoded.clean and spider is not None:
        spider.count("undecodable")
        raise UndecodablePage(f"undecodable page ({decoded.note})")
    return decoded.text


def load_crawl_state(path: str | None) -> dict[str, Any]:
    """Seen URLs, feed validators and failed pages, prepared by the runner from the warehouse."""
    if not path or not Path(path).exists():
        return {"seen": {}, "validators": {}, "failed": {}}
    return json.loads(Path(path).read_text(encoding="utf-8"))


def is_http_url(url: str) -> bool:
    """Only http(s) URLs with a host become requests or items (never javascript:, mailto:, data:...)."""
    try:
        parts = urlsplit(url.strip())
        return parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)
    except ValueError:
        return False


def retry_after_s(attempts: int) -> float:
    """Backoff before the next attempt at a page that has failed `attempts` times."""
    return RETRY_BACKOFF_HOURS * 3600 * 2 ** max(0, attempts - 1)


def _json_safe(entry: dict[str, Any]) -> dict[str, Any]:
    """A feed entry as JSON (dates as ISO text), kept with a failed page for its retry."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in entry.items()}


class ArticleSpider(scrapy.Spider):
    """Shared behaviour: incremental skip, article requests, extraction, item building, errors."""

    source: ClassVar[Source]

    custom_settings: dict[str, Any] | None = {}

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
        # failed article pages known to the warehouse, and every article page requested in this crawl
        self.failed_state: dict[str, dict[str, Any]] = self.crawl_state.get("failed", {})
        self.pages: dict[str, dict[str, Any]] = {}
        self._malformed_listings: set[str] = set()
        self.fetched_at = datetime.now(HKT)
        self._queued: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._item_stored, signal=signals.item_scraped)
        crawler.signals.connect(spider._item_dropped, signal=signals.item_dropped)
        return spider

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
        page = self.pages.get(canonical_url(url)) if is_http_url(url) else None
        if page is not None and not page.get("outcome"):
            page["reason"] = reason
        reasons: list[str] = self.crawler.stats.get_value("hkai/error_reasons", [])
        if len(reasons) < 20:
            reasons.append(f"{reason}: {url}")
            self.crawler.stats.set_value("hkai/error_reasons", reasons)
        self.logger.warning("%s: %s", reason, url)

    # -- requests ------------------------------------------------------------------------------
    def accept_url(self, url: str) -> bool:
        """The one gate for links from feeds and listings: only http(s) URLs are requested or stored."""
        if is_http_url(url):
            return True
        self.count("invalid_urls")
        self.logger.info("not an http(s) URL, ignored: %.200s", url)
        return False

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
            if self.accept_url(url):
                yield self.listing_request(url, self.parse_listing)
        for request in self.retry_requests():
            yield request

    def parse_listing(self, response: Response) -> Iterator[Any]:
        if response.status == 304:
            self.count("listing_not_modified")
            return
        self.count("listings")
        if not response.body.strip():
            self.count("parse_failures")
            self.problem("malformed feed/listing (empty response body)", response.url)
            return
        yield from self.entries_to_requests(response)
        # a listing read only in part is not remembered: the next run fetches it whole, not a 304
        if response.url not in self._malformed_listings:
            self.remember_validators(response)

    def malformed_listing(self, reason: str, url: str) -> None:
        self.count("parse_failures")
        self._malformed_listings.add(url)
        self.problem(reason, url)

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
        if not self.accept_url(url):
            return
        updated = entry.get("modified_at") or entry.get("published_at")
        if self.is_known(url, updated):
            self.count("skipped_known")
            return
        if self.failed_state.get(canonical_url(url), {}).get("gave_up"):
            self.count("skipped_given_up")
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
        yield self.page_request(url, entry)

    # -- article pages: each one requested is stored, or reported failed for a retry on a later run --
    def page_request(self, url: str, entry: dict[str, Any]) -> scrapy.Request:
        key = canonical_url(url)
        self._queued.add(key)
        self.pages[key] = {"url": url, "entry": _json_safe(entry)}
        # dont_filter: duplicates are already skipped above, and a redirect loop must reach its limit
        # (and the errback) instead of vanishing silently in the dupefilter
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            cb_kwargs={"entry": entry},
            dont_filter=True,
            meta={"hkai_page": key},
        )

    def retry_requests(self) -> Iterator[scrapy.Request]:
        """Failed pages whose backoff has passed, requested again even when their feed answers 304."""
        for key, failed in self.failed_state.items():
            if failed.get("due") and key not in self._queued and is_http_url(failed.get("url") or ""):
                self.count("retried_pages")
                yield self.page_request(failed["url"], dict(failed.get("entry") or {}))

    def _page(self, meta: Any) -> dict[str, Any] | None:
        return self.pages.get((meta or {}).get("hkai_page") or "")

    @staticmethod
    def _meta(response: Any) -> Any:
        try:
            return response.meta if response is not None else None
        except AttributeError:  # a response without its request
            return None

    def _item_stored(self, item: Any, response: Any = None, **_: Any) -> None:
        """item_scraped: the item passed every pipeline, so its page is done."""
        page = self._page(self._meta(response))
        if page is not None:
            page["outcome"] = "stored"

    def _item_dropped(self, item: Any, response: Any = None, exception: Any = None, **_: Any) -> None:
        page = self._page(self._meta(response))
        if page is not None and not page.get("outcome"):
            page["reason"] = f"item dropped ({exception})"

    def page_outcomes(self, finish_reason: str) -> tuple[list[dict[str, Any]], list[str]]:
        """Pages of this crawl that failed (with attempts and backoff), and known failed pages settled."""
        failed: list[dict[str, Any]] = []
        settled: list[str] = []
        for key, page in self.pages.items():
            known = self.failed_state.get(key)
            if page.get("outcome"):
                if known is not None:
                    settled.append(key)
                continue
            attempts = int((known or {}).get("attempts") or 0) + 1
            gave_up = attempts >= MAX_PAGE_ATTEMPTS
            if gave_up:
                self.count("gave_up_pages")
                self.logger.warning("gave up on %s after %s attempts", page["url"], attempts)
            failed.append(
                {
                    "url": page["url"],
                    "canonical_url": key,
                    "reason": page.get("reason") or f"no item stored (crawl {finish_reason})",
                    "attempts": attempts,
                    "gave_up": gave_up,
                    "retry_after_s": retry_after_s(attempts),
                    "entry": page["entry"],
                }
            )
        return failed, settled

    @staticmethod
    def _full_text(body: str | None) -> bool:
        return body is not None and len(body) >= FULL_TEXT_MIN_CHARS and not _TRUNCATED.search(body)

    # -- articles ------------------------------------------------------------------------------
    def parse_article(self, response: Response, entry: dict[str, Any]) -> Iterator[Any]:
        self.count("article_pages")
        if response.meta.get("hkai_blocked"):
            self.problem(f"blocked ({response.meta['hkai_blocked']})", response.url)
            return
        try:
            extracted = extract_article(
                response_text(response, self),
                response.url,
                fetched_at=self.fetched_at,
                rules=self.source.rules,
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

    def build_item(self, url: str, record: dict[str, Any], *, extraction: str) -> ArticleItem | None:
        title = clean_title(record.get("title"))
        body = clean_text(record.get("body"))
        if not title and not body:
            self.count("parse_failures")
            self.problem("no title and no text", url)
            return None
        raw_published = parse_date(record.get("published_at"))
        raw_modified = parse_date(record.get("modified_at"))
        published = plausible(raw_published, fetched_at=self.fetched_at)
        modified = plausible(raw_modified, fetched_at=self.fetched_at)
        if self._in_future(raw_published) or self._in_future(raw_modified):
            self.count("future_dated")  # the item is kept, with the impossible date cleared
        elif record.get("published_at") and published is None:
            self.count("dates_rejected")
        language = record.get("language") or detect_language(f"{title}\n{body}", self.source.languages[0])
        return ArticleItem(
            url=url,
            canonical_url=canonical_url(url),
            source=self.source.name,
            language=language,
            title=title,
            body=body,
            published_at=published.isoformat() if published else None,
            modified_at=modified.isoformat() if modified else None,
            authors=[a for a in record.get("authors") or [] if a],
            fetched_at=self.fetched_at.isoformat(),
            section=record.get("section"),
            extraction=extraction,
        )

    def on_error(self, failure: Any) -> None:
        from scrapy.exceptions import IgnoreRequest

        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if failure.check(IgnoreRequest) and ROBOTS_UNAVAILABLE in str(failure.value):
            # robots.txt answered 5xx or could not be fetched: nothing on the host may be crawled
            # now (RFC 9309), an error of this run; its pages are retried later
            if request is not None and request.meta.get("hkai_listing"):
                self.count("listing_errors")
            self.problem(str(failure.value), url)
            return
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            self.count("robots_forbidden")  # the site asked us not to: polite, not an error
            self.logger.info("skipped by robots.txt: %s", url)
            page = self._page(request.meta if request is not None else None)
            if page is not None:
                page["outcome"] = "skipped by robots.txt"
            return
        if request is not None and request.meta.get("hkai_listing"):
            self.count("listing_errors")
        response = getattr(failure.value, "response", None)
        status = f"HTTP {response.status}" if response is not None else failure.getErrorMessage()[:120]
        self.problem(f"download failed ({failure.type.__name__}: {status})", url)
        page = self._page(request.meta if request is not None else None)
        if page is not None:
            page["reason"] = f"download failed ({failure.type.__name__}: {status})"

    def _in_future(self, value: datetime | None) -> bool:
        return value is not None and value > as_hkt(self.fetched_at) + FUTURE_TOLERANCE

    def closed(self, reason: str) -> None:
        self.crawler.stats.set_value("hkai/validators", self.new_validators)
        failed, settled = self.page_outcomes(reason)
        self.crawler.stats.set_value("hkai/failed_pages", failed)
        self.crawler.stats.set_value("hkai/settled_pages", settled)


class FeedArticleSpider(ArticleSpider):
    """RSS 2.0 / Atom feeds through feedparser; malformed feeds are counted, never fatal."""

    def entries_to_requests(self, response: Response) -> Iterator[Any]:
        import feedparser

        parsed = feedparser.parse(response.body, response_headers={"content-type": "application/xml"})
        if parsed.bozo and not parsed.entries:
            self.malformed_listing(f"malformed feed ({type(parsed.bozo_exception).__name__})", response.url)
            return
        if parsed.bozo:
            self.malformed_listing(
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
            self.malformed_listing(f"malformed sitemap ({type(exc).__name__})", response.url)
            return
        pattern = re.compile(self.source.article_url_pattern) if self.source.article_url_pattern else None
        entries = list(sitemap)
        self.count("feed_entries", len(entries))
        for entry in entries:
            loc = entry.get("loc", "").strip()
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                if self.accept_url(loc):
                    yield self.listing_request(loc, self.parse_listing)
                continue
            if pattern and not pattern.search(loc):
                continue
            raw_news = entry.get("news")
            news: dict[str, Any] = raw_news if isinstance(raw_news, dict) else {}
            published = parse_date(news.get("publication_date") or entry.get("lastmod"))
            yield from self.follow_article(loc, {"title": news.get("title"), "published_at": published})


class JsonApiArticleSpider(ArticleSpider):
    """JSON APIs (HK01, HKMA): records give URL, title and time; pages give the text."""

    def entries_to_requests(self, response: Response) -> Iterator[Any]:
        try:
            data: Any = json.loads(response_text(response))
        except json.JSONDecodeError as exc:
            self.malformed_listing(f"malformed JSON ({exc.msg})", response.url)
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
            if href and not href.startswith("#")  # javascript: and mailto: links are counted, not followed
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
