"""Bilingual full-text search over article titles and bodies, with filters and pagination.

The query is split into terms (whitespace-separated; "double quotes" keep a phrase together) and
every term must match. How a term matches depends on the database, because Chinese has no spaces
between words and each engine splits text differently:

- SQLite, three characters or more: a substring, any case, in either script, looked up in the
  FTS5 `articles_fts` index with the trigram tokenizer (migration 0010).
- PostgreSQL, Chinese: a substring (ILIKE on the pg_trgm GIN index: PostgreSQL's parser cannot
  split Chinese into words; under three characters, a strpos scan).
- PostgreSQL, Latin script: an English word, stemmed ("regulating" finds "regulation"), in the
  GIN-indexed `articles.search_vector`, which holds the Latin words of title and body with the
  Chinese characters removed, so "AI" in "推動AI發展" is a word. A part of a word ("port" in
  "Cyberport") is not found there, unlike on SQLite. A term of stop words only is a substring.
- Shorter terms on SQLite: a trigram index cannot look them up, so they are matched by a scan,
  narrowed first by the other terms and the filters. A short Chinese term (the name 港大) is a
  substring; a short Latin term ("AI", "5G") must stand alone, with no Latin letter or digit
  next to it, so "AI" finds "推動AI發展" and "AI-powered" but not "said".

Every value reaches the database as a bound parameter: FTS syntax in the input is quoted as a
literal string, LIKE wildcards are escaped. Results are newest first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
)

from transforms.dates import week_start_hkt
from warehouse.marts.definitions import mart_table
from warehouse.models import Article, ArticleEntity, ArticleSector, Sector, SourceRow

MAX_QUERY_CHARS = 500
MAX_TERMS = 12
MAX_LIMIT = 200
MIN_TRIGRAM = 3
SNIPPET_CHARS = 200
PG_SEARCH_TEXT = "(articles.title || ' ' || articles.body)"  # the indexed expressions of migration 0010
PG_TS_CONFIG = "'english'::regconfig"
PG_VECTOR = "articles.search_vector"  # stored tsvector of the Latin-script words (migration 0010)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_TERM = re.compile(r'"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    url: str
    title: str
    source: str
    language: str
    published_utc: datetime
    week: date
    relevant: bool
    sectors: list[str]
    entities: list[str]
    snippet: str


@dataclass(frozen=True)
class SearchPage:
    total: int
    hits: list[SearchHit]


def query_terms(q: str) -> list[str]:
    """The terms of a query: phrases in double quotes stay whole; empty pieces are dropped."""
    if len(q) > MAX_QUERY_CHARS:
        raise ValueError(f"search query too long ({len(q)} characters, at most {MAX_QUERY_CHARS})")
    terms = [" ".join((m.group(1) or m.group(2) or "").split()) for m in _TERM.finditer(q)]
    terms = list(dict.fromkeys(t.strip('"') for t in terms if t.strip('"')))
    if len(terms) > MAX_TERMS:
        raise ValueError(f"too many search terms ({len(terms)}, at most {MAX_TERMS})")
    return terms


def search_articles(
    engine: Engine,
    q: str,
    *,
    week: date | None = None,
    source: str | None = None,
    language: str | None = None,
    sector: str | None = None,
    entity: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchPage:
    """One page of the articles matching every term of `q` and every filter given, newest first.

    An empty query lists the articles the filters select. `total` counts every match, for paging.
    ValueError for a query that is too long or a bad limit/offset.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must be 0 or more, got {offset}")
    terms = query_terms(q)
    a = Article.__table__.c
    with engine.connect() as conn:
        conditions = _text_conditions(conn, terms) + _filters(week, source, language, sector, entity)
        where = and_(true(), *conditions)
        # one pass over the matches gives the page's ids and the total (narrow rows: ids and dates)
        order = (a.published_at.desc().nulls_last(), a.id.desc())
        page = conn.execute(
            select(a.id, func.count().over().label("total"))
            .where(where)
            .order_by(*order)
            .limit(limit)
            .offset(offset)
        ).all()
        if not page:  # no match, or a page past the end: the total still counts
            if offset == 0:
                return SearchPage(total=0, hits=[])
            total = int(
                conn.execute(select(func.count()).select_from(Article.__table__).where(where)).scalar_one()
            )
            return SearchPage(total=total, hits=[])
        total = int(page[0].total)
        rank = {row.id: n for n, row in enumerate(page)}
        rows = sorted(
            conn.execute(
                select(
                    a.id,
                    a.url,
                    a.title,
                    a.body,
                    a.source,
                    a.language,
                    a.published_at,
                    a.published_week,
                    a.fetched_at,
                    a.relevant,
                ).where(a.id.in_(list(rank)))
            ).all(),
            key=lambda row: rank[row.id],
        )
        ids = [row.id for row in rows]
        sectors = _labels(conn, select(ArticleSector.article_id, ArticleSector.sector), ArticleSector, ids)
        entities = _labels(
            conn,
            select(ArticleEntity.article_id, ArticleEntity.entity_id).where(
                ArticleEntity.entity_id.not_like("cand:%")
            ),
            ArticleEntity,
            ids,
        )
    return SearchPage(total=total, hits=[_hit(row, terms, sectors, entities) for row in rows])


def search_facets(engine: Engine) -> dict[str, list[str]]:
    """The values the search filters offer: weeks (newest first, ISO dates), sources, languages, sectors.

    Read from small tables (the weekly source-volume mart, the registry, the sector list), never by
    scanning the articles, so the search page stays fast on a large warehouse.
    """
    volume = mart_table("mart_weekly_source_volume")
    with engine.connect() as conn:
        weeks = conn.execute(
            select(volume.c.week_start).distinct().order_by(volume.c.week_start.desc())
        ).scalars()
        sources = list(
            conn.execute(select(SourceRow.name, SourceRow.languages).order_by(SourceRow.name)).all()
        )
        sectors = conn.execute(select(Sector.id).order_by(Sector.id)).scalars()
        return {
            "weeks": [str(w)[:10] for w in weeks],
            "sources": [name for name, _languages in sources],
            "languages": sorted(
                {lang for _name, langs in sources for lang in (langs or "").split(",") if lang}
            ),
            "sectors": list(sectors),
        }


def _text_conditions(conn: Connection, terms: list[str]) -> list[ColumnElement[bool]]:
    if not terms:
        return []
    if conn.dialect.name == "sqlite":
        return _sqlite_conditions(terms)
    if conn.dialect.name == "postgresql":
        return _postgres_conditions(conn, terms)
    raise NotImplementedError(f"no search for dialect {conn.dialect.name}")


def _sqlite_conditions(terms: list[str]) -> list[ColumnElement[bool]]:
    indexed = [t for t in terms if len(t) >= MIN_TRIGRAM]
    conditions: list[ColumnElement[bool]] = []
    if indexed:
        # each term is an FTS5 string literal ("..." with inner quotes doubled): no operator in
        # the input is ever interpreted; adjacent strings are ANDed
        match = " ".join('"' + t.replace('"', '""') + '"' for t in indexed)
        conditions.append(
            Article.__table__.c.id.in_(
                text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :match").bindparams(
                    bindparam("match", match)
                )
            )
        )
    conditions += [_short_term(t, "sqlite") for t in terms if len(t) < MIN_TRIGRAM]
    return conditions


def _postgres_conditions(conn: Connection, terms: list[str]) -> list[ColumnElement[bool]]:
    config: ColumnElement[Any] = literal_column(PG_TS_CONFIG)
    conditions: list[ColumnElement[bool]] = []
    for term in terms:
        if _CJK.search(term):
            # Chinese: a substring, on the pg_trgm index when it has trigrams to look up
            conditions.append(_like(term, postgres=True) if len(term) >= MIN_TRIGRAM else _contains(term))
            continue
        words = (func.phraseto_tsquery if " " in term else func.plainto_tsquery)(config, term)
        if conn.execute(select(func.numnode(words))).scalar_one():
            conditions.append(literal_column(PG_VECTOR).op("@@")(words))  # English words, stemmed
        elif len(term) >= MIN_TRIGRAM:
            conditions.append(_like(term, postgres=True))  # only stop words or symbols
        else:
            conditions.append(_short_term(term, "postgresql"))
    return conditions


def _contains(term: str) -> ColumnElement[bool]:
    """PostgreSQL: a plain substring scan (strpos), for terms no index can look up."""
    a = Article.__table__.c
    return or_(func.strpos(a.title, term) > 0, func.strpos(a.body, term) > 0)


def _short_term(term: str, dialect: str) -> ColumnElement[bool]:
    """A term too short for a trigram index. A short Latin term ("AI", "5G") must stand alone, with
    no Latin letter or digit on either side (so "AI" is not found in "said", but is in "推動AI發展");
    anything else (港大) is a substring."""
    if not (term.isascii() and term.isalnum()):
        return _contains(term) if dialect == "postgresql" else _like(term)
    a = Article.__table__.c
    word = term.lower()
    if dialect == "postgresql":
        return literal_column(PG_SEARCH_TEXT).op("~*")(f"(^|[^a-z0-9]){word}([^a-z0-9]|$)")
    pattern = f"*[^a-z0-9]{word}[^a-z0-9]*"  # GLOB is case-sensitive: compare lower-case text
    standing_alone = or_(
        (" " + func.lower(a.title) + " ").op("GLOB")(pattern),
        (" " + func.lower(a.body) + " ").op("GLOB")(pattern),
    )
    return and_(_like(term), standing_alone)  # the cheap LIKE first: lower() and GLOB only where it hits


def _like(term: str, postgres: bool = False) -> ColumnElement[bool]:
    """Substring match on title or body, case-insensitive, wildcards in the term escaped.

    PostgreSQL matches the expression its pg_trgm index covers; SQLite's LIKE already ignores
    ASCII case (Chinese has none), and lower() over every body would only slow the scan.
    """
    a = Article.__table__.c
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if postgres:
        return literal_column(PG_SEARCH_TEXT).ilike(pattern, escape="\\")
    return or_(a.title.like(pattern, escape="\\"), a.body.like(pattern, escape="\\"))


def _filters(
    week: date | None, source: str | None, language: str | None, sector: str | None, entity: str | None
) -> list[ColumnElement[bool]]:
    a = Article.__table__.c
    conditions: list[ColumnElement[bool]] = []
    if week is not None:
        conditions.append(a.published_week == week - timedelta(days=week.weekday()))  # its Monday
    if source:
        conditions.append(a.source == source)
    if language:
        conditions.append(a.language == language)
    if sector:
        conditions.append(exists().where(ArticleSector.article_id == a.id, ArticleSector.sector == sector))
    if entity:
        conditions.append(exists().where(ArticleEntity.article_id == a.id, ArticleEntity.entity_id == entity))
    return conditions


def _labels(conn: Connection, query: Any, model: Any, ids: list[int]) -> dict[int, list[str]]:
    labels: dict[int, list[str]] = {i: [] for i in ids}
    for article_id, label in conn.execute(
        query.where(model.article_id.in_(ids)).order_by(query.selected_columns[1])
    ):
        labels[article_id].append(label)
    return labels


def _hit(
    row: Any, terms: list[str], sectors: dict[int, list[str]], entities: dict[int, list[str]]
) -> SearchHit:
    published = row.published_at or row.fetched_at  # an article without a date is placed when fetched
    published_utc = published.replace(tzinfo=UTC)
    week = row.published_week or week_start_hkt(published_utc)
    return SearchHit(
        article_id=row.id,
        url=row.url,
        title=row.title,
        source=row.source,
        language=row.language,
        published_utc=published_utc,
        week=week if isinstance(week, date) else date.fromisoformat(str(week)[:10]),
        relevant=bool(row.relevant),
        sectors=sectors[row.id],
        entities=entities[row.id],
        snippet=snippet(row.body or "", terms),
    )


def snippet(body: str, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """Plain text around the first place a term occurs in the body (its start when none does)."""
    flat = " ".join(body.split())
    lower = flat.casefold()
    found = [i for i in (lower.find(t.casefold()) for t in terms) if i >= 0]
    if not found:
        return flat[:width] + ("…" if len(flat) > width else "")
    start = max(0, min(found) - width // 4)
    piece = flat[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")
