"""Tagging quality on the labelled sets in tests/data/tagging/ (dev = tuned on, test = held out).

Relevance: precision/recall/F1 of `relevant`. Entities: a predicted entity is correct when one of
its mentions matches a labelled mention (compared after folding case, width and script); a
labelled entity is found when any of its mentions is covered by a prediction. Sectors and themes:
micro-averaged over (item, label) pairs, plus per-label figures.

Run: `python -m transforms.eval_tag [dev|test|test2|heldout]`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from config.settings import REPO_ROOT
from transforms.tagging import default_tagger
from transforms.text import fold

DATA = REPO_ROOT / "tests" / "data" / "tagging"


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def evaluate(items: list[dict[str, Any]]) -> dict[str, Any]:
    tagger = default_tagger()
    counts: dict[str, Counter[str]] = {
        "relevance": Counter(),
        "entities": Counter(),
        "sectors": Counter(),
        "themes": Counter(),
    }
    per_label: dict[str, Counter[str]] = {}
    per_type: dict[str, Counter[str]] = {}
    for item in items:
        result = tagger.tag(item.get("title"), item.get("body"), item.get("language")).as_output()
        gold, pred = bool(item["relevant"]), bool(result["relevant"])
        counts["relevance"]["tp" if gold and pred else "fp" if pred else "fn" if gold else "tn"] += 1

        labelled = [(e, {fold(m) for m in e.get("mentions", [])}) for e in item.get("entities", [])]
        all_gold = set().union(*(m for _, m in labelled)) if labelled else set()
        found: set[int] = set()
        for entity in result["entities"]:
            mentions = {fold(m) for m in entity["mentions"]}
            hit = mentions & all_gold
            counts["entities"]["tp" if hit else "fp"] += 1
            per_type.setdefault(entity["type"], Counter())["tp" if hit else "fp"] += 1
            for index, (_, gold_mentions) in enumerate(labelled):
                if mentions & gold_mentions:
                    found.add(index)
        for index, (entity, _) in enumerate(labelled):
            if index not in found:
                counts["entities"]["fn"] += 1
                per_type.setdefault(entity.get("type", "?"), Counter())["fn"] += 1

        for kind in ("sectors", "themes"):
            gold_labels, pred_labels = set(item.get(kind) or []), set(result[kind])
            for label in gold_labels | pred_labels:
                key = (
                    "tp"
                    if label in gold_labels and label in pred_labels
                    else "fp"
                    if label in pred_labels
                    else "fn"
                )
                counts[kind][key] += 1
                per_label.setdefault(f"{kind[:-1]}:{label}", Counter())[key] += 1
    report: dict[str, Any] = {name: prf(c["tp"], c["fp"], c["fn"]) for name, c in counts.items()}
    report["per_label"] = {k: prf(c["tp"], c["fp"], c["fn"]) for k, c in sorted(per_label.items())}
    report["entity_types"] = {k: prf(c["tp"], c["fp"], c["fn"]) for k, c in sorted(per_type.items())}
    report["items"] = len(items)
    return report


# Which files make each split: dev is tuned on; test and test2 are held out (test2 was labelled
# without seeing the tagger, after the tuning described in the README).
SPLITS = {
    "dev": ("dev.jsonl", "dev_more.jsonl"),
    "test": ("test.jsonl",),
    "test2": ("test2.jsonl",),
    "heldout": ("test.jsonl", "test2.jsonl"),
}


def load(split: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for name in SPLITS[split]:
        path = DATA / name
        if path.exists():
            items += [
                json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
            ]
    return items


def table(report: dict[str, Any]) -> str:
    lines = ["| label | precision | recall | F1 | support |", "| --- | --- | --- | --- | --- |"]
    for name in ("relevance", "entities", "sectors", "themes"):
        r = report[name]
        lines.append(
            f"| **{name}** | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['support']} |"
        )
    for name, r in {**report["entity_types"], **report["per_label"]}.items():
        lines.append(
            f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['support']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("split", nargs="?", default="heldout", choices=sorted(SPLITS))
    args = parser.parse_args(argv)
    items = load(args.split)
    if not items:
        print(f"no labelled data for {args.split} in {DATA}", file=sys.stderr)
        return 2
    report = evaluate(items)
    print(f"{args.split}: {report['items']} items")
    print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
