"""Precision and recall of English↔Chinese story clustering on the checked GIA pairs.

The labelled set is `tests/data/clusters/gia_pairs.jsonl` (66 English↔Chinese pairs of the same
press release, each checked by reading both texts, and 22 near misses issued in the same minute) over
the texts of `snapshots/sources/hknews/gia.jsonl` (66 English and 73 Chinese releases of two days,
13 Nov 2025 and 21-22 Jan 2026). Every release of both days goes through `cluster_articles`, as the
warehouse does, and a predicted pair is an English and a Chinese release that end up in one story.

- precision: predicted pairs that are checked pairs. Every English release of the set has exactly one
  checked counterpart, so any other Chinese release in its story is a false merge (near miss or not).
- recall: checked pairs that end up in one story.
- missing partners: in production only relevant articles are clustered, so a release's counterpart is
  often absent. The stress test keeps each release with probability KEEP (SEEDS fixed draws) and pools
  precision and recall over the pairs whose two releases were both kept.

The scoring weights and EDITION_MIN_SCORE of transforms/clusters.py were chosen on this same set: no
other labelled English↔Chinese set exists, so the figures are in-sample (optimistic).

Run: `python -m transforms.eval_clusters [--json] [--with-entities]`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from itertools import product
from pathlib import Path
from typing import Any

from transforms.clusters import ClusterInput, cluster_articles
from transforms.dates import parse_date

REPO = Path(__file__).resolve().parent.parent
RELEASES = REPO / "snapshots" / "sources" / "hknews" / "gia.jsonl"
PAIRS = REPO / "tests" / "data" / "clusters" / "gia_pairs.jsonl"
KEEP = 0.3
SEEDS = 50


@dataclass(frozen=True)
class Scores:
    predicted: int
    correct: int
    labelled: int
    precision: float
    recall: float

    @classmethod
    def of(cls, predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> Scores:
        correct = len(predicted & truth)
        return cls(
            predicted=len(predicted),
            correct=correct,
            labelled=len(truth),
            precision=correct / len(predicted) if predicted else 1.0,
            recall=correct / len(truth) if truth else 1.0,
        )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_releases(path: Path = RELEASES) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in _read_jsonl(path)}


def load_pairs(path: Path = PAIRS) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(checked same-story pairs, near misses) as (English id, Chinese id)."""
    same: set[tuple[str, str]] = set()
    near: set[tuple[str, str]] = set()
    for line in _read_jsonl(path):
        (same if line["same_story"] else near).add((line["en_id"], line["zh_id"]))
    return same, near


def cluster_inputs(
    releases: dict[str, dict[str, Any]], entities: dict[str, set[str]] | None = None
) -> tuple[list[ClusterInput], dict[int, str]]:
    """The releases as the warehouse hands articles to `cluster_articles`; and article id → release id."""
    items: list[ClusterInput] = []
    ids: dict[int, str] = {}
    for number, (release_id, record) in enumerate(sorted(releases.items())):
        english = record["lang"] == "en"
        items.append(
            ClusterInput(
                article_id=number,
                canonical_url=record["url"],
                source="gia_en" if english else "gia_zh",
                language="en" if english else "zh-Hant",
                title=record["title"],
                body=record["body"],
                published_at=parse_date(record["published"]),
                entities=set((entities or {}).get(release_id, set())),
            )
        )
        ids[number] = release_id
    return items, ids


def tagged_entities(releases: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """Knowledge-base entities per release, from the project's tagger (as the loader stores them)."""
    from transforms.tagging import default_tagger

    tagger = default_tagger()
    found: dict[str, set[str]] = {}
    for release_id, record in releases.items():
        result = tagger.tag(record["title"], record["body"], "en" if record["lang"] == "en" else "zh-Hant")
        found[release_id] = {e["kb_id"] for e in result.entities if e.get("kb_id")}
    return found


def predicted_pairs(items: Iterable[ClusterInput], ids: dict[int, str]) -> set[tuple[str, str]]:
    """Every (English, Chinese) pair of releases that share a story."""
    pairs: set[tuple[str, str]] = set()
    for cluster in cluster_articles(items):
        english = [ids[m.article_id] for m in cluster.members if m.language == "en"]
        chinese = [ids[m.article_id] for m in cluster.members if m.language.startswith("zh")]
        pairs.update(product(english, chinese))
    return pairs


def missing_partners(items: list[ClusterInput], ids: dict[int, str], truth: set[tuple[str, str]]) -> Scores:
    """Pooled scores over SEEDS draws that keep each release with probability KEEP."""
    predicted_total = correct_total = labelled_total = 0
    for seed in range(SEEDS):
        draw = random.Random(seed)
        kept = [item for item in items if draw.random() < KEEP]
        kept_ids = {ids[item.article_id] for item in kept}
        labelled = {pair for pair in truth if set(pair) <= kept_ids}
        predicted = predicted_pairs(kept, ids)
        predicted_total += len(predicted)
        correct_total += len(predicted & labelled)
        labelled_total += len(labelled)
    return Scores(
        predicted=predicted_total,
        correct=correct_total,
        labelled=labelled_total,
        precision=correct_total / predicted_total if predicted_total else 1.0,
        recall=correct_total / labelled_total if labelled_total else 1.0,
    )


def evaluate(with_entities: bool = False, stress: bool = True) -> dict[str, Any]:
    releases = load_releases()
    truth, near = load_pairs()
    unknown = sorted({i for pair in truth | near for i in pair} - set(releases))
    if unknown:
        raise ValueError(f"pairs name releases missing from {RELEASES.name}: {unknown[:5]}")
    entities = tagged_entities(releases) if with_entities else None
    items, ids = cluster_inputs(releases, entities)
    predicted = predicted_pairs(items, ids)
    by_day: dict[str, Any] = {}
    for day in sorted({releases[en]["published"][:7] for en, _ in truth}):
        in_day = {p for p in truth if releases[p[0]]["published"].startswith(day)}
        predicted_day = {p for p in predicted if releases[p[0]]["published"].startswith(day)}
        by_day[day] = asdict(Scores.of(predicted_day, in_day))
    report: dict[str, Any] = {
        "releases": {"en": sum(r["lang"] == "en" for r in releases.values()), "zh": len(releases)},
        "entities": "tagger (knowledge-base ids)" if with_entities else "none",
        "all_releases": asdict(Scores.of(predicted, truth)),
        "by_month": by_day,
        "near_misses_merged": sorted(predicted & near),
        "false_pairs": sorted(predicted - truth),
        "missed_pairs": sorted(truth - predicted),
    }
    report["releases"]["zh"] -= report["releases"]["en"]
    if stress:
        report["missing_partners"] = {
            "keep": KEEP,
            "seeds": SEEDS,
            **asdict(missing_partners(items, ids, truth)),
        }
    return report


def _line(name: str, scores: dict[str, Any]) -> str:
    return (
        f"{name:<34} precision {scores['precision']:.3f} ({scores['correct']}/{scores['predicted']})  "
        f"recall {scores['recall']:.3f} ({scores['correct']}/{scores['labelled']})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--with-entities",
        action="store_true",
        help="give each release its tagger entities (pass 2 sees them)",
    )
    args = parser.parse_args(argv)
    report = evaluate(with_entities=args.with_entities)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return 0
    releases = report["releases"]
    print(
        f"cross-language story clustering on {PAIRS.relative_to(REPO)}: {releases['en']} English and "
        f"{releases['zh']} Chinese GIA releases, entities: {report['entities']}"
    )
    print(_line("all releases", report["all_releases"]))
    for month, scores in report["by_month"].items():
        print(_line(f"  releases of {month}", scores))
    stress = report["missing_partners"]
    print(_line(f"missing partners (keep {stress['keep']}, {stress['seeds']} draws)", stress))
    print(f"near misses merged: {len(report['near_misses_merged'])}")
    for kind in ("false_pairs", "missed_pairs"):
        for en_id, zh_id in report[kind]:
            print(f"  {kind.replace('_', ' ')[:-1]}: {en_id} ↔ {zh_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
