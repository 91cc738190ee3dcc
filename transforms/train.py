"""Train the learned tagger models on the development data: `python -m transforms.train` (`make train`).

Only dev data is read: `tests/data/tagging/dev.jsonl` and every `dev_*.jsonl`. The held-out files
(`test*.jsonl`) and the blind files (`blind*.jsonl`) are never read here; `transforms.eval_tag` runs
them to report figures.

For each mode (`learned`: text n-grams only; `hybrid`: n-grams and the rules' features) and each
decision (relevance; each sector and each theme, one-vs-rest):

1. a logistic regression, Platt-calibrated on stratified folds (`CalibratedClassifierCV`,
   `ensemble=False`: one model fitted on all rows, the sigmoid fitted on its fold predictions);
2. its threshold: the one with the best F1 on out-of-fold calibrated probabilities (a second
   cross-validation over the whole of step 1); the regularisation strength likewise (one per kind);
3. a label with fewer than MIN_POSITIVES examples gets no model: the rules decide it (hybrid);
4. hybrid: a label whose rules have a better F1 than its model on the same out-of-fold rows is left
   to the rules too (the model file records both figures, `cv_f1`).

Relevance is learned on every dev article (`learned`) or on those with a strong AI word (`hybrid`,
whose tagger asks the model only about those); sectors and themes on the relevant dev articles.
Seeds are fixed and BLAS runs on one thread, so the same data gives the same bytes.
Cross-validated figures: `python -m transforms.eval_tag dev --mode hybrid` (`cross_validated_outputs`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from config.settings import REPO_ROOT
from transforms.learned import (
    MODEL_PATH,
    KindModel,
    LabelModel,
    NgramFeatures,
    article_text,
    dump_models,
    han_ngrams,
    latin_ngrams,
    model_bytes,
    parse_models,
    read_model_text,
)
from transforms.tagging import LABEL_FEATURES, RELEVANCE_FEATURES, Tagger

DATA = REPO_ROOT / "tests" / "data" / "tagging"
SEED = 20251130
FOLDS = 5
MIN_DF = 3  # an n-gram must occur in three training articles
# Fewer labelled examples than this: no model for the label (the rules decide it in hybrid). With
# five folds for calibration and five for thresholds, fewer positives leave folds with one or none;
# on dev-CV the 5- and 7-example sectors (transport, healthcare) did better with the rules.
MIN_POSITIVES = 8
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(2, 19))  # 0.10 ... 0.90
# Inverse regularisation strengths tried; each kind takes the one with the best cross-validated
# micro-F1 on the training data (ties: the stronger regularisation). learned: the n-gram model;
# hybrid: the model that combines the n-gram score with the rule features.
C_GRID = {"learned": (1.0, 3.0, 10.0, 30.0, 100.0), "hybrid": (0.03, 0.1, 0.3, 1.0)}
MODES_TRAINED = ("learned", "hybrid")
GATES = {"hybrid": "strong-ai", "learned": None}


# -- data -------------------------------------------------------------------------------------------

# Splits by file-name prefix. A blind split is read only when asked for by name (`--split blind11`), once,
# at the end of a round. Once read it is no longer blind: blind … blind7 were read in earlier rounds and
# became training data on 2026-11-26 (renamed `dev_read_blind*.jsonl`), blind8 and blind10 on 2026-11-27,
# blind11 (read once, at the end of the eighth session) at the start of the ninth, blind12 (read once, at the
# end of the ninth) at the start of the tenth.
SPLIT_GLOBS = {
    "dev": ("dev.jsonl", "dev_*.jsonl"),
    "test": ("test.jsonl", "test_*.jsonl"),
    "test2": ("test2.jsonl", "test2_*.jsonl"),
    "heldout": ("test.jsonl", "test_*.jsonl", "test2.jsonl", "test2_*.jsonl"),
    # 2026-11-26 (fifth session): 50 RTHK items of November 2025, none relevant; read at the end of three
    # sessions (a check for false positives on ordinary local news)
    "blind9": ("blind9_*.jsonl",),
    # 2026-11-27 (tenth session): web items collected and labelled by three annotators who never saw the
    # tagger; read once, at the end of the session
    "blind13": ("blind13_*.jsonl",),
}
TRAINING_SPLIT = "dev"


def split_files(split: str, data: Path | None = None) -> list[Path]:
    """The labelled files of a split, by prefix (dev.jsonl, dev_more.jsonl, dev_2026.jsonl...)."""
    data = data or DATA
    files: dict[Path, None] = {}
    for pattern in SPLIT_GLOBS[split]:
        for path in sorted(data.glob(pattern)):
            files[path] = None
    return list(files)


def load_split(split: str, data: Path | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for path in split_files(split, data):
        items += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return items


# -- examples ---------------------------------------------------------------------------------------


@dataclass
class Example:
    """One labelled article as the models see it."""

    id: str
    text: str  # folded title and body (`learned.article_text`)
    relevant: bool
    strong_ai: bool
    relevance_rules: dict[str, float]
    label_rules: dict[str, dict[str, dict[str, float]]]  # kind -> label -> features (relevant only)
    gold: dict[str, set[str]] = field(default_factory=dict)


def examples(items: Sequence[dict[str, Any]], tagger: Tagger) -> list[Example]:
    found: list[Example] = []
    for item in items:
        view = tagger.analyse(item.get("title"), item.get("body"))
        relevant = bool(item["relevant"])
        label_rules: dict[str, dict[str, dict[str, float]]] = {}
        if relevant:
            sectors, themes = tagger.label_scores(view)
            label_rules = {
                "sector": tagger.label_features(view, sectors, "sector"),
                "theme": tagger.label_features(view, themes, "theme"),
            }
        found.append(
            Example(
                id=str(item["id"]),
                text=article_text(
                    view.article.folded_title,
                    view.article.folded_body,
                    [(e["kb_id"], e["type"]) for e in view.entities.found if e.get("kb_id")],
                ),
                relevant=relevant,
                strong_ai=view.has_strong_ai,
                relevance_rules=tagger.relevance_features(view),
                label_rules=label_rules,
                gold={"sector": set(item.get("sectors") or []), "theme": set(item.get("themes") or [])},
            )
        )
    return found


def vocabulary(train: Sequence[Example]) -> NgramFeatures:
    """N-grams in at least MIN_DF training articles, and their smoothed idf (computed from counts made
    by the same automaton the tagger uses, so training and tagging see identical features)."""
    han_df: dict[str, int] = {}
    latin_df: dict[str, int] = {}
    for example in train:
        for gram in set(han_ngrams(example.text)):
            han_df[gram] = han_df.get(gram, 0) + 1
        for gram in set(latin_ngrams(example.text)):
            latin_df[gram] = latin_df.get(gram, 0) + 1
    han = sorted(g for g, n in han_df.items() if n >= MIN_DF)
    latin = sorted(g for g, n in latin_df.items() if n >= MIN_DF)
    features = NgramFeatures(han, latin)
    df = np.zeros(features.size)
    for example in train:
        index, _ = features.counts(example.text)
        df[index] += 1
    features.idf = np.log((1 + len(train)) / (1 + df)) + 1.0
    return features


def text_matrix(features: NgramFeatures, rows: Sequence[Example]) -> sparse.csr_matrix:
    data, indices, indptr = [], [], [0]
    for example in rows:
        vector = features.vector(example.text)
        data.append(vector.value)
        indices.append(vector.index)
        indptr.append(indptr[-1] + len(vector.index))
    return sparse.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0),
            np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
            np.asarray(indptr),
        ),
        shape=(len(rows), features.size),
    )


# -- one binary model -------------------------------------------------------------------------------


def _folds(y: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    splits = min(FOLDS, int(y.sum()), int(len(y) - y.sum()))
    return list(StratifiedKFold(splits, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def _logistic(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    # liblinear (a trust-region Newton method on the primal) is ten times faster than lbfgs on these
    # wide sparse matrices; it regularises the intercept too, which class weights make harmless
    return LogisticRegression(C=c, class_weight="balanced", max_iter=1000, solver="liblinear", random_state=0)


def _stacked_class() -> type:
    """`Stacked`, defined on first use so that importing this module needs no scikit-learn."""
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.model_selection import cross_val_predict

    class Stacked(ClassifierMixin, BaseEstimator):
        """The hybrid's model: a text-only logistic regression (its own regularisation, `text_c`)
        whose cross-validated score is one input of a second logistic regression beside the rule
        features (`c`). Both are linear, so the result is one linear model over text and rule
        features: coef = [m·w_text, v_rules], intercept = m·b_text + b."""

        def __init__(self, text_columns: int = 0, text_c: float = 1.0, c: float = 1.0, seed: int = 0):
            self.text_columns = text_columns
            self.text_c = text_c
            self.c = c
            self.seed = seed

        def fit(self, x: Any, y: np.ndarray) -> Any:
            x = sparse.csr_matrix(x)
            text, rules = x[:, : self.text_columns], x[:, self.text_columns :].toarray()
            model = _logistic(self.text_c)
            if min(int(y.sum()), int(len(y) - y.sum())) >= 2:
                score = cross_val_predict(model, text, y, cv=_folds(y, self.seed), method="decision_function")
                model.fit(text, y)
            else:  # too few to fold: the in-sample score
                score = model.fit(text, y).decision_function(text)
            meta = _logistic(self.c).fit(np.column_stack([score, rules]), y)
            weight = float(meta.coef_[0][0])
            self.coef_ = np.concatenate([weight * model.coef_[0], meta.coef_[0][1:]])[None, :]
            self.intercept_ = np.array([weight * float(model.intercept_[0]) + float(meta.intercept_[0])])
            self.classes_ = np.array([0, 1])
            return self

        def decision_function(self, x: Any) -> np.ndarray:
            return np.asarray(x @ self.coef_[0]).ravel() + self.intercept_[0]

        def predict(self, x: Any) -> np.ndarray:
            return (self.decision_function(x) > 0).astype(int)

    return Stacked


def _estimator(mode: str, c: float, text_columns: int, text_c: float, seed: int) -> Any:
    if mode == "hybrid":
        return _stacked_class()(text_columns=text_columns, text_c=text_c, c=c, seed=seed)
    return _logistic(c)


def _calibrated(
    x: sparse.csr_matrix, y: np.ndarray, estimator: Any, seed: int
) -> tuple[np.ndarray, float, tuple]:
    """The estimator fitted on all rows, a Platt sigmoid fitted on its cross-validated decisions."""
    from sklearn.calibration import CalibratedClassifierCV

    model = CalibratedClassifierCV(estimator, method="sigmoid", cv=_folds(y, seed), ensemble=False)
    model.fit(x, y)
    fitted = model.calibrated_classifiers_[0]
    estimator, sigmoid = fitted.estimator, fitted.calibrators[0]
    return estimator.coef_[0].copy(), float(estimator.intercept_[0]), (float(sigmoid.a_), float(sigmoid.b_))


def _probability(x: sparse.csr_matrix, coef: np.ndarray, intercept: float, platt: tuple) -> np.ndarray:
    decision = x @ coef + intercept
    return 1.0 / (1.0 + np.exp(np.clip(platt[0] * decision + platt[1], -500, 500)))


def out_of_fold(x: sparse.csr_matrix, y: np.ndarray, estimator: Any, seed: int) -> np.ndarray:
    """Calibrated probabilities for every row from models fitted without its fold."""
    p = np.zeros(len(y))
    for train, test in _folds(y, seed + 1):
        coef, intercept, platt = _calibrated(x[train], y[train], estimator, seed)
        p[test] = _probability(x[test], coef, intercept, platt)
    return p


def best_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The threshold with the best F1 (ties: the one nearest 0.5)."""

    def f1(t: float) -> float:
        predicted = p >= t
        tp = float(np.sum(predicted & (y == 1)))
        return 2 * tp / (predicted.sum() + y.sum()) if predicted.sum() + y.sum() else 0.0

    return max(THRESHOLDS, key=lambda t: (round(f1(t), 9), -abs(t - 0.5)))


# -- one kind, one mode -----------------------------------------------------------------------------


def _rule_matrix(rows: list[dict[str, float]], names: Sequence[str]) -> np.ndarray:
    return np.array([[float(row.get(name, 0.0)) for name in names] for row in rows]).reshape(
        len(rows), len(names)
    )


def _scaling(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = z.mean(axis=0) if len(z) else np.zeros(z.shape[1])
    scale = z.std(axis=0) if len(z) else np.ones(z.shape[1])
    scale[scale < 1e-9] = 1.0
    return mean, scale


def fit_kind(
    kind: str,
    mode: str,
    train: Sequence[Example],
    features: NgramFeatures,
    labels: Sequence[str],
    text_c: float = 1.0,
) -> KindModel:
    """The calibrated models of one kind; labels with too few examples become fallbacks. `text_c`:
    the hybrid's regularisation of its text model (the one cross-validation chose for `learned`)."""
    hybrid = mode == "hybrid"
    names = list(RELEVANCE_FEATURES if kind == "relevance" else LABEL_FEATURES) if hybrid else []
    if kind == "relevance":
        rows = [e for e in train if e.strong_ai] if GATES[mode] == "strong-ai" else list(train)
        targets = {"relevant": np.array([int(e.relevant) for e in rows])}
        rule_rows = {"relevant": [e.relevance_rules for e in rows]}
    else:
        rows = [e for e in train if e.relevant]
        targets = {label: np.array([int(label in e.gold[kind]) for e in rows]) for label in labels}
        rule_rows = {label: [e.label_rules[kind][label] for e in rows] for label in labels}
    x_text = text_matrix(features, rows)
    mean, scale = _scaling(_rule_matrix([r for label in targets for r in rule_rows[label]], names))
    fallback = [
        label for label, y in targets.items() if y.sum() < MIN_POSITIVES or len(y) - y.sum() < MIN_POSITIVES
    ]
    learned = [label for label in targets if label not in fallback]
    design = {}
    for label in learned:
        z = (_rule_matrix(rule_rows[label], names) - mean) / scale
        design[label] = sparse.hstack([x_text, sparse.csr_matrix(z)], format="csr") if names else x_text
    seeds = {label: SEED + 101 * offset for offset, label in enumerate(targets)}

    # out-of-fold calibrated probabilities for every C: they choose C, then the thresholds
    best: tuple[float, float] | None = None
    chosen_c, chosen_thresholds, chosen_oof = C_GRID[mode][0], {}, {}
    for c in C_GRID[mode]:
        oof = {
            label: (
                out_of_fold(
                    design[label],
                    targets[label],
                    _estimator(mode, c, features.size, text_c, seeds[label]),
                    seeds[label],
                ),
                targets[label],
            )
            for label in learned
        }
        thresholds = _thresholds(oof)
        tp = fp = fn = 0
        for label, (p, y) in oof.items():
            predicted = p >= thresholds[label]
            tp += int(np.sum(predicted & (y == 1)))
            fp += int(np.sum(predicted & (y == 0)))
            fn += int(np.sum(~predicted & (y == 1)))
        score = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if best is None or score > best[0] + 1e-9:
            best, chosen_c, chosen_thresholds, chosen_oof = (score, c), c, thresholds, oof
    # hybrid: a label whose rules beat its model on the same out-of-fold rows stays with the rules
    cv_f1: dict[str, list[float]] = {}
    if hybrid:
        rule_name = "rules_relevant" if kind == "relevance" else "rules_selected"
        for label in list(learned):
            p, y = chosen_oof[label]
            by_rules = np.array([row.get(rule_name, 0.0) >= 0.5 for row in rule_rows[label]])
            cv_f1[label] = [round(_f1(p >= chosen_thresholds[label], y), 4), round(_f1(by_rules, y), 4)]
            if cv_f1[label][1] > cv_f1[label][0]:
                learned.remove(label)
                fallback.append(label)
    models: dict[str, LabelModel] = {}
    for label in learned:
        y = targets[label]
        estimator = _estimator(mode, chosen_c, features.size, text_c, seeds[label])
        coef, intercept, platt = _calibrated(design[label], y, estimator, seeds[label])
        models[label] = LabelModel(
            label,
            coef[: features.size],
            coef[features.size :],
            intercept,
            platt,
            chosen_thresholds[label],
            int(y.sum()),
        )
    return KindModel(kind, names, mean, scale, models, fallback, chosen_c, cv_f1)


def _f1(predicted: np.ndarray, y: np.ndarray) -> float:
    tp = float(np.sum(predicted & (y == 1)))
    return 2 * tp / (float(predicted.sum()) + float(y.sum())) if tp else 0.0


def _thresholds(oof: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Per label, the threshold with the best F1 on its out-of-fold probabilities."""
    return {label: best_threshold(p, y) for label, (p, y) in oof.items()}


def fit(train: Sequence[Example], tagger: Tagger, meta: dict[str, Any] | None = None) -> str:
    """Every mode's models from the training examples, as the model file's text."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        features = vocabulary(train)
        modes: dict[str, dict[str, KindModel]] = {}
        for mode in MODES_TRAINED:  # learned first: the hybrid reuses its text regularisation
            modes[mode] = {
                kind: fit_kind(
                    kind,
                    mode,
                    train,
                    features,
                    ["relevant"] if kind == "relevance" else list(tagger.vocab[kind + "s"]),
                    text_c=modes["learned"][kind].c if "learned" in modes else 1.0,
                )
                for kind in ("relevance", "sector", "theme")
            }
    return dump_models(features, modes, GATES, meta or {})


# -- cross-validation -------------------------------------------------------------------------------


def cross_validated_outputs(
    items: Sequence[dict[str, Any]], modes: Sequence[str], tagger: Tagger | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Per mode, `hkai tag` outputs for every item from models trained on the other folds (the whole
    training procedure, its own inner cross-validation included, runs once per fold)."""
    from sklearn.model_selection import StratifiedKFold

    base = tagger or Tagger(mode="rules")
    every = examples(items, base)
    y = np.array([int(e.relevant) for e in every])
    outputs: dict[str, list[dict[str, Any]]] = {mode: [{}] * len(items) for mode in modes}
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y):
        text = fit([every[i] for i in train], base)
        for mode in modes:
            fold_tagger = base.using(parse_models(text, mode))
            for i in test:
                item = items[i]
                outputs[mode][i] = fold_tagger.tag(item.get("title"), item.get("body")).as_output()
    return outputs


# -- entry point ------------------------------------------------------------------------------------


def train(path: Path = MODEL_PATH) -> dict[str, Any]:
    files = split_files(TRAINING_SPLIT)
    items = load_split(TRAINING_SPLIT)
    tagger = Tagger(mode="rules")
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()
    meta = {
        "trained_on": [str(p.relative_to(REPO_ROOT)) for p in files],
        "items": len(items),
        "data_sha256": digest,
        "seed": SEED,
        "min_positives": MIN_POSITIVES,
        "c_grid": C_GRID,
    }
    started = time.perf_counter()
    text = fit(examples(items, tagger), tagger, meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    content = model_bytes(text) if path.suffix == ".gz" else text.encode("utf-8")
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(content)
    partial.replace(path)  # a reader never sees half a model
    return {
        "path": path,
        "bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "seconds": time.perf_counter() - started,
        "items": len(items),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=MODEL_PATH, help="where to write the model file")
    args = parser.parse_args(argv)
    result = train(args.output)
    print(
        f"trained on {result['items']} dev items in {result['seconds']:.1f} s: "
        f"{result['path']} ({result['bytes'] / 1e6:.2f} MB, sha256 {result['sha256'][:16]})"
    )
    model = json.loads(read_model_text(Path(result["path"])))
    for mode, block in model["modes"].items():
        for kind, data in block["kinds"].items():
            chosen = ", ".join(
                f"{label} {m['threshold']:.2f} ({m['positives']})" for label, m in data["models"].items()
            )
            rules = (
                f"; rules decide: {', '.join(data['fallback'])}"
                if data["fallback"] and mode == "hybrid"
                else ""
            )
            print(f"{mode} {kind}: {chosen or '-'}{rules}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
