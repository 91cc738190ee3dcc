"""Build the bundled replay snapshot (`snapshots/demo/`) from the real saved material in ../shared/fixtures.

Article pages are copied byte for byte. Feeds, API responses and listing pages are *regenerated*
where no real copy exists: RTHK's Chinese feed from a real month of its items, the others from
the saved pages' own titles, URLs and dates. Every manifest line says which, and where the data
came from. Run: `python snapshots/build_demo.py [--fixtures ../shared/fixtures]`.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
OUT = HERE / "demo"

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
        published = datetime.fromisoformat(item["published"])
        parts.append(
            "<item>"
            f"<title>{escape(item['title'])}</title>"
            f"<link>{escape(item['url'])}</link>"
            f'<guid isPermaLink="true">{escape(item["url"])}</guid>'
            f"<pubDate>{format_datetime(published)}</pubDate>"
            f"<description>{escape(item['description'])}</description>"
            + "".join(f"<dc:creator>{escape(a)}</dc:creator>" for a in item.get("authors", []))
            + "</item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


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
    writer.write()
    print(f"wrote {len(writer.lines)} manifest entries to {OUT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixtures", type=Path, default=HERE.parent.parent / "shared" / "fixtures")
    args = parser.parse_args()
    build(args.fixtures.resolve())


if __name__ == "__main__":
    main()
