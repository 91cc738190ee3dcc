"""What a source is: the declaration each per-source module fills in, and the crawled item."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from transforms.extract import SiteRules

SourceKind = Literal["rss", "sitemap", "api", "listing"]
ArticlePages = Literal["always", "when_truncated", "never"]


@dataclass(frozen=True)
class Source:
    """One Hong Kong source. Facts and selectors come from research/hk-sources.md and saved pages."""

    name: str
    title: str
    kind: SourceKind
    languages: tuple[str, ...]
    start_urls: tuple[str, ...]
    homepage: str
    verified: bool
    #: seconds between requests to the host; a site's robots.txt crawl-delay wins when larger
    download_delay: float = 5.0
    #: fetch the article page always, only when the feed text looks cut, or never (full-text feeds)
    article_pages: ArticlePages = "always"
    rules: SiteRules = field(default_factory=SiteRules)
    #: only article links matching this regex are followed (listing pages, sitemaps)
    article_url_pattern: str | None = None
    #: CSS selector for article links on a listing page
    listing_link_selector: str | None = None
    #: JSON API: dotted path to the list of records, and the field names inside a record
    api_items_path: str | None = None
    api_fields: dict[str, str] = field(default_factory=dict)
    #: why a source is not verified, or anything a maintainer should know
    notes: str = ""

    def registry_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["languages"] = list(self.languages)
        record["start_urls"] = list(self.start_urls)
        record["rules"] = self.rules.as_record()
        return record


# Fields every crawled item carries; the staging file and the loader rely on them.
ITEM_FIELDS = (
    "url",
    "canonical_url",
    "source",
    "language",
    "title",
    "body",
    "published_at",
    "modified_at",
    "authors",
    "fetched_at",
    "section",
    "extraction",
)


def validate_item(item: dict[str, Any]) -> list[str]:
    """Reasons an item cannot be stored; empty when it is fine."""
    from urllib.parse import urlsplit

    problems = [
        f"missing {name}" for name in ("url", "canonical_url", "source", "fetched_at") if not item.get(name)
    ]
    for name in ("url", "canonical_url"):
        value = str(item.get(name) or "")
        try:
            parts = urlsplit(value.strip())
            ok = parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)
        except ValueError:
            ok = False
        if value and not ok:
            problems.append(f"{name} is not an http(s) URL: {value[:80]!r}")
    if not (item.get("title") or item.get("body")):
        problems.append("no title and no body")
    if item.get("language") not in {"en", "zh-Hant", "zh-Hans"}:
        problems.append(f"unknown language {item.get('language')!r}")
    return problems
