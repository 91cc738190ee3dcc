"""Search over real saved news (the demo snapshot's RTHK, GovHK and SCMP feeds, tagged by the real
tagger), on SQLite and on a real PostgreSQL server, checked against a plain-Python reading of
the same articles rather than against remembered counts."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from tests.conftest import warehouse_url_for
from tests.paths import SNAPSHOT
from transforms.dates import HKT
from warehouse.db import get_engine, upgrade
from warehouse.load import load_articles, sync_kb_entities, sync_sources
from warehouse.marts import refresh_marts
from warehouse.models import Article
from warehouse.search import MAX_QUERY_CHARS, SearchHit, query_terms, search_articles, search_facets

FEEDS = {"rthk_en": "en", "rthk_zh": "zh-Hant", "gia_en": "en", "gia_zh": "zh-Hant", "scmp_tech": "en"}
HOSTILE = [
    "'; DROP TABLE articles; --",
    '"*()',
    'a" OR "b',
    "NEAR(fire police)",
    "title:fire",
    "%",
    "_",
    "\\",
    "*",
]


def _snapshot_records() -> list[dict[str, Any]]:
    """Every item of the snapshot's feeds for FEEDS, tagged by the real tagger."""
    import feedparser

    from transforms.tagging import default_tagger, tag_record
    from transforms.urls import canonical_url

    manifest = [json.loads(line) for line in (SNAPSHOT / "manifest.jsonl").read_text().splitlines()]
    tagger = default_tagger()
    records = []
    for entry in manifest:
        if entry["source"] not in FEEDS or entry["kind"] != "feed":
            continue
        for item in feedparser.parse(gzip.decompress((SNAPSHOT / entry["file"]).read_bytes())).entries:
            records.append(
                tag_record(
                    {
                        "url": item.link,
                        "canonical_url": canonical_url(item.link),
                        "source": entry["source"],
                        "language": FEEDS[entry["source"]],
                        "title": item.title,
                        "body": item.get("summary", ""),
                        "authors": [],
                        "published_at": datetime(*item.published_parsed[:6]).replace(tzinfo=UTC).isoformat(),
                        "fetched_at": datetime(2026, 2, 1, tzinfo=HKT).isoformat(),
                    },
                    tagger,
                )
            )
    return records


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    """One record per canonical URL (the last wins, as in the loader)."""
    return list({r["canonical_url"]: r for r in _snapshot_records()}.values())


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, records
) -> Iterator[Engine]:
    """A warehouse holding the records, loaded twice (a rerun must not duplicate the index)."""
    url = warehouse_url_for(request.param, tmp_path_factory.mktemp("search"))
    from spiders.registry import sources
    from transforms.kb import load_entities

    upgrade(url)
    engine = get_engine(url)
    with engine.begin() as conn:
        sync_sources(conn, sources())
        sync_kb_entities(conn, load_entities().values())
    load_articles(engine, records, "run-1")
    load_articles(engine, records, "run-2")
    refresh_marts(engine)
    yield engine


def _all_hits(engine: Engine, q: str, **filters: Any) -> list[SearchHit]:
    hits: list[SearchHit] = []
    while True:
        page = search_articles(engine, q, limit=50, offset=len(hits), **filters)
        hits += page.hits
        if not page.hits:
            assert len(hits) == page.total
            return hits


def _urls(hits: list[SearchHit]) -> set[str]:
    return {hit.url for hit in hits}


def _substring_oracle(records: list[dict[str, Any]], *terms: str) -> set[str]:
    """Articles whose title or body holds every term as search_articles documents it: a short Latin
    term standing alone (no Latin letter or digit beside it), anything else as a substring; any case."""

    def has(record: dict[str, Any], term: str) -> bool:
        if len(term) < 3 and term.isascii() and term.isalnum():
            alone = re.compile(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])", re.IGNORECASE)
            return bool(alone.search(record["title"]) or alone.search(record["body"]))
        return term.casefold() in record["title"].casefold() or term.casefold() in record["body"].casefold()

    return {r["url"] for r in records if all(has(r, t) for t in terms)}


@pytest.mark.parametrize(
    "terms",
    [("人工智能",), ("港大",), ("數碼港",), ("人工智能", "港大"), ("AI",), ("政府", "AI"), ("公司",)],
    ids=[
        "4-char",
        "2-char",
        "3-char",
        "two-terms-mixed-length",
        "2-char-latin",
        "chinese-and-latin",
        "common",
    ],
)
def test_short_and_chinese_queries_find_exactly_the_articles_containing_them(
    engine: Engine, records, terms
) -> None:
    expected = _substring_oracle(records, *terms)
    assert expected, f"the snapshot must contain {terms}"
    assert _urls(_all_hits(engine, " ".join(terms))) == expected


def test_short_latin_terms_stand_alone(engine: Engine, records) -> None:
    inside_words = {
        r["url"] for r in records if re.search(r"[a-z]ai|ai[a-z]", r["title"] + r["body"], re.IGNORECASE)
    }
    found = _urls(_all_hits(engine, "ai"))
    assert inside_words - _substring_oracle(records, "AI"), "the snapshot must have 'ai' inside words"
    assert not (inside_words - _substring_oracle(records, "AI")) & found
    embedded = {
        r["url"]
        for r in records
        if re.search(
            r"[\u4e00-\u9fff]AI(?![a-z0-9])|(?<![a-z0-9])AI[\u4e00-\u9fff]", r["title"] + r["body"], re.I
        )
    }
    assert embedded and embedded <= found, "AI written inside Chinese text is found"


def test_english_queries(engine: Engine, records) -> None:
    """SQLite: substrings, any case. PostgreSQL: English words, any case, in any of their forms."""
    for query, words in (
        ("fire", ["fire"]),
        ("Kowloon", ["kowloon"]),
        ('"Hong Kong" government', ["hong kong", "government"]),
    ):
        hits = _all_hits(engine, query)
        expected = _substring_oracle(records, *words)
        assert expected, query
        if engine.dialect.name == "sqlite":
            assert _urls(hits) == expected, query
        else:  # whole words, and their other English forms ("fires"): never a part of a word
            whole = {
                r["url"]
                for r in records
                if all(
                    re.search(rf"(?<![a-z0-9]){w}s?(?![a-z0-9])", r["title"] + " " + r["body"], re.I)
                    for w in words
                )
            }
            assert whole and _urls(hits) >= whole, query
            by_url = {r["url"]: r for r in records}
            for url in _urls(hits) - whole:  # stemmed forms: the stem is there
                text_ = (by_url[url]["title"] + " " + by_url[url]["body"]).casefold()
                assert all(w[:4] in text_ for w in words), (query, url)
        assert len(hits) == len(_urls(hits)), "a hit appears once"


def test_pages_cover_the_matches_once_newest_first(engine: Engine) -> None:
    full = _all_hits(engine, "人工智能")
    paged: list[SearchHit] = []
    offset = 0
    while True:
        page = search_articles(engine, "人工智能", limit=7, offset=offset)
        assert page.total == len(full)
        if not page.hits:
            break
        assert len(page.hits) <= 7
        paged += page.hits
        offset += 7
    assert [h.article_id for h in paged] == [h.article_id for h in full]
    times = [h.published_utc for h in full]
    assert times == sorted(times, reverse=True)
    beyond = search_articles(engine, "人工智能", limit=5, offset=len(full) + 10)
    assert beyond.total == len(full) and beyond.hits == []


def test_hits_carry_what_the_page_shows(engine: Engine, records) -> None:
    by_url = {r["url"]: r for r in records}
    hits = search_articles(engine, "數碼港", limit=20).hits
    assert hits
    for hit in hits:
        record = by_url[hit.url]
        assert hit.title == record["title"] and hit.source == record["source"]
        assert hit.published_utc.tzinfo is not None and hit.published_utc.utcoffset() == timedelta(0)
        assert hit.published_utc == datetime.fromisoformat(record["published_at"])
        assert hit.week.weekday() == 0 and hit.week <= hit.published_utc.astimezone(HKT).date()
        assert hit.relevant == bool(record["relevant"])
        assert sorted(hit.sectors) == sorted(set(record.get("sectors") or []))
        assert sorted(hit.entities) == sorted(
            {e["kb_id"] for e in record.get("entities") or [] if e.get("kb_id")}
        )
        assert (
            "數碼港" in hit.snippet
            and len(hit.snippet) <= 210
            and "<" not in hit.snippet.replace(record["body"], "")
        )


def test_filters_narrow_to_exactly_the_matching_articles(engine: Engine, records) -> None:
    base = _substring_oracle(records, "政府")
    by_url = {r["url"]: r for r in records}
    entity = "john-lee"
    sector = next(s for r in records for s in r.get("sectors") or [])
    week = min(_all_hits(engine, "政府"), key=lambda h: h.published_utc).week
    cases: list[tuple[dict[str, Any], Any]] = [
        ({"source": "gia_zh"}, lambda r: r["source"] == "gia_zh"),
        ({"language": "zh-Hant"}, lambda r: r["language"] == "zh-Hant"),
        ({"entity": entity}, lambda r: any(e.get("kb_id") == entity for e in r.get("entities") or [])),
        ({"sector": sector}, lambda r: sector in (r.get("sectors") or [])),
    ]
    for filters, keep in cases:
        expected = {u for u in base if keep(by_url[u])}
        assert expected, filters
        assert _urls(_all_hits(engine, "政府", **filters)) == expected, filters
    in_week = _all_hits(engine, "政府", week=week + timedelta(days=3))  # any day of the week selects it
    assert in_week and all(h.week == week for h in in_week)
    both = _all_hits(engine, "政府", source="rthk_zh", entity=entity)
    assert _urls(both) == {u for u in base if by_url[u]["source"] == "rthk_zh" and cases[2][1](by_url[u])}
    assert search_articles(engine, "政府", source="no-such-source").total == 0


def test_empty_query_lists_the_filtered_articles(engine: Engine, records) -> None:
    page = search_articles(engine, "   ", source="gia_en", limit=5)
    assert page.total == sum(r["source"] == "gia_en" for r in records) and len(page.hits) == 5


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_input_is_only_ever_text(engine: Engine, records, query: str) -> None:
    before = _article_count(engine)
    hits = _all_hits(engine, query)
    assert _article_count(engine) == before
    expected = _substring_oracle(records, *query_terms(query))
    if engine.dialect.name == "sqlite":
        assert _urls(hits) == expected
    else:  # PostgreSQL reads Latin terms as English words (its own test above)
        assert all(re.search(r"[a-z]", t, re.I) for t in query_terms(query)) or _urls(hits) == expected


def test_bad_arguments_are_clear_errors(engine: Engine) -> None:
    with pytest.raises(ValueError, match="too long"):
        search_articles(engine, "港" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(ValueError, match="limit"):
        search_articles(engine, "港", limit=0)
    with pytest.raises(ValueError, match="offset"):
        search_articles(engine, "港", offset=-1)


def test_index_follows_every_change_and_reruns_never_duplicate(engine: Engine, records) -> None:
    record = dict(next(r for r in records if "數碼港" in r["title"] + r["body"]))
    before = search_articles(engine, "數碼港").total
    changed = dict(
        record,
        title=record["title"].replace("數碼港", "Zyxwvport"),
        body=record["body"].replace("數碼港", "Zyxwvport"),
    )
    load_articles(engine, [changed], "run-edit")
    load_articles(engine, [changed], "run-edit-again")
    assert search_articles(engine, "數碼港").total == before - 1
    assert _urls(search_articles(engine, "zyxwvPORT").hits) == {record["url"]}
    load_articles(engine, [record], "run-restore")
    assert search_articles(engine, "數碼港").total == before
    assert search_articles(engine, "Zyxwvport").total == 0
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            indexed = conn.execute(text("SELECT COUNT(*) FROM articles_fts")).scalar_one()
            integrity = conn.execute(
                text("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")
            )
            assert integrity is not None  # raises on a stale external-content index
        assert indexed == _article_count(engine)


def test_migration_indexes_articles_loaded_before_it(tmp_path: Path, records) -> None:
    """Articles stored by an earlier schema are searchable after `upgrade head` (SQLite backfill)."""
    from spiders.registry import sources

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0009")
    engine = get_engine(url)
    with engine.begin() as conn:
        sync_sources(conn, sources())
    sample = [r for r in records if "人工智能" in r["title"] + r["body"]][:5]
    load_articles(engine, [dict(r, entities=[], sectors=[], themes=[]) for r in sample], "old-run")
    upgrade(url)
    assert _urls(_all_hits(engine, "人工智能")) == {r["url"] for r in sample}


def test_facets_offer_the_values_in_the_warehouse(engine: Engine, records) -> None:
    facets = search_facets(engine)
    assert set(FEEDS) <= set(facets["sources"])
    assert {"en", "zh-Hant"} <= set(facets["languages"])
    assert "finance" in facets["sectors"]
    weeks = facets["weeks"]
    assert weeks == sorted(weeks, reverse=True) and weeks
    with engine.connect() as conn:
        stored = {str(w)[:10] for w in conn.execute(select(Article.published_week).distinct()).scalars() if w}
    assert set(weeks) == stored


def _article_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Article)).scalar_one())
