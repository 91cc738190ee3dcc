"""Fault matrix: every crawl fault injected on loopback against the real code, isolated, counted, and
neither losing nor duplicating a row; and a crash-point test that SIGKILLs `hkai run` at every task
boundary and in the middle of the load.

Faults run together, in two ingest runs over a modified copy of snapshots/demo served by the replay
server (one crawl process per source, as in production):

1. *faulty*: every fault below is live. Each must be isolated (every row not behind a fault is
   stored, and only the sources carrying a source-wide fault are flagged) and counted in
   `crawl_runs` (a counter column or the error sample naming the URL).
2. *healed*, "an hour later" (the failed pages' backoff is moved into the past): the faults are
   repaired but the feeds are byte-identical, so they answer 304. Every page that failed must now be
   stored all the same (failed pages are retried whatever their feed answers), except the page that
   stays 403: it reaches its last attempt and is given up, and counted.

Rows lost = rows the healed snapshot can give that are missing after both runs; rows duplicated =
rows beyond one per story. `python -m pytest tests/spiders/test_fault_matrix.py -s` prints the table
that docs/FAULTS.md holds.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from tests.paths import REPO, SNAPSHOT

RUN_FAULTY, RUN_HEALED = "faults-1", "faults-2"
SOURCES = ("hk01_tech", "hkej", "mingpao", "rthk_en", "scmp_tech")  # the DAG's order
HEALED_SOURCES = ("hk01_tech", "hkej", "scmp_tech")  # the others' feeds answer 304: nothing to redo
HANG_TIMEOUT_S = 6.0  # time enough for the source's other feed and pages, even on a busy machine
FUTURE_PUB_DATE = "Thu, 01 Jan 2099 10:00:00 +0800"

SCMP_FEEDS = (
    "https://www.scmp.com/rss/36/feed",
    "https://www.scmp.com/rss/325332/feed",
    "https://www.scmp.com/rss/519748/feed",
)
RTHK_LOCAL_FEED = "https://rthk.hk/rthk/news/rss/e_expressnews_elocal.xml"
HK01_HANGING_FEED = "https://web-data.api.hk01.com/v2/feed/category/391?bucketId=00000&limit=40"
HKEJ_ROBOTS = "https://www.hkej.com/robots.txt"


def scmp_page(n: int, slug: str) -> str:
    return f"https://www.scmp.com/tech/article/{n}/{slug}"


def rthk_page(n: int) -> str:
    return f"https://news.rthk.hk/rthk/en/component/k2/{n}-20251127.htm"


# Injected article pages (feed /rss/36): each answers with its fault in the faulty run, with a
# real article in the healed run (except the 403, which never recovers).
P503 = scmp_page(9001, "server-error")
P429 = scmp_page(9002, "rate-limited")
PTIMEOUT = scmp_page(9003, "timeout")
P403 = scmp_page(9004, "forbidden")
P202 = scmp_page(9005, "js-challenge")
PHUGE = scmp_page(9006, "ten-megabytes")
PLOOP = scmp_page(9007, "redirect-loop")
PEMPTY = scmp_page(9008, "empty-body")
PCHARSET = scmp_page(9009, "wrong-charset")
PTAIL = scmp_page(9100, "after-the-truncation")  # listed after the cut in the truncated feed
RTHK_FUTURE = rthk_page(1899001)
RTHK_HTML_TITLE = rthk_page(1899002)
HOSTILE_TITLE = "<b>Cyberport</b> <script>alert(1)</script> AI"
INVALID_LINKS = ("javascript:alert(1)", "mailto:newsroom@rthk.hk", "data:text/html,<h1>AI</h1>")

_ENTITIES = ("Cyberport", "HKUST", "CUHK", "the HKMA", "SenseTime", "Alibaba Cloud", "HKSTP", "HKU")


def article_html(n: int, title: str, language: str = "en") -> bytes:
    """A plain article page the generic extraction cascade reads (h1, paragraphs, published time)."""
    a, b = _ENTITIES[n % len(_ENTITIES)], _ENTITIES[(n + 3) % len(_ENTITIES)]
    if language == "en":
        paragraphs = [
            f"{a} said on Thursday that its artificial intelligence programme in Hong Kong would add "
            f"computing power for start-ups, working with {b} on generative AI models.",
            "Officials said the scheme would support research, talent and the city's AI industry.",
        ]
    else:
        paragraphs = [
            "數碼港周四表示，香港的人工智能超算中心將為初創企業提供算力，並與科大合作研發生成式人工智能。"
        ]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta property="article:published_time" content="2025-11-27T10:00:00+08:00"></head>'
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    ).encode()


def rss(items: list[dict[str, str]]) -> bytes:
    def esc(value: str) -> str:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    body = "".join(
        f"<item><title>{esc(i['title'])}</title><link>{esc(i['link'])}</link>"
        f"<pubDate>{i.get('date', 'Thu, 27 Nov 2025 10:00:00 +0800')}</pubDate>"
        + (f"<description>{esc(i['body'])}</description>" if i.get("body") else "")
        + "</item>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        f"{body}</channel></rss>"
    ).encode()


# -- the snapshot ---------------------------------------------------------------------------------


class FaultySnapshot:
    """A copy of snapshots/demo whose manifest injects the faults (`faulty`) or repairs them (`healed`)."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(SNAPSHOT, root)
        self.files = root / "files" / "faults"
        self.files.mkdir()
        self.base = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]
        self.pages = {m["source"]: [] for m in self.base}
        for m in self.base:
            if m["kind"] == "page":
                self.pages[m["source"]].append(m["url"])
        self.original = {m["url"]: gzip.decompress((root / m["file"]).read_bytes()) for m in self.base}
        self.scmp_by_feed = {
            feed: re.findall(rb"<link>(https://www\.scmp\.com/news/[^<]+)</link>", self.original[feed])
            for feed in SCMP_FEEDS
        }
        self.scmp_a, self.scmp_b = (u.decode() for u in self.scmp_by_feed[SCMP_FEEDS[0]])
        self.scmp_c = self.scmp_by_feed[SCMP_FEEDS[1]][0].decode()
        self.scmp_d = self.scmp_by_feed[SCMP_FEEDS[2]][0].decode()

    def write(self, name: str, body: bytes) -> str:
        (self.files / name).write_bytes(body)
        return f"files/faults/{name}"

    def entry(self, url: str, file: str | None, **extra: Any) -> dict[str, Any]:
        return {"url": url, "file": file, "source": "faults", "kind": "fault", **extra}

    def build(self, healed: bool) -> None:
        injected: dict[str, dict[str, Any]] = {}

        def add(url: str, file: str | None, **extra: Any) -> None:
            injected[url] = self.entry(url, file, **extra)

        # scmp_tech: /rss/36 lists two real pages, every faulty page, a javascript: link and a
        # tracking-parameter copy of a listed page; it is byte-identical in both runs (304 in the second)
        feed36 = [
            {"title": "real a", "link": self.scmp_a},
            {"title": "real b", "link": self.scmp_b},
            *[
                {"title": f"injected {n}", "link": url}
                for n, url in enumerate((P503, P429, PTIMEOUT, P403, P202, PHUGE, PLOOP, PEMPTY, PCHARSET))
            ],
            {"title": "script link", "link": "javascript:void(0)"},
            {"title": "real a again", "link": self.scmp_a + "?utm_source=rss&utm_medium=feed"},
        ]
        add(SCMP_FEEDS[0], self.write("feed36.xml", rss(feed36)), content_type="application/rss+xml")
        tail_item = (
            f"<item><title>After the truncation</title><link>{PTAIL}</link>"
            "<pubDate>Thu, 27 Nov 2025 10:00:00 +0800</pubDate></item>"
        ).encode()
        full = self.original[SCMP_FEEDS[1]].replace(b"</channel>", tail_item + b"</channel>")
        truncated = full[: full.index(b"<item><title>After") + 60]  # cut inside the last item
        add(
            SCMP_FEEDS[1],
            self.write(f"feed325332-{'full' if healed else 'cut'}.xml", full if healed else truncated),
            content_type="application/rss+xml",
        )
        add(
            SCMP_FEEDS[2],
            self.write("feed519748.xml", self.original[SCMP_FEEDS[2]])
            if healed
            else self.write("empty", b""),
            content_type="application/rss+xml",
        )
        for n, url in enumerate((P503, P429, PTIMEOUT, P202, PHUGE, PLOOP, PEMPTY, PTAIL)):
            add(url, self.write(f"page-{n}.html", article_html(n, f"Recovered story {n} on AI in Hong Kong")))
        latin1_label = "text/html; charset=iso-8859-1"
        add(
            PCHARSET,
            self.write("charset.html", article_html(9, "數碼港人工智能", "zh-Hant")),
            content_type=latin1_label,
        )
        add(P403, self.write("forbidden.html", b"<html><body>Forbidden</body></html>"), status=403)
        if not healed:
            add(P503, None, status=503)
            add(P429, self.write("429.html", b"<html><body>Too many requests</body></html>"), status=429)
            injected[PTIMEOUT]["delay"] = 4
            add(
                P202,
                self.write("challenge.html", b"<html><head><script>setTimeout(location.reload,1)</script>"),
                status=202,
            )
            add(PHUGE, self.write("huge.html", b"<html><body>" + b"<p>AI in Hong Kong. </p>" * 450_000))
            add(PLOOP, None, status=302, location=PLOOP + "-b")
            add(PLOOP + "-b", None, status=302, location=PLOOP)
            add(PEMPTY, self.write("empty.html", b""))
        # rthk_en (full-text feeds, no page requests): a future date, HTML in a title, links that are
        # not http(s), and one of SCMP's pages (stored once, by whichever crawl stages it last)
        local = self.original[RTHK_LOCAL_FEED]
        extra_items = rss(
            [
                {
                    "title": "AI lab opens",
                    "link": RTHK_FUTURE,
                    "date": FUTURE_PUB_DATE,
                    "body": "Cyberport opened an artificial intelligence lab in Hong Kong on Thursday.",
                },
                {
                    "title": HOSTILE_TITLE,
                    "link": RTHK_HTML_TITLE,
                    "body": "HKUST researchers said generative AI would help Hong Kong hospitals.",
                },
                *[
                    {"title": f"not a page {n}", "link": link, "body": "AI"}
                    for n, link in enumerate(INVALID_LINKS)
                ],
                {"title": "Seen at SCMP", "link": self.scmp_b, "body": "A story SCMP also carries."},
            ]
        )
        items = extra_items[extra_items.index(b"<item>") : extra_items.index(b"</channel>")]
        add(
            RTHK_LOCAL_FEED,
            self.write("elocal.xml", local.replace(b"</channel>", items + b"</channel>")),
            content_type="application/rss+xml",
        )
        # hk01_tech: one API feed hangs (headers, then nothing) until its crawl process is killed
        if not healed:
            injected[HK01_HANGING_FEED] = {
                **next(m for m in self.base if m["url"] == HK01_HANGING_FEED),
                "hang": True,
            }
        # hkej: robots.txt answers 503 (disallow all); healed, 404 (allow all)
        add(
            HKEJ_ROBOTS, self.write("robots-error.txt", b"Service Unavailable"), status=404 if healed else 503
        )
        manifest = [m for m in self.base if m["url"] not in injected] + list(injected.values())
        (self.root / "manifest.jsonl").write_text("\n".join(json.dumps(m) for m in manifest) + "\n")


# -- the faults -----------------------------------------------------------------------------------


@dataclass
class Fault:
    name: str
    where: str
    #: URLs whose rows depend on this fault, and how many rows they must end as
    rows: tuple[str, ...]
    expected_rows: int
    #: (source, crawl_runs column or "error_sample" / "flag_reason", substring or minimum)
    counted: tuple[tuple[str, str, Any], ...]
    run: str = RUN_FAULTY
    measured: dict[str, Any] = field(default_factory=dict)


def faults(snap: FaultySnapshot) -> list[Fault]:
    feed = json.loads(snap.original[HK01_HANGING_FEED])
    hanging_pages = tuple(item["data"]["canonicalUrl"] for item in feed["items"])
    return [
        Fault("5xx", "scmp page answers 503", (P503,), 1, (("scmp_tech", "error_sample", "HTTP 503"),)),
        Fault("429", "scmp page answers 429", (P429,), 1,
              (("scmp_tech", "error_sample", "HTTP 429"), ("scmp_tech", "blocked", 1))),
        Fault("timeout", "scmp page answers after 4 s (DOWNLOAD_TIMEOUT 2 s)", (PTIMEOUT,), 1,
              (("scmp_tech", "error_sample", "TimeoutError"),)),
        Fault("hang", f"hk01 API feed never sends its body; crawl killed after {HANG_TIMEOUT_S:g} s",
              hanging_pages, 2, (("hk01_tech", "flag_reason", "timed out"),)),
        Fault("403", "scmp page answers 403 in both runs (4 earlier attempts)", (P403,), 0,
              (("scmp_tech", "error_sample", "HTTP 403"), ("scmp_tech", "blocked", 1),
               ("scmp_tech", "gave_up_pages", 1))),
        Fault("202 JS challenge", "scmp page answers 202 with only a script", (P202,), 1,
              (("scmp_tech", "error_sample", "202 JavaScript challenge"), ("scmp_tech", "blocked", 1))),
        Fault("truncated XML", "scmp feed cut inside its last item", (snap.scmp_c, PTAIL), 2,
              (("scmp_tech", "error_sample", "malformed feed, partly parsed"),
               ("scmp_tech", "parse_failures", 1))),
        Fault("wrong charset", "UTF-8 Chinese page labelled ISO-8859-1", (PCHARSET,), 1,
              (("scmp_tech", "undecodable", 0),)),
        Fault("empty body (feed)", "scmp feed answers 200 with 0 bytes", (snap.scmp_d,), 1,
              (("scmp_tech", "error_sample", "empty response body"), ("scmp_tech", "parse_failures", 1))),
        Fault("empty body (page)", "scmp page answers 200 with 0 bytes", (PEMPTY,), 1,
              (("scmp_tech", "error_sample", "extraction failed"),)),
        Fault("10 MB page", "scmp page of 10.8 MB (DOWNLOAD_MAXSIZE 8 MB)", (PHUGE,), 1,
              (("scmp_tech", "error_sample", "ten-megabytes"),)),
        Fault("redirect loop", "scmp page 302 → 302 → itself", (PLOOP,), 1,
              (("scmp_tech", "error_sample", "redirect-loop"),)),
        Fault("future date", "rthk feed entry dated 2099", (RTHK_FUTURE,), 1,
              (("rthk_en", "future_dated", 1),)),
        Fault("HTML in a title", "rthk feed title with <b> and <script>", (RTHK_HTML_TITLE,), 1, ()),
        Fault("javascript: URL", "javascript:, mailto:, data: links in rthk and scmp feeds", INVALID_LINKS, 0,
              (("rthk_en", "invalid_urls", 3), ("scmp_tech", "invalid_urls", 1))),
        Fault("duplicate URL", "scmp page listed twice (utm copy) and by rthk too", (snap.scmp_a, snap.scmp_b), 2,
              (("scmp_tech", "skipped_known", 1), ("scmp_tech", "duplicate_items", 1))),
        Fault("robots.txt 5xx", "hkej robots.txt answers 503", tuple(snap.pages["hkej"]), 4,
              (("hkej", "error_sample", "robots.txt unavailable"), ("hkej", "flag_reason", "every feed"))),
    ]  # fmt: skip


# -- running the matrix ---------------------------------------------------------------------------


def ingest_run(run_id: str, sources: tuple[str, ...] = SOURCES) -> None:
    """The ingest DAG's tasks in order (as `hkai.ingest.run_all`), with a short timeout for the hang."""
    from hkai import ingest

    ingest.prepare_warehouse()
    for source in sources:
        if source == "hk01_tech":  # the hang outlasts the crawl's timeout, not Scrapy's download timeout
            ingest.crawl(
                source,
                run_id,
                timeout_s=HANG_TIMEOUT_S,
                env={"HKAI_SCRAPY_SETTINGS": json.dumps({"DOWNLOAD_TIMEOUT": 60})},
            )
        else:
            ingest.crawl(source, run_id)
    ingest.tag_and_load(run_id)
    ingest.cluster_stories()
    ingest.quality_checks()
    ingest.refresh(run_id)


def stored(urls: tuple[str, ...] | list[str] | set[str]) -> dict[str, int]:
    """Rows per URL: articles whose canonical URL is the URL's (any tracking copy maps to it)."""
    from transforms.urls import canonical_url
    from warehouse.db import get_engine
    from warehouse.models import Article

    keys = {canonical_url(u): u for u in urls}
    with get_engine().connect() as conn:
        rows = conn.execute(select(Article.canonical_url)).scalars().all()
    return {u: sum(1 for r in rows if r == key) for key, u in keys.items()}


def crawl_runs(run_id: str) -> dict[str, dict[str, Any]]:
    from warehouse.db import get_engine
    from warehouse.models import CrawlRun

    with get_engine().connect() as conn:
        rows = conn.execute(select(CrawlRun.__table__).where(CrawlRun.run_id == run_id)).all()
        return {r.source: dict(r._mapping) for r in rows}


@dataclass
class Matrix:
    snapshot: FaultySnapshot
    faults: list[Fault]
    runs: dict[str, dict[str, dict[str, Any]]]
    after_faulty: dict[str, int]
    after_healed: dict[str, int]
    all_expected: set[str]
    seconds: dict[str, float]
    extra: dict[str, Any]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    from warehouse.db import get_engine
    from warehouse.models import Article, FailedPage

    tmp = tmp_path_factory.mktemp("fault-matrix")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "HKAI_DATA_DIR": str(tmp / "data"),
            "HKAI_OUT_DIR": str(tmp / "out"),
            "HKAI_CRAWL_MODE": "replay",
            "HKAI_SNAPSHOT_DIR": str(tmp / "snapshot"),
            "HKAI_SCRAPY_SETTINGS": json.dumps({"DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 0}),
        }.items():
            mp.setenv(name, value)
        for name in ("HKAI_WAREHOUSE_URL", "HKAI_REPLAY_URL", "AIRFLOW_CONN_SMTP_DEFAULT"):
            mp.delenv(name, raising=False)
        snap = FaultySnapshot(tmp / "snapshot")
        found = faults(snap)
        healthy = {u for s in SOURCES for u in snap.pages[s]} | {
            RTHK_FUTURE,
            RTHK_HTML_TITLE,
            PTAIL,
            PCHARSET,
        }
        healthy |= {P503, P429, PTIMEOUT, P202, PHUGE, PLOOP, PEMPTY}
        seconds = {}

        snap.build(healed=False)
        started = time.monotonic()
        ingest_run(RUN_FAULTY)
        seconds[RUN_FAULTY] = time.monotonic() - started
        after_faulty = stored(healthy)
        extra: dict[str, Any] = {}
        with get_engine().begin() as conn:
            extra["validators_saved"] = {
                url for (url,) in conn.execute(text("SELECT url FROM feed_state")).all()
            }
            extra["failed_after_faulty"] = dict(
                conn.execute(select(FailedPage.canonical_url, FailedPage.last_error)).all()
            )
            # an hour later: every backoff has passed; the 403 page has failed 4 times before
            past = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
            conn.execute(update(FailedPage).values(next_attempt_at=past))
            conn.execute(
                update(FailedPage).where(FailedPage.url == P403).values(attempts=4, last_run_id="earlier")
            )

        snap.build(healed=True)
        started = time.monotonic()
        ingest_run(RUN_HEALED, HEALED_SOURCES)
        seconds[RUN_HEALED] = time.monotonic() - started
        after_healed = stored(healthy)
        with get_engine().connect() as conn:
            extra["failed_after_healed"] = {
                r.canonical_url: r.gave_up_at is not None
                for r in conn.execute(select(FailedPage.__table__)).all()
            }
            extra["articles"] = int(conn.execute(select(func.count()).select_from(Article)).scalar_one())
            extra["not_http"] = conn.execute(
                select(func.count()).select_from(Article).where(~Article.url.like("http%"))
            ).scalar_one()
            extra["charset_row"] = conn.execute(
                select(Article.title, Article.body).where(Article.url == PCHARSET)
            ).one_or_none()
            extra["title_row"] = conn.execute(
                select(Article.title, Article.body).where(Article.url == RTHK_HTML_TITLE)
            ).one_or_none()
            extra["future_row"] = conn.execute(
                select(Article.published_at, Article.title).where(Article.url == RTHK_FUTURE)
            ).one_or_none()
            extra["source_of_b"] = conn.execute(
                select(Article.source).where(Article.url == snap.scmp_b)
            ).scalar_one_or_none()
        yield Matrix(
            snap,
            found,
            {RUN_FAULTY: crawl_runs(RUN_FAULTY), RUN_HEALED: crawl_runs(RUN_HEALED)},
            after_faulty,
            after_healed,
            healthy,
            seconds,
            extra,
        )


def counted_evidence(matrix: Matrix, fault: Fault) -> list[str]:
    """Where the fault shows in crawl_runs: 'source.column=value' or the error sample line."""
    found = []
    for source, column, want in fault.counted:
        run_id = RUN_HEALED if column == "gave_up_pages" else fault.run
        row = matrix.runs[run_id][source]
        if column == "error_sample":
            lines = [line for line in row["error_sample"] if want in line]
            assert lines, (fault.name, source, want, row["error_sample"])
            found.append(f"{source}.error_sample: `{_short(lines[0])}`")
        elif column == "flag_reason":
            assert row["flagged"] and want in (row["flag_reason"] or ""), (fault.name, source, row)
            found.append(f"{source}.flagged: `{_short(row['flag_reason'])}`")
        elif want == 0:
            assert row[column] == 0, (fault.name, source, column, row[column])
            found.append(f"{source}.{column}=0")
        else:
            assert row[column] >= want, (fault.name, source, column, row[column])
            found.append(
                f"{source}.{column}={row[column]}" + (" (healed run)" if run_id == RUN_HEALED else "")
            )
    return found


def _short(line: str, width: int = 70) -> str:
    line = re.sub(r"http://127\.0\.0\.1:\d+/fetch\?url=\S+", "…", line)  # the replay server's port varies
    line = re.sub(
        r"https://[^ ]*/(article/\d+/[\w-]+|robots\.txt|rss/\d+/feed|instantnews/\w+)", r"…/\1", line
    )
    return line if len(line) <= width else line[: width - 1] + "…"


def _lost_and_duplicated(matrix: Matrix, fault: Fault) -> tuple[int, int]:
    if fault.name == "javascript: URL":
        return 0, int(matrix.extra["not_http"])
    rows = stored(fault.rows)
    present = sum(1 for n in rows.values() if n)
    lost = max(0, fault.expected_rows - present)
    duplicated = sum(n - 1 for n in rows.values() if n > 1) + max(0, present - fault.expected_rows)
    return lost, duplicated


def _isolated(matrix: Matrix) -> bool:
    """Every row behind no fault was stored by the faulty run, and only faulty sources were flagged."""
    behind = {u for f in matrix.faults for u in f.rows}
    untouched = matrix.all_expected - behind
    flagged = {s for s, row in matrix.runs[RUN_FAULTY].items() if row["flagged"]}
    return all(matrix.after_faulty[u] == 1 for u in untouched) and flagged == {
        "hk01_tech",
        "hkej",
        "scmp_tech",
    }


def results_table(matrix: Matrix) -> list[str]:
    isolated = _isolated(matrix)
    lines = [
        "| fault | injected | isolated? | counted where (crawl_runs) | rows lost | rows duplicated |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for fault in matrix.faults:
        counted = "; ".join(counted_evidence(matrix, fault)) or "not a crawl fault: stored cleaned"
        lost, duplicated = _lost_and_duplicated(matrix, fault)
        fault.measured = {"lost": lost, "duplicated": duplicated}
        lines.append(
            f"| {fault.name} | {fault.where} | {'yes' if isolated else 'NO'} | {counted} | {lost} | {duplicated} |"
        )
    return lines


# -- the tests ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_each_fault_is_isolated(matrix: Matrix) -> None:
    runs = matrix.runs[RUN_FAULTY]
    assert set(runs) == set(SOURCES)
    assert not runs["mingpao"]["flagged"] and runs["mingpao"]["items"] == 8, runs["mingpao"]
    assert not runs["rthk_en"]["flagged"], runs["rthk_en"]
    assert runs["hk01_tech"]["flagged"] and "killed" in runs["hk01_tech"]["flag_reason"]
    assert runs["hkej"]["flagged"] and runs["scmp_tech"]["flagged"]
    assert _isolated(matrix), {u: n for u, n in matrix.after_faulty.items() if n != 1}
    # what the hung crawl fetched before it was killed is kept: the other API feed's two pages
    assert runs["hk01_tech"]["items"] == 2, runs["hk01_tech"]


@pytest.mark.slow
def test_each_fault_is_counted_in_crawl_runs(matrix: Matrix) -> None:
    for fault in matrix.faults:
        counted_evidence(matrix, fault)
    # the partly parsed feed's validators are not saved: the next run fetches it whole, never a 304
    assert SCMP_FEEDS[1] not in matrix.extra["validators_saved"]
    assert SCMP_FEEDS[0] in matrix.extra["validators_saved"]


@pytest.mark.slow
def test_no_row_is_lost_or_duplicated(matrix: Matrix) -> None:
    missing = {u for u, n in matrix.after_healed.items() if n != 1}
    assert not missing, missing
    assert matrix.extra["articles"] == len(matrix.all_expected)  # no row beyond one per story
    assert matrix.extra["not_http"] == 0
    for fault in matrix.faults:
        assert _lost_and_duplicated(matrix, fault) == (0, 0), fault.name


@pytest.mark.slow
def test_failed_pages_are_retried_while_their_feed_answers_304(matrix: Matrix) -> None:
    healed = matrix.runs[RUN_HEALED]["scmp_tech"]
    assert healed["not_modified"] >= 1  # /rss/36 answered 304, yet its failed pages were fetched
    for url in (P503, P429, PTIMEOUT, P202, PHUGE, PLOOP, PEMPTY):
        assert url in matrix.extra["failed_after_faulty"], url
        assert matrix.after_faulty[url] == 0 and matrix.after_healed[url] == 1, url
    # stored pages are forgotten with their load; the page still refused is given up and counted
    assert matrix.extra["failed_after_healed"] == {P403: True}
    assert healed["gave_up_pages"] == 1


@pytest.mark.slow
def test_stored_values_of_tricky_items(matrix: Matrix) -> None:
    title, body = matrix.extra["charset_row"]
    assert title == "數碼港人工智能" and "人工智能" in body and "\ufffd" not in body + title
    title, _body = matrix.extra["title_row"]
    assert title == "Cyberport AI"  # tags and the script element are gone, the words remain
    published, title = matrix.extra["future_row"]
    assert published is None and title == "AI lab opens"  # kept, with the impossible date cleared
    assert matrix.extra["source_of_b"] == "scmp_tech"  # one row: the copy staged last


@pytest.mark.slow
def test_fault_table_is_the_documented_one(matrix: Matrix) -> None:
    table = results_table(matrix)
    print("\n" + "\n".join(table))
    print(f"\nfaulty run {matrix.seconds[RUN_FAULTY]:.1f} s, healed run {matrix.seconds[RUN_HEALED]:.1f} s")
    documented = (REPO / "docs" / "FAULTS.md").read_text(encoding="utf-8")
    missing = [line for line in table if line not in documented]
    assert not missing, "docs/FAULTS.md is out of date; the measured table is:\n" + "\n".join(table)


def test_failed_page_lifecycle_in_the_warehouse(warehouse_url: str) -> None:
    """Failed, retried when due (attempts counted once per run), resolved by a crawl, forgotten by its
    load; or given up. On SQLite and PostgreSQL."""
    from spiders.base import MAX_PAGE_ATTEMPTS, retry_after_s
    from warehouse.db import get_engine, upgrade
    from warehouse.load import crawl_state, load_articles, record_failed_pages
    from warehouse.models import FailedPage

    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    page = "https://www.scmp.com/tech/article/1/a"
    gone = "https://www.scmp.com/tech/article/2/b"

    def failure(url: str, attempts: int) -> dict[str, Any]:
        return {
            "url": url,
            "canonical_url": url,
            "reason": "HTTP 503",
            "attempts": attempts,
            "gave_up": attempts >= MAX_PAGE_ATTEMPTS,
            "retry_after_s": retry_after_s(attempts),
            "entry": {"title": "t", "published_at": "2025-11-27T10:00:00+08:00"},
        }

    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        record_failed_pages(conn, "run-1", "scmp_tech", [failure(page, 1), failure(gone, 5)], now=now)
    with engine.connect() as conn:
        state = crawl_state(conn, "scmp_tech", run_id="run-2", now=now)["failed"]
        assert state[page] == {
            "url": page,
            "attempts": 1,
            "entry": failure(page, 1)["entry"],
            "due": False,
            "gave_up": False,
        }
        assert state[gone]["gave_up"] and not state[gone]["due"]
        assert crawl_state(conn, "scmp_tech", now=now + timedelta(hours=1))["failed"][page]["due"]
        # a rerun of run-1's crawl sees the attempts as they were before run-1
        assert crawl_state(conn, "scmp_tech", run_id="run-1", now=now)["failed"][page]["attempts"] == 0
    with engine.begin() as conn:  # a later crawl stores the page: resolved, not yet forgotten
        record_failed_pages(conn, "run-3", "scmp_tech", [], [page], now=now)
    load_articles(engine, [], "run-2")  # another run's load leaves it
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FailedPage)).scalar_one() == 2
    load_articles(engine, [], "run-3")  # its own load forgets it, in the load's transaction
    with engine.connect() as conn:
        rows = conn.execute(select(FailedPage.canonical_url, FailedPage.gave_up_at)).all()
    assert [(url, given_up is not None) for url, given_up in rows] == [(gone, True)]


@pytest.mark.slow
def test_undecodable_pages_counted_by_the_spider_reach_crawl_runs(hkai_env: Path) -> None:
    """`hkai/undecodable` (counted where a page's bytes are decoded) flows to crawl_runs.undecodable."""
    from hkai.ingest import prepare_warehouse
    from spiders.health import assess, health_from_stats
    from warehouse.db import get_engine
    from warehouse.load import record_crawl_run

    prepare_warehouse()
    stats = {
        "hkai/undecodable": 2,
        "hkai/article_pages": 3,
        "hkai/feed_entries": 3,
        "finish_reason": "finished",
    }
    health = assess(health_from_stats("scmp_tech", stats, listings=3)).as_dict()
    with get_engine().begin() as conn:
        record_crawl_run(conn, "run-u", "replay", datetime.now(UTC), health)
    row = crawl_runs("run-u")["scmp_tech"]
    assert row["undecodable"] == 2 and row["flagged"] and "2 undecodable page(s)" in row["flag_reason"]


# -- crash points ---------------------------------------------------------------------------------

CRASH_SOURCES = ("rthk_en", "scmp_tech")
CRASH_RUN_ID = "crash"
MID_LOAD = "mid-load"
# (kill point, the output line after which `hkai run` is SIGKILLed from outside, or MID_LOAD)
KILL_POINTS: tuple[tuple[str, str], ...] = (
    ("after prepare", r"^crawling rthk_en \(1/2\)"),
    ("after crawl 1 (rthk_en)", r"^  rthk_en: \d+ new items"),
    ("after crawl 2 (scmp_tech)", r"^  scmp_tech: \d+ new items"),
    ("mid tag_and_load (rows written, not committed)", MID_LOAD),
    ("after load", r"^clustering stories"),
    ("after clusters", r"^quality checks"),
    ("after marts", r"^\{"),
)
# Test code only: `hkai run` in a real process whose load SIGKILLs it right after the first chunk
# of articles and tags was written inside the open transaction (counted on that connection first).
_DIE_MID_LOAD = """
import os, signal, sys
from sqlalchemy import text
import warehouse.load as load
original = load._load_chunk
def chunk_then_die(conn, records, run_id):
    result = original(conn, records, run_id)
    written = conn.execute(text("SELECT COUNT(*) FROM articles WHERE loaded_run_id = :r"), {"r": run_id})
    print(f"rows written in the open transaction: {written.scalar_one()}", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
load._load_chunk = chunk_then_die
from hkai.cli import main
sys.exit(main(sys.argv[1:]))
"""
AI_STORIES = (
    ("Cyberport opens AI supercomputing centre to Hong Kong start-ups",
     "Cyberport said its artificial intelligence supercomputing centre would give Hong Kong start-ups and HKUST researchers computing power for generative AI."),
    ("HKMA sandbox lets banks test generative AI for fraud detection",
     "The HKMA said banks in Hong Kong would test generative AI models for fraud detection and customer service in its sandbox."),
    ("SenseTime and CUHK launch AI medical imaging lab",
     "SenseTime and CUHK opened an artificial intelligence lab in Hong Kong that will use machine learning to read medical scans for hospitals."),
    ("HKSTP fund backs AI robotics start-ups",
     "HKSTP said its new fund would invest in Hong Kong artificial intelligence and robotics start-ups, with HKU and HKUST as partners."),
    ("Government sets out AI guidelines for civil servants",
     "The Hong Kong government issued guidelines on the use of generative AI by civil servants, covering privacy and data security, after talks with Cyberport."),
    ("Alibaba Cloud expands Hong Kong data centre for AI",
     "Alibaba Cloud said it would expand its Hong Kong data centre to serve demand for artificial intelligence computing from banks and HKMA-regulated firms."),
)  # fmt: skip


def crash_snapshot(root: Path) -> Path:
    """The demo snapshot, with RTHK's local feed carrying AI stories so that every mart has rows."""
    shutil.copytree(SNAPSHOT, root)
    manifest = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]
    local = next(m for m in manifest if m["url"] == RTHK_LOCAL_FEED)
    original = gzip.decompress((root / local["file"]).read_bytes())
    stories = rss(
        [
            {
                "title": title,
                "link": rthk_page(1890000 + n),
                "body": body,
                "date": f"Thu, {20 + n} Nov 2025 10:00:00 +0800",
            }
            for n, (title, body) in enumerate(AI_STORIES)
        ]
    )
    items = stories[stories.index(b"<item>") : stories.index(b"</channel>")]
    (root / "files" / "ai-local.xml").write_bytes(original.replace(b"</channel>", items + b"</channel>"))
    local.update(file="files/ai-local.xml")
    (root / "manifest.jsonl").write_text("\n".join(json.dumps(m) for m in manifest) + "\n")
    return root


@dataclass
class CrashRun:
    point: str
    killed: bool
    written_before_kill: int | None
    rerun_exit: int
    state: dict[str, Any]
    #: the warehouse as the killed run left it
    before_rerun: dict[str, Any]
    seconds: float


def hkai_run(workdir: Path, snapshot: Path, kill_at: str | None = None) -> tuple[int, list[str]]:
    """`hkai run` in its own process group; SIGKILLed (the whole group) right after `kill_at` is printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HKAI_", "AIRFLOW_CONN_"))}
    env.update(
        HKAI_DATA_DIR=str(workdir / "data"),
        HKAI_OUT_DIR=str(workdir / "out"),
        HKAI_CRAWL_MODE="replay",
        HKAI_SNAPSHOT_DIR=str(snapshot),
        TMPDIR=str(workdir),
        PYTHONPATH=str(REPO),
    )
    args = ["run", "--run-id", CRASH_RUN_ID, *[a for s in CRASH_SOURCES for a in ("--source", s)]]
    if kill_at == MID_LOAD:
        command = [sys.executable, "-c", _DIE_MID_LOAD, *args]
    else:
        command = [sys.executable, "-m", "hkai.cli", *args]
    process = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 180
    pattern = re.compile(kill_at) if kill_at and kill_at != MID_LOAD else None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if pattern and pattern.search(line):
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the crawl child too, if one is running
            except ProcessLookupError:
                pass
            break
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError("hkai run did not finish in 180 s:\n" + "\n".join(lines[-20:]))
    process.stdout.close()
    return process.wait(timeout=60), lines


def warehouse_state(workdir: Path) -> dict[str, Any]:
    """The article tables and every mart, keyed by canonical URL (ids and fetch times differ by run)."""
    from sqlalchemy import create_engine

    from warehouse.marts import MART_NAMES

    def rows(conn: Any, sql: str, drop: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
        result = conn.execute(text(sql)).mappings().all()
        return sorted(tuple((k, str(v)) for k, v in sorted(r.items()) if k not in drop) for r in result)

    engine = create_engine(f"sqlite:///{workdir / 'data' / 'warehouse.db'}")
    url_of = "(SELECT canonical_url FROM articles a WHERE a.id = t.{column}) AS {column}_url"
    try:
        with engine.connect() as conn:
            state = {
                "articles": rows(conn, "SELECT * FROM articles", ("id", "fetched_at")),
                # candidate names the load found (KB rows are synced from transforms/kb by prepare)
                "entities": rows(conn, "SELECT * FROM entities WHERE status = 'candidate'"),
                "failed_pages": rows(conn, "SELECT canonical_url FROM failed_pages"),
                "crawl_runs": rows(
                    conn,
                    "SELECT run_id, source, flagged, duplicate_items, future_dated, invalid_urls, "
                    "undecodable, gave_up_pages FROM crawl_runs",
                ),
            }
            for table in ("article_entities", "article_sectors", "article_themes"):
                state[table] = rows(
                    conn, f"SELECT t.*, {url_of.format(column='article_id')} FROM {table} t", ("article_id",)
                )
            for mart in MART_NAMES:
                if mart == "story_clusters":
                    sql = f"SELECT t.*, {url_of.format(column='first_article_id')} FROM story_clusters t"
                    state[mart] = rows(conn, sql, ("first_article_id",))
                elif mart == "mart_source_health":  # counters of a rerun crawl are its own; rows are not
                    state[mart] = rows(conn, "SELECT run_id, source, flagged FROM mart_source_health")
                else:
                    state[mart] = rows(conn, f"SELECT * FROM {mart}")
    finally:
        engine.dispose()
    return state


def crash_and_rerun(point: str, kill_at: str, tmp: Path, snapshot: Path) -> CrashRun:
    started = time.monotonic()
    workdir = tmp / re.sub(r"\W+", "-", point)
    workdir.mkdir()
    code, lines = hkai_run(workdir, snapshot, kill_at)
    written = [int(m.group(1)) for line in lines if (m := re.search(r"open transaction: (\d+)", line))]
    before_rerun = warehouse_state(workdir)
    rerun_exit, rerun_lines = hkai_run(workdir, snapshot)
    assert rerun_exit == 0, "\n".join(rerun_lines[-20:])
    return CrashRun(
        point,
        code == -signal.SIGKILL,
        written[0] if written else None,
        rerun_exit,
        warehouse_state(workdir),
        before_rerun,
        time.monotonic() - started,
    )


def crash_table(clean: dict[str, Any], runs: list[CrashRun]) -> list[str]:
    def size(state: dict[str, Any]) -> str:
        tags = sum(len(state[t]) for t in ("article_entities", "article_sectors", "article_themes"))
        marts = sum(len(v) for k, v in state.items() if k.startswith("mart_") or k == "story_clusters")
        return f"{len(state['articles'])} / {tags} / {marts}"

    lines = [
        "| killed | SIGKILL landed | rows written in the killed transaction | left by the kill: articles / tag rows / mart rows | after the rerun | identical to a clean run |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        differ = sorted(k for k in clean if clean[k] != run.state[k])
        written = run.written_before_kill if run.written_before_kill is not None else "-"
        lines.append(
            f"| {run.point} | {'yes' if run.killed else 'no (had exited)'} | {written} | "
            f"{size(run.before_rerun)} | {size(run.state)} | {'yes' if not differ else 'NO: ' + ', '.join(differ)} |"
        )
    lines.append(f"| (clean run) | | | | {size(clean)} | |")
    return lines


@pytest.mark.slow
def test_a_run_killed_at_any_point_and_rerun_equals_a_clean_run(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    snapshot = crash_snapshot(tmp_path / "snapshot")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:  # the longest scenarios first
        crashes = [pool.submit(crash_and_rerun, p, k, tmp_path, snapshot) for p, k in reversed(KILL_POINTS)]
        runs = [c.result() for c in reversed(crashes)]
    # the run killed after its marts had done every task: the warehouse it left is a clean run's
    clean = runs[-1].before_rerun
    table = crash_table(clean, runs)
    print("\n" + "\n".join(table) + f"\n\n{len(runs)} crash points in {time.monotonic() - started:.1f} s")

    assert len(clean["articles"]) == 4 + 6 + 4  # RTHK's feeds, the AI stories, SCMP's pages
    assert (
        clean["mart_weekly_entity_mentions"] and clean["story_clusters"] and clean["mart_entity_cooccurrence"]
    )
    for run in runs:
        assert run.killed or run.point == "after marts", run.point
        assert run.state == clean, (run.point, sorted(k for k in clean if clean[k] != run.state[k]))
    mid_load = next(r for r in runs if r.point.startswith("mid tag_and_load"))
    assert mid_load.written_before_kill and mid_load.written_before_kill >= 10  # the kill landed mid-load
    documented = (REPO / "docs" / "FAULTS.md").read_text(encoding="utf-8")
    missing = [line for line in table if line not in documented]
    assert not missing, "docs/FAULTS.md is out of date; the measured table is:\n" + "\n".join(table)
