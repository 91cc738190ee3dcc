"""The learned half of the tagger: features, the model file, training, splits and the hybrid's output."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from transforms import train
from transforms.eval_tag import evaluate
from transforms.learned import (
    MODEL_PATH,
    NgramFeatures,
    han_ngrams,
    latin_ngrams,
    load_model,
    parse_models,
    read_model_text,
)
from transforms.tagging import Tagger, default_tagger
from transforms.text import clean_text, clean_title, fold


@pytest.fixture(scope="module")
def rules() -> Tagger:
    return Tagger(mode="rules")


@pytest.fixture(scope="module")
def dev() -> list[dict]:
    return train.load_split("dev")


TEXTS = [
    fold(
        "金管局推生成式人工智能沙盒　銀行可測試AI應用\nThe HKMA and Cyberport launched a GenAI sandbox for banks."
    ),
    fold("數碼港人工智能超算中心今日啟用，為香港初創提供算力。AI supercomputing centre opens."),
    fold("Sunny in Hong Kong. 天文台預測明日天晴。"),
]


def test_automaton_counts_equal_the_enumerated_ngrams() -> None:
    """Training enumerates n-grams; tagging counts them with one automaton pass: the same numbers, for
    a full vocabulary and for one that lacks some n-grams, at the edges of the Chinese ranges and
    next to a character outside the Basic Plane (𠝹, not a Chinese character to `_HAN_RUN`)."""
    texts = [*TEXTS, fold("山﨑教授：𠝹開AI黑盒　㐀㐁 一一一一"), "", "a"]
    grams = sorted({g for t in texts for g in han_ngrams(t)})
    words = sorted({g for t in texts for g in latin_ngrams(t)})
    for vocabulary in (grams, grams[::2]):
        features = NgramFeatures(vocabulary, words)
        for text in texts:
            counted = Counter(list(han_ngrams(text)) + latin_ngrams(text))
            expected = {key: n for key, n in counted.items() if key in features.keys}
            index, count = features.counts(text)
            assert list(index) == sorted(index)
            assert {features.keys[i]: int(c) for i, c in zip(index, count, strict=True)} == expected
    assert "人工智能" not in grams and "人工智" in grams and "ai" in words and "genai sandbox" in words
    assert "山﨑" in grams and "㐀㐁" in grams and "一一一" in grams


def test_vectors_are_scikit_learns_sublinear_tfidf() -> None:
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfTransformer

    grams = sorted({g for t in TEXTS for g in han_ngrams(t)})
    words = sorted({g for t in TEXTS for g in latin_ngrams(t)})
    features = NgramFeatures(grams, words)
    counts = np.zeros((len(TEXTS), features.size))
    for row, text in enumerate(TEXTS):
        index, count = features.counts(text)
        counts[row, index] = count
    transformer = TfidfTransformer(sublinear_tf=True).fit(sparse.csr_matrix(counts))
    features.idf = np.log((1 + len(TEXTS)) / (1 + (counts > 0).sum(axis=0))) + 1.0
    assert np.allclose(features.idf, transformer.idf_)
    expected = transformer.transform(sparse.csr_matrix(counts)).toarray()
    for row, text in enumerate(TEXTS):
        vector = features.vector(text)
        dense = np.zeros(features.size)
        dense[vector.index] = vector.value
        assert np.allclose(dense, expected[row])


def test_splits_glob_by_prefix_and_keep_blind_apart(tmp_path: Path) -> None:
    for name in (
        "dev.jsonl",
        "dev_more.jsonl",
        "dev_pool_x.jsonl",
        "test.jsonl",
        "test_pool_x.jsonl",
        "test2.jsonl",
        "blind13_web_x.jsonl",
        "dev_read_blind3_web_x.jsonl",
        "second_annotator.jsonl",
    ):
        (tmp_path / name).write_text(json.dumps({"id": name}) + "\n", encoding="utf-8")

    def names(split: str) -> list[str]:
        return [p.name for p in train.split_files(split, tmp_path)]

    assert names("dev") == ["dev.jsonl", "dev_more.jsonl", "dev_pool_x.jsonl", "dev_read_blind3_web_x.jsonl"]
    assert names("test") == ["test.jsonl", "test_pool_x.jsonl"]
    assert names("test2") == ["test2.jsonl"]
    assert names("heldout") == ["test.jsonl", "test_pool_x.jsonl", "test2.jsonl"]
    assert names("blind13") == ["blind13_web_x.jsonl"]
    assert train.TRAINING_SPLIT == "dev"


def test_checked_in_model_is_small_and_trained_on_dev_only() -> None:
    # 2.2 MB from 1,732 dev items (it grows with the labelled data: 1.5 MB from 1,178): small enough to
    # check in; the bound catches a runaway (dense weights over the whole vocabulary would be several
    # times larger)
    assert MODEL_PATH.stat().st_size < 3_000_000
    meta = json.loads(read_model_text(MODEL_PATH))["meta"]
    assert meta["trained_on"] and all(Path(p).name.startswith("dev") for p in meta["trained_on"])
    for mode in ("hybrid", "learned"):
        model = load_model(mode)
        assert set(model.kinds) == {"relevance", "sector", "theme"}
        for kind in model.kinds.values():
            assert all(0.0 < m.threshold < 1.0 for m in kind.models.values())
    # hybrid: each label is decided by whichever did better in cross-validation on dev, model or rules
    for kind in load_model("hybrid").kinds.values():
        for label, (model_f1, rules_f1) in kind.cv_f1.items():
            assert (label in kind.models) == (model_f1 >= rules_f1), (kind.kind, label)
            assert (label in kind.fallback) == (rules_f1 > model_f1), (kind.kind, label)
        assert set(kind.models) | set(kind.fallback) >= set(kind.cv_f1)


def test_training_is_deterministic_and_round_trips(
    rules: Tagger, dev: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train, "C_GRID", {"learned": (10.0,), "hybrid": (0.3,)})
    monkeypatch.setattr(train, "FOLDS", 3)
    sample = [i for i in dev if i["relevant"]][:30] + [i for i in dev if not i["relevant"]][:30]
    examples = train.examples(sample, rules)
    first = train.fit(examples, rules, {"test": True})
    assert first == train.fit(examples, rules, {"test": True})  # same bytes
    model = parse_models(first, "hybrid")
    again = parse_models(json.dumps(json.loads(first)), "hybrid")
    tagger, other = rules.using(model), rules.using(again)
    for item in sample[:10]:
        assert (
            tagger.tag(item["title"], item["body"]).as_output()
            == other.tag(item["title"], item["body"]).as_output()
        )


def test_every_label_of_the_hybrid_carries_evidence(dev: list[dict]) -> None:
    tagger = default_tagger()
    assert tagger.mode == "hybrid"
    labelled = 0
    for item in dev[:150]:
        result = tagger.tag(item["title"], item["body"])
        texts = {"title": clean_title(item["title"]), "body": clean_text(item["body"])}
        for kind, found in (("sectors", result.sectors), ("themes", result.themes)):
            for label in found:
                spans = result.evidence[kind][label[kind[:-1]]]
                assert spans, (item["id"], label)
                labelled += 1
                for span in spans:
                    # items in dev are clean text: offsets point into title and body as given
                    assert texts[span["field"]][span["start"] : span["end"]] == span["text"]
        if result.relevant:
            assert 0.0 <= result.relevance <= 1.0
    assert labelled > 20


def test_article_without_a_strong_ai_word_is_not_asked(rules: Tagger) -> None:
    tagger = rules.using(load_model("hybrid"))
    result = tagger.tag("政府推動數碼化", "香港政府今日公布智慧城市及數據政策，推動創科發展。")
    assert not result.relevant and result.relevance == 0.0


def test_missing_model_falls_back_to_the_rules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import transforms.tagging as tagging
    from transforms.learned import ModelError

    def missing(mode: str = "hybrid", path: Path | None = None):
        raise ModelError("no model")

    monkeypatch.setattr(tagging, "load_model", missing)
    tagger = Tagger()
    assert tagger.mode == "rules" and tagger.learned is None
    with pytest.raises(ValueError):
        Tagger(mode="neural")


def test_eval_reports_typed_entities_and_candidates() -> None:
    item = {
        "relevant": True,
        "entities": [
            {"name": "HKMA", "type": "government-body", "mentions": ["金管局"]},
            {"name": "Judy Cui", "type": "person", "mentions": ["Judy Cui"]},
        ],
        "sectors": ["finance"],
        "themes": [],
    }
    output = {
        "relevant": True,
        "entities": [
            {"name": "HKMA", "type": "organisation", "kb_id": "hkma", "mentions": ["金管局"]},
            {"name": "Judy Cui", "type": "person", "kb_id": None, "mentions": ["Judy Cui"]},
            {"name": "Air India", "type": "person", "kb_id": None, "mentions": ["Air India"]},
        ],
        "sectors": ["finance"],
        "themes": [],
    }
    report = evaluate([item], [output])
    assert report["entities"]["precision"] == pytest.approx(2 / 3)
    assert report["entities"]["recall"] == 1.0
    assert report["entities_typed"]["precision"] == pytest.approx(1 / 3)
    assert report["entities_typed"]["recall"] == pytest.approx(1 / 2)
    assert report["candidates"] == {"count": 2, "precision": 0.5, "typed_precision": 0.5}


def test_hybrid_leaves_relevance_to_the_rules_when_they_won(rules: Tagger, dev: list[dict]) -> None:
    """When cross-validation found the rules better at relevance, the hybrid keeps their decision
    (labels still come from the models)."""
    model = parse_models(read_model_text(MODEL_PATH), "hybrid")  # a fresh copy, not the cached one
    relevance = model.kinds["relevance"]
    relevance.fallback.append("relevant")
    relevance.models.pop("relevant")
    assert model.rules_decide_relevance
    tagger = rules.using(model)
    for item in dev[:60]:
        view = rules.analyse(item["title"], item["body"])
        result = tagger.tag(item["title"], item["body"])
        assert result.relevant == view.relevant
        assert result.relevance == (view.relevance if view.has_strong_ai else 0.0)
