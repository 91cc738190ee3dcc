"""Warehouse tables (core layer). Views and mart tables are created by the Alembic migrations.

Times are stored in UTC (SQLite keeps no offset); `published_week` is the Monday of the ISO
week in Hong Kong time, computed when the row is loaded, so every mart groups on one column
and gives the same answer on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class SourceRow(Base):
    """One row per registered source (refreshed from the registry on every load)."""

    __tablename__ = "sources"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    languages: Mapped[str] = mapped_column(String(64))
    homepage: Mapped[str] = mapped_column(String(500))
    verified: Mapped[bool] = mapped_column(Boolean)


class CrawlRun(Base):
    """One row per (pipeline run, source): the source's health for that crawl."""

    __tablename__ = "crawl_runs"
    __table_args__ = (UniqueConstraint("run_id", "source", name="uq_crawl_runs_run_source"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(250))
    source: Mapped[str] = mapped_column(String(64), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    responses_by_status: Mapped[dict] = mapped_column(JSON, default=dict)
    feed_entries: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)
    skipped_known: Mapped[int] = mapped_column(Integer, default=0)
    article_pages: Mapped[int] = mapped_column(Integer, default=0)
    parse_failures: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    blocked: Mapped[int] = mapped_column(Integer, default=0)
    paywalled: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_reason: Mapped[str | None] = mapped_column(Text)
    error_sample: Mapped[list] = mapped_column(JSON, default=list)
    duplicate_items: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    future_dated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    undecodable: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    invalid_urls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    gave_up_pages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class FeedState(Base):
    """Conditional-GET validators per feed or listing URL, saved with the load that used them."""

    __tablename__ = "feed_state"
    url: Mapped[str] = mapped_column(String(1000), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Article(Base):
    """One row per canonical article URL, with its tags' summary scores."""

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_week_relevant", "published_week", "relevant"),
        Index("ix_articles_source_week", "source", "published_week"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    canonical_url: Mapped[str] = mapped_column(String(1000), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    source: Mapped[str] = mapped_column(String(64), ForeignKey("sources.name"))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_week: Mapped[date | None] = mapped_column(Date)
    modified_at: Mapped[datetime | None] = mapped_column(DateTime)
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    authors: Mapped[list] = mapped_column(JSON, default=list)
    section: Mapped[str | None] = mapped_column(String(200))
    extraction: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(40))
    relevant: Mapped[bool] = mapped_column(Boolean, default=False)
    relevance: Mapped[float] = mapped_column(Float, default=0.0)
    ai_score: Mapped[float] = mapped_column(Float, default=0.0)
    hk_score: Mapped[float] = mapped_column(Float, default=0.0)
    cluster_id: Mapped[str | None] = mapped_column(String(64), index=True)
    loaded_run_id: Mapped[str | None] = mapped_column(String(250))


class Entity(Base):
    """Knowledge-base entities and candidate names found in text (status 'candidate')."""

    __tablename__ = "entities"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(32))
    zh_hant: Mapped[str | None] = mapped_column(String(300))
    zh_hans: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="kb")


class ArticleEntity(Base):
    """An entity tagged on an article, with the exact mentions and their character offsets."""

    __tablename__ = "article_entities"
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id"), primary_key=True, index=True)
    mentions: Mapped[list] = mapped_column(JSON, default=list)
    evidence: Mapped[list] = mapped_column(JSON, default=list)


class Sector(Base):
    __tablename__ = "sectors"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    description: Mapped[str] = mapped_column(String(300))


class ArticleSector(Base):
    """A sector where the article's AI is applied, with a confidence and the evidence spans."""

    __tablename__ = "article_sectors"
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    sector: Mapped[str] = mapped_column(ForeignKey("sectors.id"), primary_key=True)
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list] = mapped_column(JSON, default=list)


class Theme(Base):
    __tablename__ = "themes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    description: Mapped[str] = mapped_column(String(300))


class ArticleTheme(Base):
    __tablename__ = "article_themes"
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    theme: Mapped[str] = mapped_column(ForeignKey("themes.id"), primary_key=True)
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list] = mapped_column(JSON, default=list)


class StoryCluster(Base):
    """One row per story: articles about the same event across outlets and languages."""

    __tablename__ = "story_clusters"
    cluster_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    first_source: Mapped[str | None] = mapped_column(String(64))
    first_article_id: Mapped[int | None] = mapped_column(Integer)
    articles: Mapped[int] = mapped_column(Integer)
    outlets: Mapped[int] = mapped_column(Integer)
    languages: Mapped[str] = mapped_column(String(64))
    is_press_release_reprint: Mapped[bool] = mapped_column(Boolean, default=False)


class EntitySpike(Base):
    """Mart table `mart_entity_spikes`: weekly mentions against a trailing 4-week baseline."""

    __tablename__ = "mart_entity_spikes"
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    entity_name: Mapped[str] = mapped_column(String(300))
    articles: Mapped[int] = mapped_column(Integer)
    baseline: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    entity_name_zh_hant: Mapped[str | None] = mapped_column(String(300))
    entity_name_zh_hans: Mapped[str | None] = mapped_column(String(300))


class LoadAudit(Base):
    """One row per load: what was staged, stored and rejected, and the article total after it."""

    __tablename__ = "load_audits"
    run_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    staged: Mapped[int] = mapped_column(Integer)
    loaded: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    articles_total: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(DateTime)


class StagedItem(Base):
    """One crawled item waiting for tag-and-load: the hand-off between tasks, on any worker.

    One row per (run, canonical URL), so an item staged twice in a run is stored once. Rows are
    kept for a week after their run, so a load can be rerun from them.
    """

    __tablename__ = "staged_items"
    __table_args__ = (UniqueConstraint("run_id", "canonical_url", name="uq_staged_items_run_url"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(250))
    source: Mapped[str] = mapped_column(String(64))
    canonical_url: Mapped[str] = mapped_column(Text)
    item: Mapped[dict] = mapped_column(JSON)
    staged_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class StagedCrawl(Base):
    """What a crawl hands to the load besides its items: the feed validators it saw."""

    __tablename__ = "staged_crawls"
    run_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    validators: Mapped[dict] = mapped_column(JSON)
    staged_at: Mapped[datetime] = mapped_column(DateTime)


class FailedPage(Base):
    """An article page that failed, retried on later runs (with backoff) whatever its feed answers.

    The crawl that fails a page writes the row (attempts, next attempt, the feed entry it came
    from); a crawl that stages the page sets `resolved_run_id`, and that run's load deletes the
    row in the same transaction as the article, so a killed load loses nothing. After the last
    attempt `gave_up_at` is set and the page is no longer requested.
    """

    __tablename__ = "failed_pages"
    canonical_url: Mapped[str] = mapped_column(String(1000), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    source: Mapped[str] = mapped_column(String(64), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    first_failed_at: Mapped[datetime] = mapped_column(DateTime)
    last_failed_at: Mapped[datetime] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    entry: Mapped[dict | None] = mapped_column(JSON)
    last_run_id: Mapped[str | None] = mapped_column(String(250))
    resolved_run_id: Mapped[str | None] = mapped_column(String(250), index=True)
    gave_up_at: Mapped[datetime | None] = mapped_column(DateTime)


class DigestOutbox(Base):
    """One rendered digest message (recipient, week), as bytes: what the send task sends, on any worker."""

    __tablename__ = "digest_outbox"
    recipient: Mapped[str] = mapped_column(String(320), primary_key=True)
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255))
    eml: Mapped[bytes] = mapped_column(LargeBinary)
    rendered_at: Mapped[datetime] = mapped_column(DateTime)


class DigestDelivery(Base):
    """At-most-once ledger: one row per (recipient, week), claimed before any SMTP traffic.

    status: pending → sending (claimed: `attempts` is the claim's fencing token, `claimed_by` /
    `claimed_at` its owner and time) → sent | retrying (failed before DATA, claimable again) |
    failed (failed before DATA, retries spent) | unknown (ambiguous: resent only by hand).
    """

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("recipient", "week_start", name="uq_digest_recipient_week"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(320))
    week_start: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str | None] = mapped_column(String(300))
    eml_path: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))


class AlertDelivery(Base):
    """One watchlist alert claim per (recipient, Hong Kong day): sent at most once, never silently.

    `status` is `sending` (claimed), `sent`, `failed` (SMTP refused; safe to retry), `unknown`
    (outcome not known; not resent) or `nothing` (no watched item matched that day).
    """

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("recipient", "alert_day", name="uq_alert_recipient_day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(320))
    alert_day: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    stories: Mapped[list] = mapped_column(JSON, default=list)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    message_id: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


SECTORS = {
    "finance": "banking, insurance, fintech, trading",
    "healthcare": "hospitals, diagnosis, medicine, elderly care",
    "smart-city": "urban planning, public services, e-government, utilities",
    "transport": "vehicles, autonomous driving, drones, traffic, aviation",
    "education": "schools, universities as teaching places, learning",
    "retail": "shops, e-commerce, consumer services",
    "logistics": "ports, shipping, warehousing, delivery",
    "property": "real estate, construction, buildings",
    "manufacturing": "factories, industry, robotics in production",
    "media": "news, entertainment, creative content",
    "legal": "courts, law firms, legal services",
    "infrastructure": "data centres, cloud, compute, chips, telecom",
    "security": "cybersecurity, surveillance, public safety, fraud and deepfake crime",
}
THEMES = {
    "regulation-policy": "laws, guidelines, government strategy and policy",
    "privacy-ethics": "privacy, integrity, bias, hallucination harms",
    "funding-investment": "funding rounds, investment, subsidies, budgets",
    "talent": "education, training, talent schemes",
    "research": "research results, labs, papers",
    "product-launch": "new product, service or facility opening",
    "partnership": "agreements, MOUs, collaborations",
}
