"""Train the mention model (`transforms.mentions`) on the labelled mentions of the dev data:
`python -m transforms.train_mentions` (part of `make train`).

Rows are the capitalised runs the detector would score: every run of a dev item that the rules-only
tagger (knowledge base and name patterns) did not already name, nor name around it. A row is a name
when its folded text equals a labelled mention of its item, and its type is that entity's type.

1. the name model: a logistic regression over the run features (`transforms.mentions.features`);
2. the type model: a multinomial logistic regression on the rows that are names;
3. a threshold per script (capitalised runs, Chinese names): tagging dev with models trained on the
   other folds (five folds by item), the one with the best entity F1 (`transforms.eval_tag.evaluate`)
   over the tagger's whole output.

Only dev is read, as in `transforms.train`; features seen in fewer than MIN_COUNT rows are dropped;
solver and data fix the result, so the same data gives the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from config.settings import REPO_ROOT
from transforms.mentions import (
    MENTIONS_PATH,
    MentionModel,
    candidate_runs,
    features,
    lower_words_of,
    non_overlapping,
    parse_mention_model,
    script,
)
from transforms.tagging import Tagger
from transforms.text import fold
from transforms.train import FOLDS, TRAINING_SPLIT, load_split, split_files

NAME_C = 1.0
TYPE_C = 1.0
MIN_COUNT = 2
THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.10, 0.86, 0.05))
SCRIPTS = ("latin", "han")
DECIMALS = 4


@dataclass(slots=True)
class Row:
    item: int
    surface: str
    start: int  # its first occurrence (overlapping proposals: the likeliest is kept)
    features: list[str]
    label: str | None  # the labelled entity type, or None: not a name


def rows_and_outputs(
    items: Sequence[dict[str, Any]], tagger: Tagger
) -> tuple[list[Row], list[dict[str, Any]]]:
    """The runs to learn from, and the rules-only tagger's output per item (what the model adds to)."""
    tagger = tagger.using_mentions(None)
    rows: list[Row] = []
    outputs = []
    for index, item in enumerate(items):
        output = tagger.tag(item.get("title"), item.get("body"), item.get("language")).as_output()
        outputs.append(output)
        article = tagger.analyse(
            item.get("title"), item.get("body")
        ).article  # the text as the tagger reads it
        named = [m for e in output["entities"] for m in e["mentions"]]
        gold = {fold(m): e.get("type") for e in item.get("entities", []) for m in e.get("mentions", [])}
        lower: set[str] | None = None
        for text, run in candidate_runs(article.title, article.body, named, tagger._known_surface_forms):
            lower = lower if lower is not None else lower_words_of(text)
            feats = features(text, run, len(article.title), lower)
            rows.append(Row(index, run.surface, run.starts[0], feats, gold.get(run.folded)))
    return rows, outputs


def _matrix(rows: Sequence[Row], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    indptr, indices = [0], []
    for row in rows:
        indices.extend(sorted({vocabulary[f] for f in row.features if f in vocabulary}))
        indptr.append(len(indices))
    data = np.ones(len(indices))
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), len(vocabulary)))


def fit_model(
    rows: Sequence[Row], thresholds: dict[str, float] | None = None, meta: dict[str, Any] | None = None
) -> MentionModel:
    """Both models from `rows` (the thresholds are chosen by `choose_thresholds`)."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    counts = Counter(f for row in rows for f in set(row.features))
    vocabulary = {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= MIN_COUNT))}
    names = sorted(vocabulary, key=vocabulary.__getitem__)
    x = _matrix(rows, vocabulary)
    y = np.array([row.label is not None for row in rows])
    positives = [i for i, row in enumerate(rows) if row.label is not None]
    types = np.array([rows[i].label for i in positives])
    with threadpool_limits(1):
        name_model = LogisticRegression(C=NAME_C, max_iter=5000).fit(x, y)
        type_model = LogisticRegression(C=TYPE_C, max_iter=5000).fit(x[positives], types)
    name_weights = {
        f: round(float(w), DECIMALS)
        for f, w in zip(names, name_model.coef_[0], strict=True)
        if round(w, DECIMALS)
    }
    type_weights = {}
    for column, f in enumerate(names):
        weights = tuple(round(float(w), DECIMALS) for w in type_model.coef_[:, column])
        if any(weights):
            type_weights[f] = weights
    return MentionModel(
        name_weights=name_weights,
        name_bias=round(float(name_model.intercept_[0]), DECIMALS),
        types=tuple(str(c) for c in type_model.classes_),
        type_weights=type_weights,
        type_bias=tuple(round(float(b), DECIMALS) for b in type_model.intercept_),
        thresholds=thresholds or dict.fromkeys(SCRIPTS, 0.5),
        meta=meta or {},
    )


def with_proposals(
    rows: Sequence[Row],
    outputs: Sequence[dict[str, Any]],
    scored: Sequence[tuple[float, str]],
    thresholds: dict[str, float],
) -> list[dict[str, Any]]:
    """The rules-only outputs plus each row of a relevant item whose probability reaches its script's
    threshold, as a new name."""
    merged = [dict(o, entities=list(o["entities"])) for o in outputs]
    by_item: dict[int, list[tuple[float, int, int, tuple[Row, str]]]] = {}
    for row, (p, kind) in zip(rows, scored, strict=True):
        # (the tagger asks the model only about relevant stories)
        if p >= thresholds[script(row.surface)] and outputs[row.item]["relevant"]:
            span = (p, row.start, row.start + len(row.surface), (row, kind))
            by_item.setdefault(row.item, []).append(span)
    for item, proposals in by_item.items():
        for row, kind in non_overlapping(proposals):
            merged[item]["entities"].append(
                {"name": row.surface, "type": kind, "kb_id": None, "mentions": [row.surface]}
            )
    return merged


def cross_validated_scores(rows: Sequence[Row]) -> list[tuple[float, str]]:
    """Each row's probability and type from models trained on the other folds (folds by item)."""
    scored: list[tuple[float, str]] = [(0.0, "")] * len(rows)
    for fold_index in range(FOLDS):
        train = [r for r in rows if r.item % FOLDS != fold_index]
        model = fit_model(train)
        for i, row in enumerate(rows):
            if row.item % FOLDS == fold_index:
                scored[i] = (model.probability(row.features), model.entity_type(row.features))
    return scored


F1_TOLERANCE = 0.0005


def choose_thresholds(
    items: Sequence[dict[str, Any]], rows: Sequence[Row], outputs: Sequence[dict[str, Any]]
) -> tuple[dict[str, float], dict[str, float]]:
    """Per script, the highest threshold within F1_TOLERANCE of the best cross-validated entity F1
    on dev (Latin first, with no Chinese proposals; then Chinese, with the Latin threshold chosen),
    and the F1 at each one tried (`without`: no proposals at all)."""
    from transforms.eval_tag import evaluate

    scored = cross_validated_scores(rows)
    figures = {"without": round(evaluate(items, outputs)["entities"]["f1"], 4)}
    chosen = dict.fromkeys(SCRIPTS, 1.01)  # above every probability: no proposals
    for kind in SCRIPTS:
        for threshold in THRESHOLDS:
            report = evaluate(items, with_proposals(rows, outputs, scored, {**chosen, kind: threshold}))
            figures[f"{kind} {threshold:.2f}"] = round(report["entities"]["f1"], 4)
        # the curve is flat near its top (a few entities of thousands): of the thresholds within
        # F1_TOLERANCE of the best, the highest, so fewer proposals go to the review queue
        best = max(figures[f"{kind} {t:.2f}"] for t in THRESHOLDS)
        chosen[kind] = float(max(t for t in THRESHOLDS if figures[f"{kind} {t:.2f}"] >= best - F1_TOLERANCE))
    typed = {
        "without": evaluate(items, outputs),
        "chosen": evaluate(items, with_proposals(rows, outputs, scored, chosen)),
    }
    for name, report in typed.items():
        figures[f"typed {name}"] = round(report["entities_typed"]["f1"], 4)
    return chosen, figures


def train(path: Path = MENTIONS_PATH) -> dict[str, Any]:
    started = time.perf_counter()
    files = split_files(TRAINING_SPLIT)
    items = load_split(TRAINING_SPLIT)
    tagger = Tagger(mode="rules", learned_mentions=False)
    rows, outputs = rows_and_outputs(items, tagger)
    thresholds, figures = choose_thresholds(items, rows, outputs)
    meta = {
        "trained_on": [str(p.relative_to(REPO_ROOT)) for p in files],
        "items": len(items),
        "rows": len(rows),
        "names": sum(row.label is not None for row in rows),
        "data_sha256": hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest(),
        "cv_entity_f1": figures,
    }
    model = fit_model(rows, thresholds, meta)
    content = gzip.compress(model.to_json().encode("utf-8"), mtime=0)
    parse_mention_model(gzip.decompress(content).decode("utf-8"))  # what is written can be read
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(content)
    partial.replace(path)
    return {
        "path": path,
        "bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "seconds": time.perf_counter() - started,
        "thresholds": thresholds,
        "figures": figures,
        "rows": len(rows),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=MENTIONS_PATH, help="where to write the model file")
    args = parser.parse_args(argv)
    result = train(args.output)
    print(
        f"mention model from {result['rows']} runs in {result['seconds']:.1f} s: {result['path']} "
        f"({result['bytes'] / 1e3:.0f} KB, sha256 {result['sha256'][:16]}); thresholds {result['thresholds']}"
    )
    print(
        "cross-validated dev entity F1 by threshold: "
        + ", ".join(f"{t} {f}" for t, f in result["figures"].items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
