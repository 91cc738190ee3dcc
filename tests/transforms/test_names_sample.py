"""The new-name finder against the judged sample in tests/data/tagging/names_sample.jsonl: real
contexts from the RTHK and GIA feeds of snapshots/demo and from the labelled sets, each candidate
judged by reading it (tests/data/tagging/NAMES.md says how and where each comes from)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tests.paths import DATA
from transforms.eval_tag import names_precision, wilson
from transforms.mentions import runs
from transforms.names import find_candidates

SAMPLE = DATA / "tagging" / "names_sample.jsonl"


@cache
def _judged() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line]


def _found(context: str) -> set[tuple[str, str]]:
    return {(c["name"], c["type"]) for c in find_candidates("", context)}


def test_every_judgement_has_its_context_and_source() -> None:
    rows = _judged()
    assert {r["sample"] for r in rows} == {
        "zh-feed-before",
        "zh-feed-after",
        "en-heldout-after",
        "feed-new-patterns",
        "feed-new-patterns-2",
        "feed-new-patterns-3",
        "mention-model-1",
        "mention-model-2",
        "mention-model-3",
    }
    for row in rows:
        assert row["name"] in row["context"] and row["source"]
        assert row["correct"] or row["note"]  # a wrong candidate says why


def test_errors_read_in_the_tuning_sample_are_not_queued_again() -> None:
    """Words (周三, 嚴正表示, 中方始終), forms of address (黃先生) and cut names (羅娃 of 扎哈羅娃)."""
    errors = [r for r in _judged() if r["sample"] == "zh-feed-before" and not r["correct"]]
    assert len(errors) >= 20
    for row in errors:
        assert (row["name"], row["type"]) not in _found(row["context"]), row["note"]


def test_errors_fixed_after_the_second_new_pattern_sample_stay_fixed() -> None:
    """A name cut at 與/和/及 (陳福 of 陳福和), a company run that starts with a job title or holds a
    sentence break, and a "system" whose words are not all capitalised: judged wrong, then fixed."""
    fixed = {
        "陳福",
        "周霽以",
        "CEO Andy Vesey",
        "CEO of Hipcricket",
        "Heading to System",
        "Dokumenten. Die App",
    }
    rows = [r for r in _judged() if r["sample"] == "feed-new-patterns-2" and r["name"] in fixed]
    assert len(rows) == len(fixed) and not any(r["correct"] for r in rows)
    for row in rows:
        found = {(c["name"], c["type"]) for c in find_candidates("", row["context"], organisations=True)}
        assert (row["name"], row["type"]) not in found, row["note"]


def test_a_married_name_is_kept_whole() -> None:
    # 西九文化區管理局行政總裁馮程淑儀表示: 馮 is the husband's surname, not the end of the title
    row = next(r for r in _judged() if r["name"] == "程淑儀")
    assert ("馮程淑儀", "person") in _found(row["context"])


def test_two_organisations_joined_by_and_are_two() -> None:
    row = next(r for r in _judged() if r["name"] == "Sino Group")
    found = _found(row["context"])
    # a group is a company (its legal ending), a foundation an organisation
    assert {("Ng Teng Fong Charitable Foundation", "organisation"), ("Sino Group", "company")} <= found
    assert not any(" and Sino" in name for name, _ in found)


def test_precision_table_counts_the_judgements() -> None:
    rows = _judged()
    table = names_precision(SAMPLE)
    for sample in {r["sample"] for r in rows}:
        judged = [r for r in rows if r["sample"] == sample]
        correct = sum(r["correct"] for r in judged)
        assert f"| {sample} | {len(judged)} | {correct} | {correct / len(judged):.3f} |" in table
    low, high = wilson(116, 120)
    assert low < 116 / 120 < high and 0.0 < low and high < 1.0


def test_run_boundaries_judged_wrong_in_the_first_mention_model_sample_are_not_read_again() -> None:
    """The mention model's first judged sample (2026-11-27) found names with a possessive, a job title,
    a date or a place attached, and names cut at a middle initial; the runs it reads were then fixed."""
    boundary_errors = {
        "SpaceX's Starship",
        "Mike Ford’s",
        "Britain's Conservative Party",
        "NASA Administrator Jim Bridenstine",
        "CPUC President Marybel Batjer",
        "InfoNation President Dan McDowell",
        "House Intelligence Committee Tuesday",
        "Carla Babb on Nov",
        "Christopher D",
        "Victor N",
        "Ryan S",
        "Patrick W",
        "Jonathan P",
        "Christopher L",
    }
    rows = [r for r in _judged() if r["sample"] == "mention-model-1" and r["name"] in boundary_errors]
    assert len(rows) == len(boundary_errors) and not any(r["correct"] for r in rows)
    for row in rows:
        assert row["name"] not in {run.surface for run in runs(row["context"])}, row["note"]
