"""The mention model (`transforms.mentions`): capitalised runs, their features, the fast scoring path,
the tagger's use of it, and `make train` rebuilding it from the dev labels.

Texts are real labelled items (`tests/data/tagging/`, each with its page address in the file)."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import pytest

from transforms import train_mentions
from transforms.mentions import (
    MENTIONS_PATH,
    MentionModelError,
    candidate_runs,
    features,
    find_learned,
    han_runs,
    load_mention_model,
    lower_words_of,
    non_overlapping,
    runs,
    script,
)
from transforms.tagging import Tagger
from transforms.text import fold
from transforms.train import load_split

# Sentence openers and other capitalised words that are never names by themselves
NEVER_NAMES = {
    "the",
    "in",
    "but",
    "however",
    "he",
    "she",
    "it",
    "this",
    "they",
    "we",
    "and",
    "a",
    "as",
    "for",
}


@pytest.fixture(scope="module")
def dev() -> list[dict]:
    return load_split("dev")


@pytest.fixture(scope="module")
def by_id(dev: list[dict]) -> dict[str, dict]:
    return {item["id"]: item for item in dev}


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(mode="rules")


def _proposals(tagger: Tagger, item: dict) -> dict[str, str]:
    output = tagger.tag(item["title"], item["body"], item["language"]).as_output()
    return {e["name"]: e["type"] for e in output["entities"] if e.get("found_by") == "model"}


def test_runs_are_capitalised_word_sequences_with_their_small_words() -> None:
    # "of" and "&" inside a name, "iPhone" not read as "Phone", "The X" also as "X", every occurrence
    # kept; a possessive or a job title splits a run into two names, and a date after a name is cut off
    text = (
        "The Law Reform Commission met Ernst & Young on Monday. Norway’s Norges Bank sold shares. "
        "An iPhone app by Bank of China (Hong Kong) went live; the Law Reform Commission agreed. "
        "NASA Administrator Jim Bridenstine and Christopher D. Smith told the House Intelligence "
        "Committee Tuesday."
    )
    found = {run.surface: run.starts for run in runs(text)}
    assert "Law Reform Commission" in found and len(found["Law Reform Commission"]) == 2
    assert "Ernst & Young" in found and "Ernst & Young on Monday" not in found
    assert "Norway" in found and "Norges Bank" in found and "Norway’s Norges Bank" not in found
    assert "Bank of China" in found and "Hong Kong" in found
    assert "Phone" not in found and "iPhone" not in found
    assert {"NASA", "Jim Bridenstine", "Christopher D. Smith", "House Intelligence Committee"} <= set(found)
    assert not any("Administrator" in name or "Tuesday" in name for name in found)
    for name, starts in found.items():  # every offset is where the name is
        assert all(text[start : start + len(name)] == name for start in starts)
    assert runs("香港人工智能研發院今日成立。") == []  # no Latin capital: nothing read


def test_overlapping_proposals_keep_the_likeliest() -> None:
    proposals = [
        (0.6, 0, 26, "Martin Taylor of Aberdeenshire"),
        (0.9, 0, 13, "Martin Taylor"),
        (0.5, 40, 44, "BBC"),
    ]
    assert non_overlapping(proposals) == ["Martin Taylor", "BBC"]


def test_chinese_names_are_a_surname_and_one_or_two_characters() -> None:
    found = {run.surface: run.starts for run in han_runs("民主黨林子健被捕，林子健的律師稱AI無關。")}
    assert found["林子健"] == (3, 9) and "林子" in found
    # no function word in a given name (林子健的 is not read as a three-character name ending in 的),
    # no Latin letter, nothing that does not start with a surname
    assert "子健的" not in found and "健的律" not in found and not any("A" in s for s in found)
    assert han_runs("In Hong Kong, the AI lab opened.") == []


def test_features_describe_the_words_the_context_and_the_shape() -> None:
    text = "Sun Dong said the AISC would open. Sun Dong added that AI helps."
    run = next(r for r in runs(text) if r.surface == "AISC")
    feats = features(text, run, 0, lower_words_of(text))
    assert {"w=aisc", "upper", "b0=the", "b1=said", "a0=would", "count=1"} <= set(feats)
    said = next(r for r in runs(text) if r.surface == "Sun Dong")
    assert "count=2" in features(text, said, 0, lower_words_of(text))


@pytest.mark.parametrize(
    ("item_id", "name", "entity_type"),
    [
        ("web-smi24-42f6f233", "Alan Hao Hsu", "person"),  # a study's authors, no title before them
        ("rthk-en-1831472", "Yingda Securities", "company"),
        ("web-prologuejournal-d109a3f8", "University Grants Commission", "government-body"),
        ("hkcnews-41243", "簡小明", "person"),  # a Chinese name with no title or verb beside it
        ("web-hk01-37bc0ffe", "陳湘群", "person"),
    ],
)
def test_the_model_proposes_names_no_pattern_finds(
    tagger: Tagger, by_id: dict[str, dict], item_id: str, name: str, entity_type: str
) -> None:
    item = by_id[item_id]
    labelled = {fold(m): e["type"] for e in item["entities"] for m in e["mentions"]}
    assert labelled[fold(name)] == entity_type  # the annotator's label
    assert name not in _proposals(tagger.using_mentions(None), item)  # not found without the model
    assert _proposals(tagger, item)[name] == entity_type


def test_proposals_are_never_known_names_openers_or_in_stories_not_relevant(
    tagger: Tagger, dev: list[dict]
) -> None:
    """Over every English dev item: a knowledge-base form is never proposed as new (an ambiguous
    "Apple" whose context check failed stays out), nor a sentence opener, and stories the tagger
    finds not relevant get no proposals at all."""
    proposed = 0
    for item in (i for i in dev if i["language"] == "en"):
        output = tagger.tag(item["title"], item["body"], item["language"]).as_output()
        names = [e for e in output["entities"] if e.get("found_by") == "model"]
        proposed += len(names)
        assert output["relevant"] or not names
        for entity in names:
            assert fold(entity["name"]) not in tagger._known_surface_forms
            assert entity["name"].lower() not in NEVER_NAMES
            assert entity["kb_id"] is None and 0.0 < entity["probability"] <= 1.0
    assert proposed > 100


def test_the_fast_path_decides_as_scoring_every_feature(tagger: Tagger, dev: list[dict]) -> None:
    """`find_learned` scores a run's own text once per surface (cached) and the rest per article; its
    proposals must be exactly the runs whose full features reach the threshold (the likeliest of
    overlapping ones)."""
    model = load_mention_model()
    checked = 0
    for item in dev[::3]:
        view = tagger.analyse(item["title"], item["body"])
        article = view.article
        named = [m for e in view.entities.found for m in e["mentions"]]
        reaching = []
        lower = None
        for text, run in candidate_runs(article.title, article.body, named, tagger._known_surface_forms):
            lower = lower if lower is not None else lower_words_of(text)
            p = model.probability(features(text, run, len(article.title), lower))
            if p >= model.thresholds[script(run.surface)]:
                reaching.append((p, run.starts[0], run.starts[0] + len(run.surface), run.surface))
            checked += 1
        expected = set(non_overlapping(reaching))
        found = find_learned(
            article.title, article.body, named, tagger._known_surface_forms, model, limit=1000
        )
        assert {c["name"] for c in found} == expected, item["id"]
    assert checked > 1000


def test_without_a_model_file_new_names_come_from_the_patterns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(MentionModelError):
        load_mention_model(tmp_path / "missing.json.gz")
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(gzip.compress(b'{"format": 99}'))
    with pytest.raises(MentionModelError, match="format"):
        load_mention_model(broken)
    monkeypatch.setattr(load_mention_model, "__defaults__", (tmp_path / "missing.json.gz",))
    with caplog.at_level(logging.WARNING):
        tagger = Tagger(mode="rules")
    assert tagger.mention_model is None
    assert "patterns alone" in caplog.text


def test_make_train_rebuilds_the_checked_in_mention_model(tmp_path: Path) -> None:
    """The checked-in file is what `python -m transforms.train_mentions` makes from today's dev files
    (the same data hash, thresholds, features and weights to rounding)."""
    checked_in = json.loads(gzip.decompress(MENTIONS_PATH.read_bytes()))
    result = train_mentions.train(tmp_path / "mentions.json.gz")
    rebuilt = json.loads(gzip.decompress((tmp_path / "mentions.json.gz").read_bytes()))
    assert rebuilt["meta"]["data_sha256"] == checked_in["meta"]["data_sha256"], "run `make train`"
    assert rebuilt["thresholds"] == checked_in["thresholds"] == result["thresholds"]
    assert rebuilt["meta"]["cv_entity_f1"] == checked_in["meta"]["cv_entity_f1"]
    old, new = checked_in["name"]["weights"], rebuilt["name"]["weights"]
    assert max(abs(old.get(f, 0.0) - new.get(f, 0.0)) for f in set(old) | set(new)) < 1e-3
    assert rebuilt["type"]["classes"] == checked_in["type"]["classes"]
    # what the model adds on dev, cross-validated, is recorded with it: it must help
    figures, chosen = rebuilt["meta"]["cv_entity_f1"], rebuilt["thresholds"]
    assert figures[f"latin {chosen['latin']:.2f}"] > figures["without"]
    assert figures[f"han {chosen['han']:.2f}"] > figures[f"latin {chosen['latin']:.2f}"]


def test_a_known_name_joined_to_another_by_and_is_two_names(tagger: Tagger, by_id: dict[str, dict]) -> None:
    # "partnership between Hong Kong Polytechnic University and Diocesan Girls’ School": the whole run
    # is two names; only the side the knowledge base does not know is left for the model to score
    item = by_id["web-asiaeducationreview-abe962ba"]
    joined = "Hong Kong Polytechnic University and Diocesan Girls"
    assert any(run.surface.startswith(joined) for run in runs(item["body"]))
    scored = {
        run.surface
        for _, run in candidate_runs(
            item["title"], item["body"], ["Hong Kong Polytechnic University"], tagger._known_surface_forms
        )
    }
    assert not any(" and " in surface and "Polytechnic" in surface for surface in scored)
    assert any(surface.startswith("Diocesan Girls") for surface in scored)


def test_runs_keep_accented_latin_letters() -> None:
    # an accented letter neither ends a name nor starts a new one ("F" of "Fédération" was a run alone)
    text = "Björn Ulvaeus met the Fédération de la Haute Couture in Zürich; the price was 3×4."
    found = [run.surface for run in runs(text)]
    assert {"Björn Ulvaeus", "Fédération de la Haute Couture", "Zürich"} <= set(found)
    assert "F" not in found and "Bj" not in found
