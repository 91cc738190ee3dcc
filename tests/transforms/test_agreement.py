"""Annotator agreement is scored like the tagger: shared mentions for entities, micro-F1 for labels."""

from __future__ import annotations

from transforms.eval_agreement import agreement, cohen_kappa

FIRST = {
    "a": {
        "id": "a",
        "relevant": True,
        "entities": [
            {"name": "Cyberport", "type": "organisation", "mentions": ["數碼港"]},
            {"name": "HKMA", "type": "government-body", "mentions": ["金管局"]},
        ],
        "sectors": ["finance"],
        "themes": ["regulation-policy", "partnership"],
    },
    "b": {"id": "b", "relevant": False, "entities": [], "sectors": [], "themes": []},
}


def test_identical_labels_agree_fully() -> None:
    report = agreement(FIRST, list(FIRST.values()))
    assert report["entities"]["f1"] == report["typed"]["f1"] == 1.0
    assert report["sectors"]["f1"] == report["themes"]["f1"] == 1.0
    assert report["relevance"]["f1"] == 1.0 and report["relevance_kappa"] == 1.0


def test_partial_agreement_is_counted_per_label() -> None:
    second = [
        {
            "id": "a",
            "relevant": True,
            # one entity shares a (Simplified) mention but is typed differently; one is missed
            "entities": [{"name": "Cyberport", "type": "company", "mentions": ["数码港"]}],
            "sectors": ["finance", "infrastructure"],
            "themes": ["regulation-policy"],
        },
        {"id": "b", "relevant": True, "entities": [], "sectors": [], "themes": []},
    ]
    report = agreement(FIRST, second)
    assert report["entities"]["precision"] == 1.0 and report["entities"]["recall"] == 0.5
    assert report["typed"]["f1"] == 0.0
    assert round(report["sectors"]["f1"], 3) == 0.667  # 1 shared of 1 and 2
    assert round(report["themes"]["f1"], 3) == 0.667
    assert report["per_label"]["sector:infrastructure"]["f1"] == 0.0
    assert report["relevance"]["precision"] == 0.5


def test_kappa_discounts_chance_agreement() -> None:
    assert cohen_kappa([(True, True), (False, False)]) == 1.0
    assert cohen_kappa([(True, False), (False, True)]) == -1.0
    assert cohen_kappa([(False, False)] * 9 + [(True, False)]) == 0.0
