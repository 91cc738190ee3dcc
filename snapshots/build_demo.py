"""Build the bundled replay snapshot (`snapshots/demo/`) from the real saved material in ../shared/fixtures
and the real news records in `snapshots/sources/`.

Article pages are copied byte for byte. Feeds, API responses and listing pages are *regenerated*
where no real copy exists: RTHK's Chinese feed from a real month of its items, the others from
the saved pages' own titles, URLs and dates. Every manifest line says which, and where the data
came from.

Real records without a saved page (`snapshots/sources/`: GIA press releases and Commercial Radio
items from CSV rows of wusiuyu/hknews, English page excerpts about AI in Hong Kong) are served under
their own addresses by the source whose site they belong to, as *regenerated* article pages
(`"kind": "generated_page"`, `"generated": true`): the record's real title, text and date (none when
the record has none) in the markup of a real saved page of that site where one exists
(tests/fixtures/sources/gia_en, the_standard; ../shared/fixtures/pages/cr881903) or in plain HTML
(news.gov.hk, China Daily Hong Kong, the Digital Policy Office, the PCPD), listed by regenerated feeds
or listings. `"kind": "page"` stays reserved for real saved pages. Left out: records
of sites whose source is absent from the demo on purpose (SCMP, HKFP and RTHK English: tests pin their
snapshot content) or has no source at all (law firms, aggregators and other outlets).

Run: `python snapshots/build_demo.py [--fixtures ../shared/fixtures]`.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape as html_escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
OUT = HERE / "demo"
SOURCES = HERE / "sources"
HKT = timezone(timedelta(hours=8))

# Saved page groups → (source, listing URLs the pages are spread over)
PAGE_GROUPS: dict[str, tuple[str, list[str]]] = {
    "rthk-en": (
        "rthk_en",
        [
            "https://rthk.hk/rthk/news/rss/e_expressnews_elocal.xml",
            "https://rthk.hk/rthk/news/rss/e_expressnews_efinance.xml",
            "https://rthk.hk/rthk/news/rss/e_expressnews_egreaterchina.xml",
        ],
    ),
    "scmp": (
        "scmp_tech",
        [
            "https://www.scmp.com/rss/36/feed",
            "https://www.scmp.com/rss/325332/feed",
            "https://www.scmp.com/rss/519748/feed",
        ],
    ),
    "mingpao-ins": (
        "mingpao",
        [
            "https://news.mingpao.com/rss/ins/s00001.xml",
            "https://news.mingpao.com/rss/ins/s00002.xml",
            "https://news.mingpao.com/rss/ins/s00024.xml",
        ],
    ),
    "mingpao-pns": ("mingpao", ["https://news.mingpao.com/rss/pns/s00002.xml"]),
    "hk01": (
        "hk01_tech",
        [
            "https://web-data.api.hk01.com/v2/feed/category/391?bucketId=00000&limit=40",
            "https://web-data.api.hk01.com/v2/page/zone/11?bucketId=00000&limit=40",
        ],
    ),
    "hkej": (
        "hkej",
        ["https://www.hkej.com/instantnews/current", "https://www.hkej.com/instantnews/hongkong"],
    ),
    # pages only: RTHK's Chinese feeds come from the real month of items below
    "rthk-zh": ("rthk_zh", []),
}
RTHK_ZH_FEEDS = {
    "local": "https://rthk.hk/rthk/news/rss/c_expressnews_clocal.xml",
    "finance": "https://rthk.hk/rthk/news/rss/c_expressnews_cfinance.xml",
    "greaterchina": "https://rthk.hk/rthk/news/rss/c_expressnews_greaterchina.xml",
}
_FINANCE = re.compile(
    r"恒指|港股|股市|美股|滬指|深成指|金管局|證監會|利率|通脹|經濟|財政|債券|匯率|銀行|樓價|出口|業績"
)
_CHINA = re.compile(r"新華社|內地|國家|中央|國務院|外交部|北京|上海|深圳|廣東|大灣區|台灣|中美|習近平")


class ManifestWriter:
    def __init__(self, root: Path):
        self.root = root
        self.lines: list[dict[str, Any]] = []
        (root / "files").mkdir(parents=True, exist_ok=True)

    def add(
        self,
        url: str,
        source: str,
        kind: str,
        body: bytes,
        *,
        content_type: str,
        generated: bool,
        provenance: dict[str, Any],
        note: str = "",
    ) -> None:
        name = hashlib.sha1(url.encode()).hexdigest()[:16]
        rel = f"files/{source}/{name}.gz"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(body, compresslevel=9, mtime=0))
        self.lines.append(
            {
                "url": url,
                "file": rel,
                "status": 200,
                "content_type": content_type,
                "source": source,
                "kind": kind,
                "generated": generated,
                "provenance": provenance,
                "note": note,
            }
        )

    def write(self) -> None:
        text = "\n".join(json.dumps(line, ensure_ascii=False, sort_keys=True) for line in self.lines)
        (self.root / "manifest.jsonl").write_text(text + "\n", encoding="utf-8")


def rss(channel_title: str, link: str, language: str, items: Iterable[dict[str, Any]]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
        f"<title>{escape(channel_title)}</title><link>{escape(link)}</link><language>{language}</language>",
    ]
    for item in items:
        # an item without a date gets no pubDate: a date is never made up
        published = (
            f"<pubDate>{format_datetime(record_date(item['published']))}</pubDate>"
            if item["published"]
            else ""
        )
        parts.append(
            "<item>"
            f"<title>{escape(item['title'])}</title>"
            f"<link>{escape(item['url'])}</link>"
            f'<guid isPermaLink="true">{escape(item["url"])}</guid>'
            f"{published}"
            f"<description>{escape(item['description'])}</description>"
            + "".join(f"<dc:creator>{escape(a)}</dc:creator>" for a in item.get("authors", []))
            + "</item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


def record_date(value: str) -> datetime:
    """A record's ISO date: a time with its offset, or a day only (read as 00:00 in Hong Kong)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=HKT)


def teaser(text: str, limit: int = 90) -> str:
    """A cut description, as SCMP and Ming Pao feeds give, so the spider fetches the page."""
    flat = " ".join(text.split())
    return flat[:limit].rstrip() + "..."


def page_records(fixtures: Path) -> dict[str, list[dict[str, Any]]]:
    from transforms.extract import extract_article

    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in (fixtures / "pages" / "MANIFEST.jsonl").read_text(encoding="utf-8").splitlines():
        meta = json.loads(line)
        if meta["outlet"] not in PAGE_GROUPS:
            continue
        html = gzip.decompress((fixtures / "pages" / meta["file"]).read_bytes())
        extracted = extract_article(
            html, meta["url"], fetched_at=datetime.fromisoformat(meta["saved_at"] + "+08:00")
        )
        groups[meta["outlet"]].append({"meta": meta, "html": html, "extracted": extracted})
    return groups


def build(fixtures: Path) -> None:
    writer = ManifestWriter(OUT)
    derived_note = "regenerated: no real copy of this feed/listing exists; entries are the saved pages' own URL, title and date"

    for outlet, records in sorted(page_records(fixtures).items()):
        source, listing_urls = PAGE_GROUPS[outlet]
        per_listing: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for index, record in enumerate(records):
            meta, extracted = record["meta"], record["extracted"]
            provenance = {k: meta[k] for k in ("source_repo", "source_path", "source_commit", "saved_at")}
            writer.add(
                meta["url"],
                source,
                "page",
                record["html"],
                content_type="text/html; charset=utf-8",
                generated=False,
                provenance=provenance,
                note="rendered DOM saved with Playwright",
            )
            if not listing_urls:
                continue
            per_listing[listing_urls[index % len(listing_urls)]].append(
                {
                    "url": meta["url"],
                    "title": extracted.title,
                    "published": (
                        extracted.published or datetime.fromisoformat(meta["saved_at"] + "+08:00")
                    ).isoformat(),
                    # RTHK's real feeds carry the full text; the other outlets' feeds are cut
                    "description": extracted.body if source == "rthk_en" else teaser(extracted.body),
                    "authors": extracted.authors,
                }
            )
        for listing_url, entries in per_listing.items():
            provenance = {"derived_from": f"shared/fixtures/pages/{outlet}/ (see page entries)"}
            if source == "hk01_tech":
                payload = {
                    "items": [
                        {
                            "type": 1,
                            "data": {
                                "canonicalUrl": e["url"],
                                "title": e["title"],
                                "publishTime": int(datetime.fromisoformat(e["published"]).timestamp()),
                            },
                        }
                        for e in entries
                    ]
                }
                writer.add(
                    listing_url,
                    source,
                    "api",
                    json.dumps(payload, ensure_ascii=False).encode(),
                    content_type="application/json; charset=utf-8",
                    generated=True,
                    provenance=provenance,
                    note=derived_note,
                )
            elif source == "hkej":
                links = "\n".join(
                    f'<li><h3><a href="{escape(e["url"])}">{escape(e["title"])}</a></h3></li>'
                    for e in entries
                )
                body = f'<!DOCTYPE html><html lang="zh-hk"><body><ul>\n{links}\n</ul></body></html>'
                writer.add(
                    listing_url,
                    source,
                    "listing",
                    body.encode(),
                    content_type="text/html; charset=utf-8",
                    generated=True,
                    provenance=provenance,
                    note=derived_note,
                )
            else:
                language = "en" if source in {"rthk_en", "scmp_tech"} else "zh-hk"
                writer.add(
                    listing_url,
                    source,
                    "feed",
                    rss(source, listing_url, language, entries),
                    content_type="application/rss+xml; charset=utf-8",
                    generated=True,
                    provenance=provenance,
                    note=derived_note,
                )

    # RTHK Chinese: a whole real month of full-text feed items, regenerated as the three feeds.
    month = [
        json.loads(line)
        for line in gzip.open(fixtures / "rthk-zh-2025-11" / "items.jsonl.gz", "rt", encoding="utf-8")
    ]
    feeds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in month:
        text = f"{item['title']} {item['body'][:300]}"
        category = "finance" if _FINANCE.search(text) else "greaterchina" if _CHINA.search(text) else "local"
        published = datetime.strptime(item["published"].replace(".000000000", ""), "%Y-%m-%d %H:%M:%S %z")
        feeds[category].append(
            {
                "url": item["link"],
                "title": item["title"],
                "published": published.isoformat(),
                "description": item["body"],
            }
        )
    for category, url in RTHK_ZH_FEEDS.items():
        entries = sorted(feeds[category], key=lambda e: e["published"], reverse=True)
        writer.add(
            url,
            "rthk_zh",
            "feed",
            rss(f"rthk.hk - 即時新聞: {category}", url, "zh-hk", entries),
            content_type="application/rss+xml; charset=utf-8",
            generated=True,
            provenance={
                "source_repo": "agora0/2511",
                "source_commit": "1565bc51662e64ee8b132a9df1e33e16750e3fc4",
                "derived_from": "shared/fixtures/rthk-zh-2025-11/items.jsonl.gz",
            },
            note="regenerated from a real month (1-30 Nov 2025) of RTHK's full-text Chinese feed; the "
            "archive has no category, so items are split over the three feeds by a keyword rule",
        )
    add_gia(writer)
    for site in FEED_SITES:
        add_feed_site(writer, site)
    for listing in LISTING_SITES:
        add_listing_site(writer, listing)
    add_the_standard(writer)
    add_commercial_radio(writer)
    from transforms.urls import canonical_url

    urls = [canonical_url(line["url"]) for line in writer.lines]
    assert len(urls) == len(set(urls)), "two manifest entries for one URL"
    writer.write()
    print(f"wrote {len(writer.lines)} manifest entries to {OUT}")


# -- real records without a saved page: regenerated pages and feeds/listings -----------------------

HKNEWS = SOURCES / "hknews"
ENGLISH_AI = SOURCES / "english_ai" / "articles.jsonl"
# dated excerpts of government and China Daily pages, added so that English stories land in weeks
ENGLISH_AI_DATED = SOURCES / "english_ai" / "dated.jsonl"
ENGLISH_AI_FILES = (ENGLISH_AI, ENGLISH_AI_DATED)
# CSV rows of gia.jsonl (the two days of the cross-language pair set) and gia_more.jsonl (a third day,
# 12 May 2026, kept apart so that transforms/eval_clusters.py still scores exactly the checked pairs)
GIA_FILES = (HKNEWS / "gia.jsonl", HKNEWS / "gia_more.jsonl")
GIA_FEEDS = {
    "en": "https://www.info.gov.hk/gia/rss/general_en.xml",
    "zh-Hant": "https://www.info.gov.hk/gia/rss/general_zh.xml",
}
THE_STANDARD_LISTINGS = (
    "https://www.thestandard.com.hk/hong-kong-news",
    "https://www.thestandard.com.hk/business-innovation",
)
CRADIO_SECTIONS = {"local": "本地", "china": "中國", "international": "國際", "finance": "財經"}
GIA_TEMPLATE = "tests/fixtures/sources/gia_en/P2020010700549.htm.gz"
STANDARD_TEMPLATE = (
    "tests/fixtures/sources/the_standard/page-2020-08-07-152604.html.gz and listing-2020-08-07-sid4.html.gz"
)
CRADIO_TEMPLATE = "../shared/fixtures/pages/cr881903/1.html.gz (https://www.881903.com/news/local/2607510)"
HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _rel(path: Path) -> str:
    return str(path.relative_to(HERE.parent))


def english_records(host: str) -> list[tuple[dict[str, Any], Path]]:
    """English records of one site (`www.` ignored), in file order, each with the file it is read from."""
    return [
        (r, data_file)
        for data_file in ENGLISH_AI_FILES
        for r in _jsonl(data_file)
        if (urlsplit(r["url"]).hostname or "").removeprefix("www.") == host.removeprefix("www.")
    ]


def record_provenance(record: dict[str, Any], data_file: Path) -> dict[str, Any]:
    """Where a record comes from: its own provenance, plus the file and id it was read from."""
    return {**record["provenance"], "record": f"{_rel(data_file)}#{record['id']}"}


def record_note(record: dict[str, Any], kind: str) -> str:
    """What a regenerated page is made of, and how its record was taken."""
    if "repo" in record["provenance"] and "row" in record["provenance"]:
        origin = f"a CSV row ({record['provenance']['path']} row {record['provenance']['row']})"
    elif record.get("excerpt"):
        origin = "a page excerpt (the opening of the stored page, not the whole article)"
    else:
        origin = f"a scraper's JSON record ({record['provenance']['path']})"
    what = "title, text and date" if record.get("published") else "title and text"
    parts = [f"regenerated {kind}: {what} of {origin}"]
    if record.get("title_from_url"):
        parts.append("the title is the URL slug (the excerpt had no headline line)")
    if not record.get("published"):
        parts.append("the record has no date, so the page has none")
    return "; ".join(parts)


def _paragraphs(body: str) -> list[list[str]]:
    return [
        [line for line in para.split("\n") if line.strip()] for para in body.split("\n\n") if para.strip()
    ]


# GIA: the markup of a real English release (tests/fixtures/sources/gia_en/P2020010700549.htm), with
# the header, scripts, share bar and footer left out.
GIA_PAGE = """<!DOCTYPE html>
<html>
<head>
\t<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
\t<meta name="viewport" content="width=device-width, initial-scale=1.0">
\t<title>{title}</title>
\t<meta property="og:title" content="{title}"/>
\t<link href="/gia/css/public.css?1.0.20170921" rel="stylesheet" type="text/css">
</head>

<body>
<div id="contentBody" class="row" style="max-width:947px;width:100%;height:auto;">
\t\t\t<div class="colLeft resLeftContent">
\t\t\t\t<div class="rel">
\t\t\t\t\t<div class="fontSize1" style="display:none">{title}</div>
\t\t\t\t\t<div class="fontSize1" id="PRHeadline">
\t\t\t\t\t\t<span id="PRHeadlineSpan"><span>{title}</span></span>
\t\t\t\t\t</div>
\t\t\t\t\t<div id="starBar" class="fontSize1">***************************************************</div>
\t\t\t\t\t<div id="starBarSpacing"></div>
\t\t\t\t</div>
\t\t\t
\t\t\t\t<span id="pressrelease" class="fontSize1">
\t\t\t\t{body}
\t\t\t\t<br />
\t\t\t\t<div>&nbsp;</div>
{closing}
\t\t\t\t</span>
\t\t\t\t<div class="btm_btn">
\t\t\t\t\t<div class="left" style="white-space:nowrap;">
\t\t\t\t\t\t<a href="/gia/ISD_public_Calendar_{lang}.html" class="newAch">{archives}</a>
\t\t\t\t\t</div>
\t\t\t\t</div>
\t\t\t</div>
</div>
</body>
</html>
"""
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_ZH = "一二三四五六日"


def gia_closing(published: datetime, english: bool) -> str:
    """The release's closing block, where GIA prints its issue date and time; the English form is the
    saved page's ("Ends/Tuesday, January 7, 2020 / Issued at HKT 17:12"), the Chinese one GIA's
    Chinese wording ("完 / 2020年1月7日（星期二） / 香港時間17時12分")."""
    if english:
        day = f"Ends/{WEEKDAYS_EN[published.weekday()]}, {published:%B} {published.day}, {published.year}"
        clock = f" Issued at HKT {published:%H:%M}"
    else:
        day = f"完<br/>{published.year}年{published.month}月{published.day}日（星期{WEEKDAYS_ZH[published.weekday()]}）"
        clock = f" 香港時間{published:%H}時{published:%M}分"
    return (
        f'\t\t\t\t<div class="mB15 f15">{day}\n\t\t\t\t<br/>\n\t\t\t\t{clock}\n\t\t\t\t</div>\n'
        '\t\t\t\t<div style="margin-top:10px;">\n\t\t\t\t NNNN\n\t\t\t\t</div>'
    )


def gia_page(record: dict[str, Any], english: bool) -> bytes:
    body = "\n".join(
        "&nbsp;&nbsp;&nbsp;&nbsp; "
        + "<br />\n".join(html_escape(line, quote=False) for line in lines)
        + "<br />\n<br />"
        for lines in _paragraphs(record["body"])
    )
    # a page excerpt stops before the closing block, and a record without a time gets none
    full_time = bool(record.get("published")) and "T" in record["published"] and not record.get("excerpt")
    closing = gia_closing(record_date(record["published"]).astimezone(HKT), english) if full_time else ""
    return GIA_PAGE.format(
        title=html_escape(record["title"]),
        body=body,
        closing=closing,
        lang="en" if english else "tc",
        archives="Archives" if english else "新聞公報檔案",
    ).encode("utf-8")


def add_gia(writer: ManifestWriter) -> None:
    """GIA press releases: the CSV rows of gia.jsonl (English and Chinese) and the English excerpts."""
    by_language: dict[str, list[tuple[dict[str, Any], Path]]] = defaultdict(list)
    for data_file in GIA_FILES:
        for record in _jsonl(data_file):
            by_language[record["lang"]].append((record, data_file))
    by_language["en"].extend(english_records("www.info.gov.hk"))
    for language, records in sorted(by_language.items()):
        english = language == "en"
        source = "gia_en" if english else "gia_zh"
        for record, data_file in records:
            writer.add(
                record["url"],
                source,
                "generated_page",
                gia_page(record, english),
                content_type=HTML,
                generated=True,
                provenance={**record_provenance(record, data_file), "template": GIA_TEMPLATE},
                note=record_note(record, "GIA press release page")
                + "; markup of the real English release in the template"
                + (
                    ""
                    if english
                    else ", closing block in GIA's Chinese wording (no real Chinese page is saved)"
                ),
            )
        entries = [feed_entry(record, 300) for record, _ in records]
        writer.add(
            GIA_FEEDS[language],
            source,
            "feed",
            rss(
                "Press Releases" if english else "新聞公報",
                GIA_FEEDS[language],
                "en" if english else "zh-hk",
                sorted(entries, key=_newest_first),
            ),
            content_type=RSS,
            generated=True,
            provenance={"derived_from": sorted({_rel(f) for _, f in records})},
            note="regenerated: no real copy of GIA's feed exists; its items are the records' own URL, title, "
            "date and opening text (3 days of CSV rows of wusiuyu/hknews gia_backup.csv and gia_db.csv, Nov 2025, "
            "Jan 2026 and May 2026" + (", and English page excerpts)" if english else ")"),
        )


def feed_entry(record: dict[str, Any], limit: int) -> dict[str, Any]:
    return {
        "url": record["url"],
        "title": record["title"],
        "published": record.get("published"),
        "description": teaser(record["body"], limit),
    }


def _newest_first(entry: dict[str, Any]) -> tuple[bool, float, str]:
    """Newest first, undated last."""
    if not entry["published"]:
        return (True, 0.0, entry["url"])
    return (False, -record_date(entry["published"]).timestamp(), entry["url"])


# Sites whose source reads an RSS feed and whose pages no one has saved (news.gov.hk, China Daily Hong
# Kong, the Digital Policy Office): the page is the plainest HTML that carries a title, the record's
# date (none when the record has none) and its paragraphs, with the class names of the news_gov_hk
# module's (unchecked) selectors; the other two sources read it through the generic extraction.
PLAIN_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title>{meta}</head>
<body>
<h1 class="news-title">{title}</h1>
{date}<div class="newsdetail-content">
{body}
</div>
</body>
</html>
"""


@dataclass(frozen=True)
class FeedSite:
    """An RSS source of the demo whose records are served as regenerated pages under one feed or more."""

    source: str
    hosts: tuple[str, ...]
    feeds: tuple[str, ...]
    channel: str
    note: str


FEED_SITES = (
    FeedSite(
        "news_gov_hk",
        ("www.news.gov.hk",),
        (
            "https://www.news.gov.hk/en/common/html/topstories.rss.xml",
            "https://www.news.gov.hk/en/common/html/ticker.rss.xml",
        ),
        "news.gov.hk",
        "no real copy of news.gov.hk's feeds exists; both feeds list",
    ),
    FeedSite(
        "chinadaily_hk",
        ("www.chinadailyhk.com",),
        ("https://www.chinadailyhk.com/rss",),
        "China Daily Hong Kong",
        "no real copy of China Daily Hong Kong's feed exists; it lists",
    ),
    FeedSite(
        "digital_policy_office",
        ("www.digitalpolicy.gov.hk",),
        ("https://www.digitalpolicy.gov.hk/en/news/latest/rss.data.xml",),
        "Digital Policy Office",
        "no real copy of the Digital Policy Office's feed exists; it lists",
    ),
)


def plain_page(record: dict[str, Any], *, day_meta: bool = False) -> bytes:
    """The record in plain HTML; a record with a time (not only a day) also gets it as
    `article:published_time`, so the page keeps the minute its site printed. `day_meta` puts a bare
    day there too, for listing sources, which have no feed date to fall back on."""
    published = record.get("published") or ""
    day = f'<span class="news-date">{published[:10]}</span>\n' if published else ""
    has_meta = bool(published) and ("T" in published or day_meta)
    meta = f'<meta property="article:published_time" content="{published}">' if has_meta else ""
    body = "\n".join(
        f"<p>{html_escape(' '.join(lines), quote=False)}</p>" for lines in _paragraphs(record["body"])
    )
    return PLAIN_PAGE.format(title=html_escape(record["title"]), meta=meta, date=day, body=body).encode(
        "utf-8"
    )


def add_feed_site(writer: ManifestWriter, site: FeedSite) -> None:
    """A feed site's English records as regenerated pages, listed by regenerated feeds."""
    records = [pair for host in site.hosts for pair in english_records(host)]
    if not records:
        return
    for record, data_file in records:
        writer.add(
            record["url"],
            site.source,
            "generated_page",
            plain_page(record),
            content_type=HTML,
            generated=True,
            provenance=record_provenance(record, data_file),
            note=record_note(record, f"{site.channel} page")
            + "; no real page of the site is saved: plain HTML with a title, date and paragraphs",
        )
    entries = sorted((feed_entry(r, 200) for r, _ in records), key=_newest_first)
    for url in site.feeds:
        writer.add(
            url,
            site.source,
            "feed",
            rss(site.channel, url, "en", entries),
            content_type=RSS,
            generated=True,
            provenance={"derived_from": sorted({_rel(f) for _, f in records})},
            note=f"regenerated: {site.note} the records' own URL, title, date (a day as 00:00 HKT when the "
            "record gives only a day) and opening text",
        )


@dataclass(frozen=True)
class ListingSite:
    """A listing source of the demo (an HTML page of links) whose records are served as regenerated pages."""

    source: str
    hosts: tuple[str, ...]
    listing: str
    channel: str


LISTING_SITES = (
    ListingSite(
        "pcpd",
        ("www.pcpd.org.hk",),
        "https://www.pcpd.org.hk/english/news_events/media_statements/media_statements.html",
        "PCPD media statement",
    ),
)


def add_listing_site(writer: ManifestWriter, site: ListingSite) -> None:
    """A listing site's English records as regenerated pages, linked from a regenerated listing page.
    The page carries the record's day as `article:published_time`: the PCPD prints it as the statement's
    first line ("Date: 19 May 2026"), and a listing has no feed date to fall back on."""
    from spiders.registry import get_source

    # only the pages the source follows from its listing (the PCPD's "what's new" pages are not)
    pattern = re.compile(get_source(site.source).article_url_pattern or "")
    records = [
        pair for host in site.hosts for pair in english_records(host) if pattern.search(pair[0]["url"])
    ]
    if not records:
        return
    for record, data_file in records:
        writer.add(
            record["url"],
            site.source,
            "generated_page",
            plain_page(record, day_meta=True),
            content_type=HTML,
            generated=True,
            provenance=record_provenance(record, data_file),
            note=record_note(record, f"{site.channel} page")
            + "; no real page of the site is saved: plain HTML with a title, date and paragraphs",
        )
    ordered = sorted(records, key=lambda pair: _newest_first(feed_entry(pair[0], 0)))
    items = "".join(
        f'<li><a href="{html_escape(r["url"])}">{html_escape(r["title"])}</a> '
        + (f"<span>{r['published'][:10]}</span>" if r.get("published") else "")
        + "</li>"
        for r, _ in ordered
    )
    writer.add(
        site.listing,
        site.source,
        "listing",
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{site.channel}s</title></head>'
        f"<body><ul>{items}</ul></body></html>".encode(),
        content_type=HTML,
        generated=True,
        provenance={"derived_from": sorted({_rel(f) for _, f in records})},
        note="regenerated: no real copy of this listing exists; links to the records' own URL with their "
        "title and day",
    )


# The Standard: the legacy layout of the real saved page and listing (tests/fixtures/sources/the_standard),
# trimmed to the article block; the 2025 layout of these URLs has no saved copy.
STANDARD_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
\t<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
\t<meta property="og:site_name" content="The Standard"/>
\t<meta property="og:url" content="{url}"/>
\t\t<link rel="canonical" href="{url}" />
\t\t<meta property="og:title" content="{title}"/>
\t\t<meta property="og:type" content="article"/>
\t<title>{title}</title>
  </head>
  <body>
    <div class="ts-content" id="content">
      <div class="container newscontent">
\t        <div class="ts-main">
\t\t          <div class="ts-section breaking-news">
\t\t\t\t\t\t\t\t<div class="heading clearfix">
\t\t\t<h1>{title}</h1>
{date}\t\t\t\t\t\t\t\t</div>
\t\t<div class="content">
{body}
\t\t</div>
\t\t          </div>
\t        </div>
      </div>
    </div>
  </body>
</html>
"""


def standard_time(value: str) -> str:
    """The legacy layout's date: "7 Aug 2020 3:48 pm"."""
    at = record_date(value).astimezone(HKT)
    return f"{at.day} {at:%b} {at.year} {at.hour % 12 or 12}:{at:%M} {'am' if at.hour < 12 else 'pm'}"


def add_the_standard(writer: ManifestWriter) -> None:
    records = english_records("www.thestandard.com.hk")
    per_listing: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for index, (record, data_file) in enumerate(records):
        date = ""
        if record.get("published"):
            date = f'\t\t\t<span class="pull-left">{standard_time(record["published"])}</span>\n'
        body = "".join(
            "<p>" + "<br /><br />".join(html_escape(line, quote=False) for line in lines) + "</p>"
            for lines in _paragraphs(record["body"])
        )
        writer.add(
            record["url"],
            "the_standard",
            "generated_page",
            STANDARD_PAGE.format(
                url=html_escape(record["url"]), title=html_escape(record["title"]), date=date, body=body
            ).encode("utf-8"),
            content_type=HTML,
            generated=True,
            provenance={**record_provenance(record, data_file), "template": STANDARD_TEMPLATE},
            note=record_note(record, "The Standard page") + "; legacy markup of the real saved page",
        )
        per_listing[THE_STANDARD_LISTINGS[index % len(THE_STANDARD_LISTINGS)]].append(record)
    for url, listed in per_listing.items():
        items = "".join(
            f"<li class='caption'><h1><a href=\"{html_escape(r['url'])}\">{html_escape(r['title'])}</a></h1> "
            + (f"<span>{standard_time(r['published'])}</span> " if r.get("published") else "")
            + f"<p>{html_escape(teaser(r['body'], 200), quote=False)}</p>  </li>"
            for r in sorted(listed, key=lambda r: _newest_first(feed_entry(r, 0)))
        )
        body = f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>The Standard</title></head><body><ul>{items}</ul></body></html>'
        writer.add(
            url,
            "the_standard",
            "listing",
            body.encode("utf-8"),
            content_type=HTML,
            generated=True,
            provenance={"derived_from": sorted({_rel(f) for _, f in records}), "template": STANDARD_TEMPLATE},
            note="regenerated: no real copy of this listing exists; items (the records' own URL, title, date and "
            "opening text) in the markup of the real 2020 section list, spread over the source's two listings",
        )


# Commercial Radio: the markup of a real rendered article page (../shared/fixtures/pages/cr881903/1),
# trimmed to its JSON-LD, headline, date line and article text.
CRADIO_PAGE = """<!DOCTYPE html><html lang="zh-Hant"><head><meta charset="utf-8"><title>{title}｜{section_name}｜商業電台 881903</title><script type="application/ld+json">{jsonld}</script><meta property="og:url" content="{url}" data-meta=""></head><body><div id="app"><div class="news-layout-grid__grid-col--main-col"><div class="news-article-page__article news-article-page__article-t3"><div class="article-details-template3"><div class="article-details-template3__title"> {title} </div><div class="layout"><div class="flex article-details-template3__meta shrink"><span class="article-details-template3__cat-name"> {section_name} </span><span class="article-details-template3__datetime"> 發佈 {shown} </span></div></div><div class="article-details-template3__content-wrapper"><div class="article-content article-details-template3__content" article-title="{title}"><div class="article-content-text" isnewsarticlecontent="true" article-title="{title}"><div>{body}</div></div></div></div></div></div></div></div></body></html>
"""
CRADIO_LISTING = """<!DOCTYPE html><html lang="zh-Hant"><head><meta charset="utf-8"><title>{section_name}｜商業電台 881903</title></head><body><div id="app"><div class="layout app-grid row wrap">{items}</div></div></body></html>
"""


def cradio_page(record: dict[str, Any]) -> bytes:
    published = record_date(record["published"]).astimezone(HKT)
    section_name = CRADIO_SECTIONS[record["section"]]
    jsonld = [
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "publisher": {"@type": "Organization", "name": "商業電台", "url": "https://www.881903.com"},
            "author": {"@type": "Organization", "name": "商台新聞"},
            "headline": record["title"],
            "name": record["title"],
            "datePublished": published.isoformat(),
            "mainEntityOfPage": record["url"],
        },
        {
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": 1,
                    "name": section_name,
                    "item": f"https://www.881903.com/news/{record['section']}",
                },
                {"@type": "ListItem", "position": 2, "name": record["title"]},
            ],
        },
    ]
    body = "\n\n".join(
        "<p>" + "<br>".join(html_escape(line, quote=False) for line in lines) + "</p>"
        for lines in _paragraphs(record["body"])
    )
    return CRADIO_PAGE.format(
        title=html_escape(record["title"]),
        section_name=section_name,
        jsonld=json.dumps(jsonld, ensure_ascii=False).replace("</", "<\\/"),
        url=html_escape(record["url"]),
        shown=f"{published:%d.%m.%Y %H:%M}",
        body=body,
    ).encode("utf-8")


def add_commercial_radio(writer: ManifestWriter) -> None:
    """Commercial Radio: the CSV rows of cradio.jsonl of the four sections the source lists (not sports)."""
    data_file = HKNEWS / "cradio.jsonl"
    per_section: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in _jsonl(data_file):
        if record["section"] not in CRADIO_SECTIONS:
            continue
        per_section[record["section"]].append(record)
        writer.add(
            record["url"],
            "cradio",
            "generated_page",
            cradio_page(record),
            content_type=HTML,
            generated=True,
            provenance={**record_provenance(record, data_file), "template": CRADIO_TEMPLATE},
            note=record_note(record, "Commercial Radio article page")
            + "; markup of a real rendered page of the site",
        )
    for section, records in sorted(per_section.items()):
        url = f"https://www.881903.com/news/{section}"
        items = "".join(
            f'<div class="app-grid__headline"><a href="/news/{section}/{r["url"].rsplit("/", 1)[1]}" '
            f'class="news-grid__headline"><span>{html_escape(r["title"], quote=False)}</span></a></div>'
            for r in sorted(records, key=lambda r: _newest_first(feed_entry(r, 0)))
        )
        writer.add(
            url,
            "cradio",
            "listing",
            CRADIO_LISTING.format(section_name=CRADIO_SECTIONS[section], items=items).encode("utf-8"),
            content_type=HTML,
            generated=True,
            provenance={"derived_from": _rel(data_file), "template": CRADIO_TEMPLATE},
            note="regenerated: no real copy of this section listing exists (a Vue app); links to the records of "
            "the section (2 days of CSV rows of wusiuyu/hknews cradio_db.csv, Sep and Nov 2025) in the markup "
            "of the real page's next-news links",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixtures", type=Path, default=HERE.parent.parent / "shared" / "fixtures")
    args = parser.parse_args()
    build(args.fixtures.resolve())


if __name__ == "__main__":
    main()
