"""The learned half of the tagger: calibrated linear models over text n-grams and the rules' scores.

One binary model per decision (relevance, each sector, each theme: one-vs-rest), each a logistic
regression over

- text n-grams of the folded text (`transforms.text.fold`): Chinese character 2- and 3-grams (no
  word segmentation needed) and Latin word 1- and 2-grams, as sublinear tf-idf, L2-normalised;
- in `hybrid` mode also the rule features the tagger computes (`Tagger.relevance_features`,
  `Tagger.label_features`): AI and Hong Kong weights against what the rules need, the rules' own
  decision, matched-vocabulary counts and scores per label, the KB entity types the article names.

Probabilities are Platt-calibrated on cross-validation folds and each label has its own threshold,
chosen by cross-validation on the development data (`transforms.train`, which writes the model).
A label with too few labelled examples to learn from keeps the rules' decision (`hybrid`) or is never
predicted (`learned`).

Inference needs no scikit-learn: the model is a gzipped JSON file of coefficients
(`transforms/kb/model/tagger.json.gz`; each model's weights as integers times one scale, which keeps
the file small: 1.2 MB from 999 dev items), and n-grams are counted with one Aho-Corasick pass over the
article (`ahocorasick-rs`) plus a regex tokenisation for Latin words.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import ahocorasick_rs
import numpy as np

from transforms.kb import KB_DIR

MODEL_PATH = KB_DIR / "model" / "tagger.json.gz"
MODES = ("rules", "learned", "hybrid")
FORMAT = 3
# Text weights are stored as integers in [-QUANT_LEVELS, QUANT_LEVELS] times one scale per model (the
# largest weight / QUANT_LEVELS): a weight's error is at most 1/2,000 of the model's largest, and the
# weights too small to round to 1 are dropped, which keeps the file small.
QUANT_LEVELS = 1023
KINDS = ("relevance", "sector", "theme")

log = logging.getLogger(__name__)

_FIRST = itemgetter(0)  # the pattern index of an Aho-Corasick match tuple
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
HAN_SIZES = (2, 3)  # character n-grams of Chinese runs
LATIN_SIZES = (1, 2)  # word n-grams of Latin text


class ModelError(ValueError):
    """The model file is missing, malformed or built for another knowledge base."""


# -- text features --------------------------------------------------------------------------------


def han_ngrams(folded: str) -> Iterable[str]:
    """Every character n-gram (HAN_SIZES) inside each run of Chinese characters."""
    for run in _HAN_RUN.findall(folded):
        size = len(run)
        for n in HAN_SIZES:
            for start in range(size - n + 1):
                yield run[start : start + n]


def latin_ngrams(folded: str) -> list[str]:
    """Latin word n-grams (LATIN_SIZES) of folded (lower-case) text: consecutive `[a-z0-9]+` tokens."""
    tokens = _LATIN_WORD.findall(folded)
    grams = list(tokens) if 1 in LATIN_SIZES else []
    if 2 in LATIN_SIZES:
        grams += [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
    return grams


def article_text(folded_title: str, folded_body: str, entities: Iterable[tuple[str, str]] = ()) -> str:
    """The text the n-grams are read from: title and body, one line break between them, then a line
    of tokens for the knowledge-base entities the rules found (`(kb_id, type)` pairs): which bodies,
    companies and people a story names says much about its sector ("hkma" → finance, the Hospital
    Authority → healthcare) in either language, and the tokens are plain Latin words to the model."""
    pairs = list(entities)
    tokens = sorted(
        {_entity_token("kb", kb_id) for kb_id, _ in pairs} | {_entity_token("kbtype", t) for _, t in pairs}
    )
    return (
        f"{folded_title}\n{folded_body}\n{' '.join(tokens)}" if tokens else f"{folded_title}\n{folded_body}"
    )


@lru_cache(maxsize=8192)
def _entity_token(prefix: str, name: str) -> str:
    return prefix + re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass
class SparseVector:
    index: np.ndarray  # feature indices, ascending
    value: np.ndarray

    @classmethod
    def empty(cls) -> SparseVector:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0))


class NgramFeatures:
    """Counts a fixed vocabulary of n-grams in folded text and turns the counts into sublinear tf-idf
    vectors, L2-normalised (the formula of scikit-learn's `TfidfTransformer(sublinear_tf=True)`).

    Chinese keys are counted with one overlapping Aho-Corasick pass (a key can only match inside a
    run of Chinese characters, so the counts equal those of `han_ngrams`); Latin keys by dictionary
    lookup of `latin_ngrams`."""

    def __init__(self, han: Sequence[str], latin: Sequence[str], idf: Sequence[float] | None = None):
        self.han = list(han)
        self.latin = list(latin)
        self.keys = self.han + self.latin
        self.size = len(self.keys)
        self.idf = np.ones(self.size) if idf is None else np.asarray(idf, dtype=float)
        if len(self.idf) != self.size:
            raise ModelError("idf and vocabulary differ in length")
        self._latin_ids = {key: len(self.han) + i for i, key in enumerate(self.latin)}
        self._finder = (
            ahocorasick_rs.AhoCorasick(
                self.han,
                matchkind=ahocorasick_rs.MatchKind.Standard,
                implementation=ahocorasick_rs.Implementation.ContiguousNFA,
            )
            if self.han
            else None
        )

    def counts(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the vocabulary keys found in `text` (ascending) and how often each occurs."""
        ids: list[int] = (
            list(map(_FIRST, self._finder.find_matches_as_indexes(text, overlapping=True)))
            if self._finder is not None
            else []
        )
        if self._latin_ids:
            get = self._latin_ids.get
            ids += [i for i in map(get, latin_ngrams(text)) if i is not None]
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        index, count = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
        return index, count

    def vector(self, text: str) -> SparseVector:
        index, count = self.counts(text)
        if not len(index):
            return SparseVector.empty()
        value = (1.0 + np.log(count)) * self.idf[index]
        return SparseVector(index, value / np.linalg.norm(value))

    def spans(self, key: int, title: str, body: str, folded_title: str, folded_body: str, limit: int = 2):
        """Where a vocabulary key occurs, in the tagger's evidence shape (offsets into the cleaned
        title and body; folding keeps offsets)."""
        gram = self.keys[key]
        if key < len(self.han):
            pattern = re.compile(re.escape(gram))
        else:
            words = [re.escape(w) for w in gram.split(" ")]
            pattern = re.compile(r"(?<![a-z0-9])" + r"[^a-z0-9]+".join(words) + r"(?![a-z0-9])")
        found: list[dict[str, Any]] = []
        for field_name, original, folded in (("title", title, folded_title), ("body", body, folded_body)):
            for match in pattern.finditer(folded):
                found.append(
                    {
                        "field": field_name,
                        "start": match.start(),
                        "end": match.end(),
                        "text": original[match.start() : match.end()],
                    }
                )
                if len(found) >= limit:
                    return found
        return found


# -- linear models ------------------------------------------------------------------------------


@dataclass
class LabelModel:
    """One calibrated binary model: p = 1 / (1 + exp(a·f + b)) for f = w·x + v·z + c, where x is the
    text vector and z the standardised rule features."""

    label: str
    text_coef: np.ndarray  # dense over the vocabulary
    rule_coef: np.ndarray  # over the kind's rule features (empty in `learned` mode)
    intercept: float
    platt: tuple[float, float]
    threshold: float
    positives: int

    def decision(self, text: SparseVector, rules: np.ndarray | None) -> float:
        value = self.intercept + float(text.value @ self.text_coef[text.index])
        if rules is not None and len(self.rule_coef):
            value += float(rules @ self.rule_coef)
        return value

    def probability(self, decision: float) -> float:
        a, b = self.platt
        exponent = a * decision + b
        if exponent > 500:
            return 0.0
        return 1.0 / (1.0 + math.exp(exponent))

    def top_text_features(self, text: SparseVector, count: int = 3) -> list[int]:
        """The vocabulary keys that pushed this decision up most (positive contributions only)."""
        if not len(text.index):
            return []
        contribution = text.value * self.text_coef[text.index]
        order = np.argsort(-contribution, kind="stable")[:count]
        return [int(text.index[i]) for i in order if contribution[i] > 0]


@dataclass
class KindModel:
    """The models of one kind (relevance, sector or theme), their rule features and how to scale them.
    `fallback` lists labels with too few examples: the rules decide them (hybrid) or nobody (learned)."""

    kind: str
    rule_features: list[str]
    rule_mean: np.ndarray
    rule_scale: np.ndarray
    models: dict[str, LabelModel]
    fallback: list[str]
    c: float = 1.0  # the regularisation cross-validation chose (for the record)
    # per label, the cross-validated F1 on dev of the model and of the rules (hybrid: the better decides)
    cv_f1: dict[str, list[float]] = field(default_factory=dict)

    def scaled(self, values: Mapping[str, float] | None) -> np.ndarray | None:
        if values is None or not self.rule_features:
            return None
        raw = np.array([float(values.get(name, 0.0)) for name in self.rule_features])
        return (raw - self.rule_mean) / self.rule_scale


@dataclass
class Decision:
    label: str
    probability: float
    selected: bool
    model: LabelModel | None  # None: the rules decided (a fallback label)


class LearnedModel:
    """Relevance, sector and theme models of one mode (`learned` or `hybrid`) over shared n-grams."""

    def __init__(
        self,
        mode: str,
        features: NgramFeatures,
        kinds: dict[str, KindModel],
        gate: str | None,
        meta: dict[str, Any],
    ):
        self.mode = mode
        self.features = features
        self.kinds = kinds
        # "strong-ai": the model is asked only about articles with a strong AI word (weight 2+); the
        # others cannot be about AI and are not relevant (it keeps the common case fast)
        self.gate = gate
        self.meta = meta

    @property
    def uses_rules(self) -> bool:
        return self.mode == "hybrid"

    def vector(
        self, folded_title: str, folded_body: str, entities: Iterable[tuple[str, str]] = ()
    ) -> SparseVector:
        return self.features.vector(article_text(folded_title, folded_body, entities))

    @property
    def rules_decide_relevance(self) -> bool:
        """Hybrid only: the rules beat the relevance model in cross-validation on dev."""
        return "relevant" not in self.kinds["relevance"].models

    def relevance(self, text: SparseVector, rules: Mapping[str, float] | None) -> Decision:
        kind = self.kinds["relevance"]
        model = kind.models["relevant"]
        p = model.probability(model.decision(text, kind.scaled(rules) if self.uses_rules else None))
        return Decision("relevant", p, p >= model.threshold, model)

    def labels(
        self,
        kind_name: str,
        text: SparseVector,
        rules: Mapping[str, Mapping[str, float]] | None,
        rule_selected: Mapping[str, float] | None = None,
    ) -> list[Decision]:
        """A decision for every label the model knows. `rules` maps each label to its rule features;
        `rule_selected` is the rules' own choice and confidence (used for fallback labels in hybrid)."""
        kind = self.kinds[kind_name]
        decisions: list[Decision] = []
        for label, model in kind.models.items():
            z = kind.scaled(rules.get(label, {})) if (self.uses_rules and rules is not None) else None
            p = model.probability(model.decision(text, z))
            decisions.append(Decision(label, p, p >= model.threshold, model))
        if self.uses_rules and rule_selected is not None:
            for label in kind.fallback:
                if label in rule_selected:
                    decisions.append(Decision(label, float(rule_selected[label]), True, None))
        return decisions

    # -- serialisation --------------------------------------------------------------------------
    @staticmethod
    def kind_to_json(kind: KindModel) -> dict[str, Any]:
        # sparse: the kind stores once the indices of the text features some model of it weighs
        # (as gaps between ascending indices: small numbers), each model its quantised weights there
        quantised = {label: _quantise(m.text_coef) for label, m in kind.models.items()}
        used = sorted(set().union(*(np.flatnonzero(q).tolist() for q, _ in quantised.values())))
        index = np.asarray(used, dtype=np.int64)
        return {
            "rule_features": kind.rule_features,
            "rule_mean": [_round(x) for x in kind.rule_mean],
            "rule_scale": [_round(x) for x in kind.rule_scale],
            "fallback": kind.fallback,
            "c": kind.c,
            "cv_f1": kind.cv_f1,
            "text_index_gaps": np.diff(index, prepend=0).tolist(),
            "models": {
                label: {
                    "intercept": _round(m.intercept),
                    "platt": [_round(m.platt[0]), _round(m.platt[1])],
                    "threshold": _round(m.threshold),
                    "positives": m.positives,
                    "rule_coef": [_round(x) for x in m.rule_coef],
                    "text_scale": quantised[label][1],
                    "text_coef": quantised[label][0][index].tolist(),
                }
                for label, m in kind.models.items()
            },
        }

    @staticmethod
    def kind_from_json(name: str, data: dict[str, Any], size: int) -> KindModel:
        index = np.cumsum(np.asarray(data["text_index_gaps"], dtype=np.int64))
        if len(index) and (index[-1] >= size or index[0] < 0):
            raise ModelError(f"the {name} models weigh text features outside the vocabulary")
        models: dict[str, LabelModel] = {}
        for label, m in data["models"].items():
            coef = np.zeros(size)
            coef[index] = np.asarray(m["text_coef"], dtype=float) * float(m["text_scale"])
            models[label] = LabelModel(
                label,
                coef,
                np.asarray(m["rule_coef"], dtype=float),
                float(m["intercept"]),
                (float(m["platt"][0]), float(m["platt"][1])),
                float(m["threshold"]),
                int(m["positives"]),
            )
        return KindModel(
            name,
            list(data["rule_features"]),
            np.asarray(data["rule_mean"], dtype=float),
            np.asarray(data["rule_scale"], dtype=float),
            models,
            list(data["fallback"]),
            float(data.get("c", 1.0)),
            {label: list(pair) for label, pair in data.get("cv_f1", {}).items()},
        )


def _quantise(coef: np.ndarray) -> tuple[np.ndarray, float]:
    """Integer weights and their scale: coef ≈ q × scale (the scale rounded first, so that the file
    holds exactly the numbers the tagger multiplies)."""
    largest = float(np.max(np.abs(coef))) if len(coef) else 0.0
    if largest == 0.0:
        return np.zeros(len(coef), dtype=np.int64), 1.0
    scale = _round(largest / QUANT_LEVELS)
    return np.rint(coef / scale).astype(np.int64), scale


def _round(value: float) -> float:
    """Five significant digits: small files, and the same bytes from the same training run."""
    return float(f"{float(value):.5g}")


def dump_models(
    features: NgramFeatures, modes: dict[str, dict[str, KindModel]], gates: dict[str, str | None], meta: dict
) -> str:
    """The model file: shared vocabulary and idf, then per mode its gate and kinds (deterministic JSON)."""
    document = {
        "format": FORMAT,
        "meta": meta,
        "vocabulary": {
            "han": features.han,
            "latin": features.latin,
            "idf": [_round(x) for x in features.idf],
        },
        "modes": {
            mode: {
                "gate": gates.get(mode),
                "kinds": {name: LearnedModel.kind_to_json(kind) for name, kind in kinds.items()},
            }
            for mode, kinds in modes.items()
        },
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def parse_models(text: str, mode: str) -> LearnedModel:
    data = json.loads(text)
    if data.get("format") != FORMAT:
        raise ModelError(f"model format {data.get('format')!r}, expected {FORMAT}: run `make train`")
    if mode not in data["modes"]:
        raise ModelError(f"the model file has no {mode!r} models: run `make train`")
    vocabulary = data["vocabulary"]
    features = NgramFeatures(vocabulary["han"], vocabulary["latin"], vocabulary["idf"])
    block = data["modes"][mode]
    kinds = {
        name: LearnedModel.kind_from_json(name, kind, features.size) for name, kind in block["kinds"].items()
    }
    if set(kinds) != set(KINDS):
        raise ModelError(f"the model file's {mode!r} block lacks {sorted(set(KINDS) - set(kinds))}")
    if "relevant" not in kinds["relevance"].models and not (
        mode == "hybrid" and "relevant" in kinds["relevance"].fallback
    ):
        raise ModelError(f"the {mode!r} model has no relevance model (too few relevant examples)")
    return LearnedModel(mode, features, kinds, block.get("gate"), data.get("meta", {}))


def model_bytes(text: str) -> bytes:
    """The model file's bytes: the JSON gzipped without a time stamp or name (same text, same bytes)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as out:
        out.write(text.encode("utf-8"))
    return buffer.getvalue()


def read_model_text(path: Path) -> str:
    """The JSON text of a model file (gzipped, or plain for a file named *.json)."""
    raw = path.read_bytes()
    try:
        return (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise ModelError(f"the model file {path} is damaged ({error}): run `make train`") from error


@lru_cache(maxsize=4)
def load_model(mode: str = "hybrid", path: Path | None = None) -> LearnedModel:
    """The checked-in model (`make train` rebuilds it); ModelError when missing or malformed."""
    path = path or MODEL_PATH
    if not path.exists():
        raise ModelError(f"no model at {path}: run `make train`")
    try:
        return parse_models(read_model_text(path), mode)
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ModelError):
            raise
        raise ModelError(f"the model file {path} is malformed ({error!r}): run `make train`") from error
