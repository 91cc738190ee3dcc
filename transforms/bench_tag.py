"""Tagging speed: articles per second on one core for ~3 KB articles, against a naive baseline run
in the same process (one regex search per knowledge-base name), plus the knowledge-base and model
load time and the process's peak memory. The default tagger (hybrid: rules + learned model) is
measured, and the rules alone beside it.

Articles are real text: consecutive RTHK items from the demo snapshot joined to about 3 KB each.
Run: `python -m transforms.bench_tag [--articles 2000]`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import sys
import time
from collections.abc import Callable

from config.settings import REPO_ROOT
from transforms.kb import KbEntity, load_entities
from transforms.learned import load_model
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


WARM_UP = 200


def run(count: int) -> dict[str, float]:
    started = time.perf_counter()
    entities = load_entities()
    rules = Tagger(entities, mode="rules")
    kb_load_s = time.perf_counter() - started
    started = time.perf_counter()
    load_model.cache_clear()
    model = load_model("hybrid")
    model_load_s = time.perf_counter() - started
    tagger = rules.using(model)
    # a separate warm-up set first: each tagger's caches (folded terms, compiled evidence patterns)
    # are filled before it is timed, so neither pays the other's start-up cost
    both = corpus(count + WARM_UP)
    warm_up, articles = both[:WARM_UP], both[WARM_UP:]
    for title, body in warm_up:
        tagger.tag(title, body)
        rules.tag(title, body)
    naive = naive_tagger(entities)

    cpu: dict[str, float] = {}

    def rate(name: str, tag: Callable[[str, str], object]) -> float:
        """Articles per second of wall-clock time; `cpu[name]`: per second of this process's CPU time
        (the same unless other processes share the core: on a busy machine, the one-core figure)."""
        started, started_cpu = time.perf_counter(), time.process_time()
        for title, body in articles:
            tag(title, body)
        cpu[name] = len(articles) / (time.process_time() - started_cpu)
        return len(articles) / (time.perf_counter() - started)

    ours = rate("hkai", tagger.tag)
    rules_only = rate("rules", rules.tag)
    baseline = rate("naive", naive)
    return {
        "articles": len(articles),
        "kb_entries": len(entities),
        "kb_load_s": kb_load_s,
        "model_load_s": model_load_s,
        "hkai_articles_per_s": ours,
        "rules_articles_per_s": rules_only,
        "naive_articles_per_s": baseline,
        "speedup": ours / baseline,
        "hkai_articles_per_cpu_s": cpu["hkai"],
        "rules_articles_per_cpu_s": cpu["rules"],
        "naive_articles_per_cpu_s": cpu["naive"],
        "load_average": os.getloadavg()[0],
        # ru_maxrss is in KiB on Linux
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
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
    print(f"| learned model load (hybrid) | {result['model_load_s']:.2f} s |")
    for label, key in (
        ("hkai tagger (hybrid, the default)", "hkai"),
        ("hkai tagger, rules only", "rules"),
        ("naive baseline (regex per name)", "naive"),
    ):
        print(
            f"| {label} | {result[key + '_articles_per_s']:.0f} articles/s "
            f"({result[key + '_articles_per_cpu_s']:.0f} per CPU second) |"
        )
    print(f"| ratio (hybrid / naive) | {result['speedup']:.1f}× |")
    print(f"| peak memory of the process | {result['peak_memory_mb']:.0f} MB |")
    print(f"| machine load average (1 min) at the end | {result['load_average']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
