"""Tagging quality on the labelled sets in tests/data/tagging/ (dev = tuned and trained on; test, test2
= held out; blind9, blind13 = blind splits, run only when asked for by name (`--split blind13`);
blind13 was read once, at the end of the tenth session; the other blind splits were read and are now dev
files, `dev_read_blind*.jsonl`, except blind9: RTHK general news, none relevant).

Relevance: precision/recall/F1 of `relevant`. Entities: a predicted entity is correct when one of
its mentions matches a labelled mention (compared after folding case, width and script); a
labelled entity is found when any of its mentions is covered by a prediction. Typed entities: the
same, and the types must agree too. New-name candidates (entities without a KB id, from
`transforms.names`): how many match a labelled entity. Sectors and themes: micro-averaged over
(item, label) pairs, plus per-label figures.

`--mode rules|learned|hybrid` picks the tagger (default: hybrid, the tagger's default); `--mode all`
prints the three side by side. On dev, `learned` and `hybrid` are cross-validated: each item is
tagged by models trained without its fold (`transforms.train.cross_validated_outputs`), since the
checked-in model was trained on all of dev.

The new-name finder's precision by hand: `--names` scores `tests/data/tagging/names_sample.jsonl`,
candidates the finder produced on real text, each judged by reading it in context (see NAMES.md there).

Run: `python -m transforms.eval_tag [dev|test|test2|heldout] [--mode MODE]`, `... --names`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

from transforms.learned import MODES, ModelError, load_model
from transforms.tagging import Tagger
from transforms.text import fold
from transforms.train import DATA, SPLIT_GLOBS, TRAINING_SPLIT, cross_validated_outputs, load_split

SUMMARY = ("relevance", "entities", "entities_typed", "candidates", "sectors", "themes")


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def tag_all(items: Sequence[dict[str, Any]], tagger: Tagger) -> list[dict[str, Any]]:
    return [tagger.tag(i.get("title"), i.get("body"), i.get("language")).as_output() for i in items]


def outputs_for(
    items: Sequence[dict[str, Any]], split: str, modes: Sequence[str], tagger: Tagger
) -> dict[str, list[dict[str, Any]]]:
    """The tagger's outputs per mode; on the training split the learned modes are cross-validated."""
    outputs: dict[str, list[dict[str, Any]]] = {}
    learned = [m for m in modes if m != "rules"]
    if split == TRAINING_SPLIT and learned:
        outputs.update(cross_validated_outputs(items, learned, tagger.using(None)))
    for mode in modes:
        if mode == "rules":
            outputs[mode] = tag_all(items, tagger.using(None))
        elif mode not in outputs:
            outputs[mode] = tag_all(items, tagger.using(load_model(mode)))
    return {mode: outputs[mode] for mode in modes}


def evaluate(
    items: Sequence[dict[str, Any]], outputs: Sequence[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Scores of `outputs` (one `hkai tag` output per item; default: the default tagger's)."""
    if outputs is None:
        outputs = tag_all(items, Tagger())
    counts: dict[str, Counter[str]] = {name: Counter() for name in SUMMARY}
    per_label: dict[str, Counter[str]] = {}
    per_type: dict[str, Counter[str]] = {}
    for item, result in zip(items, outputs, strict=True):
        gold, pred = bool(item["relevant"]), bool(result["relevant"])
        counts["relevance"]["tp" if gold and pred else "fp" if pred else "fn" if gold else "tn"] += 1

        labelled = [(e, {fold(m) for m in e.get("mentions", [])}) for e in item.get("entities", [])]
        all_gold = set().union(*(m for _, m in labelled)) if labelled else set()
        found: set[int] = set()
        found_typed: set[int] = set()
        for entity in result["entities"]:
            mentions = {fold(m) for m in entity["mentions"]}
            hit = mentions & all_gold
            counts["entities"]["tp" if hit else "fp"] += 1
            per_type.setdefault(entity["type"], Counter())["tp" if hit else "fp"] += 1
            typed_hit = False
            for index, (gold_entity, gold_mentions) in enumerate(labelled):
                if mentions & gold_mentions:
                    found.add(index)
                    if gold_entity.get("type") == entity["type"]:
                        found_typed.add(index)
                        typed_hit = True
            counts["entities_typed"]["tp" if typed_hit else "fp"] += 1
            if entity.get("kb_id") is None:  # a new-name candidate: precision only
                counts["candidates"]["tp" if hit else "fp"] += 1
                counts["candidates"]["typed" if typed_hit else "untyped"] += 1
        for index, (entity, _) in enumerate(labelled):
            if index not in found:
                counts["entities"]["fn"] += 1
                per_type.setdefault(entity.get("type", "?"), Counter())["fn"] += 1
            if index not in found_typed:
                counts["entities_typed"]["fn"] += 1

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
    candidates = counts["candidates"]
    report["candidates"] = {
        "count": candidates["tp"] + candidates["fp"],
        "precision": report["candidates"]["precision"],
        "typed_precision": candidates["typed"] / max(1, candidates["tp"] + candidates["fp"]),
    }
    report["per_label"] = {k: prf(c["tp"], c["fp"], c["fn"]) for k, c in sorted(per_label.items())}
    report["entity_types"] = {k: prf(c["tp"], c["fp"], c["fn"]) for k, c in sorted(per_type.items())}
    report["items"] = len(items)
    return report


def load(split: str) -> list[dict[str, Any]]:
    return load_split(split)


def table(report: dict[str, Any]) -> str:
    lines = ["| label | precision | recall | F1 | support |", "| --- | --- | --- | --- | --- |"]
    for name in ("relevance", "entities", "entities_typed", "sectors", "themes"):
        r = report[name]
        lines.append(
            f"| **{name}** | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['support']} |"
        )
    for name, r in {**report["entity_types"], **report["per_label"]}.items():
        lines.append(
            f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['support']} |"
        )
    c = report["candidates"]
    lines.append(
        f"\nNew-name candidates (`transforms.names`, no KB id): {c['count']}, precision {c['precision']:.3f} "
        f"(typed {c['typed_precision']:.3f}): the share that match a labelled entity."
    )
    return "\n".join(lines)


def comparison(reports: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| mode | relevance F1 | entity F1 | typed entity F1 | sector F1 | theme F1 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for mode, r in reports.items():
        lines.append(
            f"| {mode} | {r['relevance']['f1']:.3f} | {r['entities']['f1']:.3f} | "
            f"{r['entities_typed']['f1']:.3f} | {r['sectors']['f1']:.3f} | {r['themes']['f1']:.3f} |"
        )
    return "\n".join(lines)


NAMES_SAMPLE = DATA / "names_sample.jsonl"


def wilson(correct: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson interval of a proportion: honest bounds for a sample of a hundred."""
    if not total:
        return 0.0, 0.0
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return centre - half, centre + half


def names_precision(path: Any = None) -> str:
    """Per judged sample: candidates, how many a reader judged correct, precision and its interval."""
    rows = [
        json.loads(line) for line in (path or NAMES_SAMPLE).read_text(encoding="utf-8").splitlines() if line
    ]
    lines = [
        "| sample | candidates | correct | precision | 95% interval |",
        "| --- | --- | --- | --- | --- |",
    ]
    for sample in dict.fromkeys(r["sample"] for r in rows):
        judged = [r for r in rows if r["sample"] == sample]
        correct = sum(1 for r in judged if r["correct"])
        low, high = wilson(correct, len(judged))
        lines.append(
            f"| {sample} | {len(judged)} | {correct} | {correct / len(judged):.3f} | {low:.3f}–{high:.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    public = sorted(s for s in SPLIT_GLOBS if not s.startswith("blind"))
    parser.add_argument("split", nargs="?", choices=public, help="default: heldout")
    parser.add_argument(
        "--split",
        dest="named_split",
        choices=sorted(SPLIT_GLOBS),
        help="the only way to run the blind splits",
    )
    parser.add_argument("--mode", default="hybrid", choices=[*MODES, "all"])
    parser.add_argument("--names", action="store_true", help="the new-name finder's judged precision")
    args = parser.parse_args(argv)
    if args.names:
        print(names_precision())
        return 0
    if args.split and args.named_split and args.split != args.named_split:
        parser.error("two different splits given")
    split = args.named_split or args.split or "heldout"
    items = load_split(split)
    if not items:
        print(f"no labelled data for {split} in {DATA}", file=sys.stderr)
        return 2
    modes = list(MODES) if args.mode == "all" else [args.mode]
    tagger = Tagger(mode="rules")
    try:
        outputs = outputs_for(items, split, modes, tagger)
    except ModelError as error:
        print(str(error), file=sys.stderr)
        return 2
    reports = {mode: evaluate(items, outputs[mode]) for mode in modes}
    cv = " (learned, hybrid: 5-fold cross-validation within dev)" if split == TRAINING_SPLIT else ""
    print(f"{split}: {len(items)} items{cv}")
    if len(reports) > 1:
        print(comparison(reports))
    for mode, report in reports.items():
        print(f"\nmode: {mode}")
        print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
