"""The labelled sets the tagger is trained and scored on: each item real, traceable and consistent.

Every item of every split names where it came from, every labelled mention occurs in its text word
for word, labels come from the vocabulary, and no item (by id or address) sits in two files, so
no held-out or blind item can leak into training. Second-annotator files relabel first-label items.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from transforms.kb import ENTITY_TYPES
from transforms.train import DATA, SPLIT_GLOBS, split_files

VOCAB = yaml.safe_load((DATA.parents[2] / "transforms" / "kb" / "vocab.yaml").read_text(encoding="utf-8"))
SECTORS, THEMES = set(VOCAB["sectors"]), set(VOCAB["themes"])
TYPES = set(ENTITY_TYPES)


def _items(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


FIRST_LABELS = {
    path: _items(path) for split in SPLIT_GLOBS if split != "heldout" for path in split_files(split)
}


def _address(item: dict[str, Any]) -> str | None:
    source = item.get("source")
    return item.get("url") or (source.get("url") if isinstance(source, dict) else None)


@pytest.mark.parametrize("path", sorted(FIRST_LABELS), ids=lambda p: p.name)
def test_every_item_is_traceable_and_consistent(path: Path) -> None:
    for item in FIRST_LABELS[path]:
        where = f"{path.name}:{item['id']}"
        assert item.get("source") or item.get("url"), f"{where}: no provenance"
        text = f"{item.get('title') or ''}\n{item.get('body') or ''}"
        for entity in item.get("entities", []):
            assert entity.get("type") in TYPES, f"{where}: type {entity.get('type')}"
            for mention in entity.get("mentions", []):
                assert mention in text, f"{where}: mention {mention!r} is not in the text"
        assert set(item.get("sectors") or []) <= SECTORS, where
        assert set(item.get("themes") or []) <= THEMES, where
        if not item["relevant"]:
            assert not item.get("sectors") and not item.get("themes"), f"{where}: labels on a negative"


def test_no_item_is_in_two_files() -> None:
    """By id and by address: a test or blind item copied into dev would be scored on its own training."""
    seen_ids: dict[str, str] = {}
    seen_addresses: dict[str, str] = {}
    for path, items in FIRST_LABELS.items():
        for item in items:
            assert seen_ids.setdefault(item["id"], path.name) == path.name, item["id"]
            address = _address(item)
            if address:
                assert seen_addresses.setdefault(address, path.name) == path.name, address
    assert len(seen_ids) > 2170 and {"blind9_", "blind13"} <= {p.name[:7] for p in FIRST_LABELS}


def test_second_labels_relabel_first_label_items() -> None:
    first = {item["id"] for items in FIRST_LABELS.values() for item in items}
    for path in sorted(DATA.glob("second_annotator*.jsonl")):
        items = _items(path)
        assert items and {item["id"] for item in items} <= first, path.name
