"""Select the week's content for one subscriber: top stories (ranked in ranking.py, worded in
prose.py), sectors, who was in the news, new names, spikes, their trend and source health.

The week (and the weeks before it, for trends and spike baselines) is read once (`load_window`)
and every subscriber's content is computed from it (`content_for`). A subscriber's filters narrow
every content section, not only the stories: the sector shares, entity counts, new names, spikes
and trend lines are those of the articles the subscriber would get. With no filter they equal the
marts (mart_weekly_sector_share, mart_weekly_entity_mentions, mart_new_entities,
mart_entity_spikes). Source health is the tracker's, for the digest's week only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, Row

from digest import queries
from digest.i18n import EN, entity_name
from digest.prose import extract, health_reason, outlet_name, published_label, why
from digest.ranking import Candidate, Ranked, rank_stories
from warehouse.marts import compute_spikes
from warehouse.marts.spikes import as_date

TREND_ENTITIES = 4
TREND_WEEKS = 8  # also covers the spike baseline (4 weeks before the week)
TOP_ENTITIES = 10
NEW_NAMES = 10
SPIKES = 8


@dataclass
class Story:
    article_id: int
    title: str
    url: str
    source: str
    language: str
    published: str
    extract: str
    entities: list[str]
    sectors: list[str]
    score: float
    why: str


@dataclass
class DigestContent:
    week_start: date
    stories: list[Story] = field(default_factory=list)
    top_entities: list[dict[str, Any]] = field(default_factory=list)
    sector_share: list[dict[str, Any]] = field(default_factory=list)
    new_entities: list[dict[str, Any]] = field(default_factory=list)
    spikes: list[dict[str, Any]] = field(default_factory=list)
    entity_trend: dict[str, list[tuple[date, int]]] = field(default_factory=dict)
    english_names: dict[str, str] = field(default_factory=dict)  # trend name shown → English name
    health: list[dict[str, Any]] = field(default_factory=list)
    relevant_articles: int = 0  # the week's relevant articles, all of them
    matched_articles: int = 0  # those that pass the subscriber's filters
    all_articles: int = 0
    filtered: bool = False
    language: str = EN

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)


@dataclass
class WeekWindow:
    """The digest's week and the TREND_WEEKS - 1 weeks before it: relevant articles with their
    tags and stories, plus what every subscriber's digest shares (outlets, health, new names)."""

    week_start: date
    articles: list[Row]
    entities: dict[int, list[tuple[str, str, str]]]  # article id → (entity id, name, type), kb only
    mentions: dict[int, set[str]]  # article id → every entity id, candidate names included
    sectors: dict[int, list[str]]
    clusters: dict[str, Row]
    first_weeks: dict[str, date]
    new_names: dict[str, tuple[str, str]]  # entities first seen this week: id → (name, type)
    chinese: dict[str, str]  # entity id → the KB's Traditional Chinese name, where it has one
    outlets: dict[str, str]
    all_articles: int
    health: list[dict[str, Any]]

    def name(self, entity_id: str, name: str, language: str) -> str:
        """The entity's name in the reader's language (its English name when the KB has no other)."""
        return entity_name(name, self.chinese.get(entity_id), language)

    def week_of(self, article: Row) -> date:
        return as_date(article.published_week)

    @property
    def this_week(self) -> list[Row]:
        return [a for a in self.articles if self.week_of(a) == self.week_start]


@dataclass(frozen=True)
class Filters:
    """A subscriber's filters; an empty filter lets everything through."""

    entities: frozenset[str] | None = None
    sectors: frozenset[str] | None = None
    languages: frozenset[str] | None = None
    min_relevance: float = 0.0

    @classmethod
    def of(
        cls,
        entities: set[str] | None = None,
        sectors: set[str] | None = None,
        languages: set[str] | None = None,
        min_relevance: float = 0.0,
    ) -> Filters:
        return cls(
            frozenset(entities) if entities else None,
            frozenset(sectors) if sectors else None,
            frozenset(languages) if languages else None,
            float(min_relevance or 0.0),
        )

    @property
    def active(self) -> bool:
        return bool(self.entities or self.sectors or self.languages or self.min_relevance)

    def accepts(self, article: Row, window: WeekWindow) -> bool:
        entity_ids = {entity_id for entity_id, _, _ in window.entities.get(article.id, ())}
        return (
            (not self.entities or bool(entity_ids & self.entities))
            and (not self.sectors or bool(set(window.sectors.get(article.id, ())) & self.sectors))
            and (not self.languages or article.language in self.languages)
            and article.relevance >= self.min_relevance
        )


def load_window(engine: Engine, week_start: date) -> WeekWindow:
    """Read the week and the weeks before it once, for every subscriber's digest."""
    first = week_start - timedelta(weeks=TREND_WEEKS - 1)
    with engine.connect() as conn:
        articles = queries.relevant_articles(conn, first, week_start)
        ids = [a.id for a in articles]
        entities = queries.entity_tags(conn, ids)
        new = queries.new_entities(conn, week_start)
        named = {e for tags in entities.values() for e, _, _ in tags} | set(new)
        return WeekWindow(
            week_start=week_start,
            articles=articles,
            entities=entities,
            mentions=queries.mentioned_entities(conn, ids),
            sectors=queries.sector_tags(conn, ids),
            clusters=queries.story_clusters(conn, (a.cluster_id for a in articles)),
            first_weeks=queries.first_weeks(conn),
            new_names=new,
            chinese=queries.chinese_names(conn, named),
            outlets={name: outlet_name(title) for name, title in queries.source_titles(conn).items()},
            all_articles=queries.count_articles(conn, week_start),
            health=health_summary(queries.source_health(conn, week_start)),
        )


def select_content(
    engine: Engine,
    week_start: date,
    *,
    max_stories: int = 10,
    entities: set[str] | None = None,
    sectors: set[str] | None = None,
    languages: set[str] | None = None,
    min_relevance: float = 0.0,
    language: str = EN,
) -> DigestContent:
    """Everything one subscriber's digest shows for one ISO week (HKT)."""
    filters = Filters.of(entities, sectors, languages, min_relevance)
    return content_for(load_window(engine, week_start), filters, max_stories=max_stories, language=language)


def content_for(
    window: WeekWindow, filters: Filters, *, max_stories: int = 10, language: str = EN
) -> DigestContent:
    """One subscriber's digest content: every section from the articles their filters accept.
    Entity names are in the subscriber's language wherever they appear (`WeekWindow.name`)."""
    accepted = [a for a in window.articles if filters.accepts(a, window)]
    week = [a for a in accepted if window.week_of(a) == window.week_start]
    weekly = weekly_entity_counts(window, accepted)
    top = top_entities(window, week, language)
    return DigestContent(
        week_start=window.week_start,
        stories=top_stories(window, week, max_stories, language),
        top_entities=top,
        sector_share=sector_share(window, week),
        new_entities=new_names(window, week, language),
        spikes=spikes(window, weekly, language),
        entity_trend=entity_trend(window, weekly, top),
        english_names={e["entity_name"]: e["english_name"] for e in top[:TREND_ENTITIES]},
        health=window.health,
        relevant_articles=len(window.this_week),
        matched_articles=len(week),
        all_articles=window.all_articles,
        filtered=filters.active,
        language=language,
    )


def top_stories(window: WeekWindow, week: list[Row], limit: int, language: str) -> list[Story]:
    """The week's best stories among the accepted articles, as digest items."""
    ranked = rank_stories([candidate(a, window) for a in week], window.first_weeks, window.week_start, limit)
    by_id = {a.id: a for a in week}
    return [story(by_id[r.candidate.article_id], r, window, language) for r in ranked]


def candidate(article: Row, window: WeekWindow) -> Candidate:
    cluster = window.clusters.get(article.cluster_id or "")
    return Candidate(
        article_id=article.id,
        relevance=article.relevance,
        entities=tuple((entity_id, kind) for entity_id, _, kind in window.entities.get(article.id, ())),
        cluster_id=article.cluster_id,
        outlets=cluster.outlets if cluster is not None else 1,
    )


def story(article: Row, ranked: Ranked, window: WeekWindow, language: str) -> Story:
    names = [window.name(e, name, language) for e, name, _ in window.entities.get(article.id, ())]
    sectors = sorted(window.sectors.get(article.id, ()))
    return Story(
        article_id=article.id,
        title=article.title,
        url=article.url,
        source=window.outlets.get(article.source, article.source),
        language=article.language,
        published=published_label(article.published_at, language),
        extract=extract(article.body),
        entities=names,
        sectors=sectors,
        score=ranked.score,
        why=why(
            names,
            sectors,
            article.relevance,
            **coverage(window.clusters.get(article.cluster_id or ""), window.outlets),
            language=language,
        ),
    )


def coverage(cluster: Row | None, outlets: dict[str, str]) -> dict[str, Any]:
    """How widely the article's story was carried, for `why`."""
    if cluster is None:
        return {}
    return {
        "story_articles": cluster.articles,
        "story_outlets": cluster.outlets,
        "first_reported_by": outlets.get(cluster.first_source or "", cluster.first_source),
    }


def top_entities(window: WeekWindow, week: list[Row], language: str = EN) -> list[dict[str, Any]]:
    """Knowledge-base entities by articles among the accepted ones (as mart_weekly_entity_mentions);
    `entity_name` in the reader's language, `english_name` the KB's canonical name."""
    counts: Counter[str] = Counter()
    about: dict[str, tuple[str, str]] = {}
    for article in week:
        for entity_id, name, kind in window.entities.get(article.id, ()):
            counts[entity_id] += 1
            about[entity_id] = (name, kind)
    rows: list[dict[str, Any]] = [
        {
            "entity_id": e,
            "entity_name": window.name(e, about[e][0], language),
            "english_name": about[e][0],
            "entity_type": about[e][1],
            "articles": n,
        }
        for e, n in counts.items()
    ]
    # ordered by the English name, so both frames list the same entities in the same order
    return sorted(rows, key=lambda r: (-int(r["articles"]), str(r["english_name"])))[:TOP_ENTITIES]


def sector_share(window: WeekWindow, week: list[Row]) -> list[dict[str, Any]]:
    """Each sector's articles and share of the accepted articles (as mart_weekly_sector_share)."""
    counts = Counter(sector for a in week for sector in set(window.sectors.get(a.id, ())))
    rows: list[dict[str, Any]] = [
        {"sector": s, "articles": n, "share": round(n / len(week), 4)} for s, n in counts.items()
    ]
    return sorted(rows, key=lambda r: (-int(r["articles"]), str(r["sector"])))


def new_names(window: WeekWindow, week: list[Row], language: str = EN) -> list[dict[str, Any]]:
    """Entities first seen in relevant news this week, among the accepted articles (as mart_new_entities);
    a KB entity under its name in the reader's language, a candidate name as found (ordered as in
    English, so both frames list the same names)."""
    counts = Counter(e for a in week for e in window.mentions.get(a.id, ()) if e in window.new_names)
    chosen = sorted(counts.items(), key=lambda en: (-en[1], window.new_names[en[0]][0]))[:NEW_NAMES]
    return [
        {
            "entity_name": window.name(e, window.new_names[e][0], language),
            "entity_type": window.new_names[e][1],
            "articles": n,
        }
        for e, n in chosen
    ]


def weekly_entity_counts(window: WeekWindow, accepted: list[Row]) -> dict[str, dict[date, int]]:
    """Accepted articles per knowledge-base entity and week, over the window."""
    counts: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for article in accepted:
        for entity_id, _, _ in window.entities.get(article.id, ()):
            counts[entity_id][window.week_of(article)] += 1
    return counts


def spikes(
    window: WeekWindow, weekly: dict[str, dict[date, int]], language: str = EN
) -> list[dict[str, Any]]:
    """The week's spikes against each entity's 4-week baseline (as mart_entity_spikes), chosen and
    ordered by their English names, then named in the reader's language."""
    names = {e: name for tags in window.entities.values() for e, name, _ in tags}
    rows = [(week, e, names[e], n) for e, weeks in weekly.items() for week, n in weeks.items()]
    found = [s for s in compute_spikes(rows) if s["week_start"] == window.week_start]
    chosen = sorted(found, key=lambda s: (-s["score"], s["entity_name"]))[:SPIKES]
    return [{**s, "entity_name": window.name(s["entity_id"], s["entity_name"], language)} for s in chosen]


def entity_trend(
    window: WeekWindow, weekly: dict[str, dict[date, int]], top: list[dict[str, Any]]
) -> dict[str, list[tuple[date, int]]]:
    """Weekly articles of the top entities over the window's weeks (0 for a week without any)."""
    weeks = [window.week_start - timedelta(weeks=k) for k in range(TREND_WEEKS - 1, -1, -1)]
    return {
        e["entity_name"]: [(w, weekly.get(e["entity_id"], {}).get(w, 0)) for w in weeks]
        for e in top[:TREND_ENTITIES]
    }


def health_summary(crawls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per source over the week's crawls: runs, items, flagged runs and the latest flag's one-line reason."""
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for crawl in crawls:
        by_source[crawl["source"]].append(crawl)
    summary = []
    for source, runs in sorted(by_source.items()):
        flagged = [r for r in runs if r["flagged"]]
        summary.append(
            {
                "source": source,
                "runs": len(runs),
                "items": sum(int(r["items"] or 0) for r in runs),
                "flagged_runs": len(flagged),
                "reason": health_reason(flagged[-1]["flag_reason"]) if flagged else "",
            }
        )
    return summary
