"""Tagging speed: articles per second on one core for ~3 KB articles, against a naive baseline run
in the same process (one regex search per knowledge-base name), plus the knowledge-base load time.

Articles are real text: consecutive RTHK items from the demo snapshot joined to about 3 KB each.
Run: `python -m transforms.bench_tag [--articles 2000]`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections.abc import Callable

from config.settings import REPO_ROOT
from transforms.kb import KbEntity, load_entities
from transforms.tagging import Tagger


def corpus(count: int, size: int = 3000) -> list[tuple[str, str]]:
    import feedparser

    snapshot = REPO_ROOT / "snapshots" / "demo"
    manifest = [json.loads(line) for line in (snapshot / "manifest.jsonl").read_text().splitlines()]
    texts: list[str] = []
    for entry in manifest:
        if entry["source"] == "rthk_zh" and entry["kind"] == "feed":
            parsed = feedparser.parse(gzip.decompress((snapshot / entry["file"]).read_bytes()))
            texts += [f"{e.title}\n{e.summary}" for e in parsed.entries]
    articles: list[tuple[str, str]] = []
    buffer = ""
    index = 0
    while len(articles) < count:
        buffer += texts[index % len(texts)] + "\n\n"
        index += 1
        if len(buffer.encode("utf-8")) >= size:
            title, _, body = buffer.partition("\n")
            articles.append((title, body))
            buffer = ""
    return articles


def naive_tagger(entities: dict[str, KbEntity]) -> Callable[[str, str], set[str]]:
    """The obvious approach: one compiled regex per name, searched over every article."""
    patterns = [
        (e.id, re.compile(re.escape(name), re.IGNORECASE)) for e in entities.values() for name in e.names
    ]

    def tag(title: str, body: str) -> set[str]:
        text = f"{title}\n{body}"
        return {entity_id for entity_id, pattern in patterns if pattern.search(text)}

    return tag


def run(count: int) -> dict[str, float]:
    started = time.perf_counter()
    entities = load_entities()
    tagger = Tagger(entities)
    kb_load_s = time.perf_counter() - started
    articles = corpus(count)
    naive = naive_tagger(entities)

    started = time.perf_counter()
    for title, body in articles:
        tagger.tag(title, body)
    ours = len(articles) / (time.perf_counter() - started)
    started = time.perf_counter()
    for title, body in articles:
        naive(title, body)
    baseline = len(articles) / (time.perf_counter() - started)
    return {
        "articles": len(articles),
        "kb_entries": len(entities),
        "kb_load_s": kb_load_s,
        "hkai_articles_per_s": ours,
        "naive_articles_per_s": baseline,
        "speedup": ours / baseline,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=2000)
    args = parser.parse_args(argv)
    result = run(args.articles)
    print("| measure | value |\n| --- | --- |")
    print(f"| articles (~3 KB, real RTHK text) | {result['articles']} |")
    print(f"| knowledge-base entries | {result['kb_entries']} |")
    print(f"| knowledge base load + automaton build | {result['kb_load_s']:.2f} s |")
    print(f"| hkai tagger | {result['hkai_articles_per_s']:.0f} articles/s |")
    print(f"| naive baseline (regex per name) | {result['naive_articles_per_s']:.0f} articles/s |")
    print(f"| ratio | {result['speedup']:.1f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
