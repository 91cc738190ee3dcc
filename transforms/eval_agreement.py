"""Agreement between two independent annotators: the ceiling the tagger is measured against.

The first annotator's labels are in the tagging files (tests/data/tagging/*.jsonl); the second
annotator labelled a sample of the same items from the text and docs/LABELLING.md alone, into
`second_annotator.jsonl`. Agreement is scored like the tagger (eval_tag): the first annotator as
reference, entities matched on a shared (folded) mention, sectors and themes as micro-F1, plus
Cohen's kappa for relevance. F1 is symmetric here, so the choice of reference does not matter.

Run: `python -m transforms.eval_agreement`.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from config.settings import REPO_ROOT
from transforms.text import fold

DATA = REPO_ROOT / "tests" / "data" / "tagging"
SECOND = DATA / "second_annotator.jsonl"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def first_labels(ids: set[str]) -> dict[str, dict[str, Any]]:
    """The first annotator's records for `ids`, from every tagging file but the second annotator's
    (`second_annotator*.jsonl`: one file per round of double labelling)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(DATA.glob("*.jsonl")):
        if not path.name.startswith("second_annotator"):
            found.update({r["id"]: r for r in read_jsonl(path) if r.get("id") in ids})
    return found


def prf(counts: Counter[str]) -> dict[str, float]:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def entity_counts(first: list[dict[str, Any]], second: list[dict[str, Any]], typed: bool) -> Counter[str]:
    """An entity agrees when the other annotator has one sharing a mention (and, typed, the type)."""
    counts: Counter[str] = Counter()

    def key(entity: dict[str, Any]) -> tuple[set[str], str]:
        return {fold(m) for m in entity.get("mentions", [])}, entity.get("type", "") if typed else ""

    reference = [key(e) for e in first]
    matched: set[int] = set()
    for entity in second:
        mentions, kind = key(entity)
        hits = [i for i, (ref, ref_kind) in enumerate(reference) if mentions & ref and ref_kind == kind]
        counts["tp" if hits else "fp"] += 1
        matched.update(hits)
    counts["fn"] += len(reference) - len(matched)
    return counts


def label_counts(first: set[str], second: set[str]) -> Counter[str]:
    return Counter({"tp": len(first & second), "fp": len(second - first), "fn": len(first - second)})


def cohen_kappa(pairs: list[tuple[bool, bool]]) -> float:
    n = len(pairs)
    if not n:
        return 0.0
    observed = sum(a == b for a, b in pairs) / n
    p_first = sum(a for a, _ in pairs) / n
    p_second = sum(b for _, b in pairs) / n
    expected = p_first * p_second + (1 - p_first) * (1 - p_second)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def agreement(first: dict[str, dict[str, Any]], second: list[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, Counter[str]] = {
        k: Counter() for k in ("relevance", "entities", "typed", "sectors", "themes")
    }
    per_label: dict[str, Counter[str]] = {}
    pairs: list[tuple[bool, bool]] = []
    for record in second:
        ref = first[record["id"]]
        a, b = bool(ref["relevant"]), bool(record["relevant"])
        pairs.append((a, b))
        totals["relevance"]["tp" if a and b else "fp" if b else "fn" if a else "tn"] += 1
        totals["entities"] += entity_counts(ref.get("entities", []), record.get("entities", []), typed=False)
        totals["typed"] += entity_counts(ref.get("entities", []), record.get("entities", []), typed=True)
        for kind in ("sectors", "themes"):
            gold, other = set(ref.get(kind) or []), set(record.get(kind) or [])
            totals[kind] += label_counts(gold, other)
            for label in gold | other:
                per_label.setdefault(f"{kind[:-1]}:{label}", Counter()).update(
                    label_counts({label} & gold, {label} & other)
                )
    report: dict[str, Any] = {name: prf(c) for name, c in totals.items()}
    report["relevance_kappa"] = cohen_kappa(pairs)
    report["per_label"] = {k: prf(c) for k, c in sorted(per_label.items())}
    report["items"] = len(second)
    report["both_relevant"] = sum(a and b for a, b in pairs)
    return report


def table(report: dict[str, Any]) -> str:
    lines = ["| label | agreement F1 | precision | recall | support |", "| --- | --- | --- | --- | --- |"]
    names = {
        "relevance": "relevance",
        "entities": "entities",
        "typed": "entities, typed",
        "sectors": "sectors (micro)",
        "themes": "themes (micro)",
    }
    for key, name in names.items():
        r = report[key]
        lines.append(
            f"| **{name}** | {r['f1']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | {r['support']} |"
        )
    for name, r in report["per_label"].items():
        lines.append(
            f"| {name} | {r['f1']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | {r['support']} |"
        )
    lines.append(
        f"\nRelevance Cohen's kappa {report['relevance_kappa']:.3f} on {report['items']} items "
        f"({report['both_relevant']} relevant to both annotators)."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--second", type=Path, default=SECOND, help="the second annotator's JSONL")
    args = parser.parse_args(argv)
    second = read_jsonl(args.second)
    first = first_labels({r["id"] for r in second})
    missing = sorted({r["id"] for r in second} - set(first))
    if missing:
        raise SystemExit(f"no first-annotator labels for {len(missing)} id(s): {', '.join(missing[:5])}")
    print(table(agreement(first, second)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
