"""The knowledge base as data: entities (entities/*.yaml) and topic vocabulary (vocab.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

KB_DIR = Path(__file__).resolve().parent
ENTITY_TYPES = (
    "company",
    "university",
    "research-institute",
    "government-body",
    "organisation",
    "programme",
    "person",
    "product",
)
# Types whose presence gives a story a Hong Kong angle (most KB companies and products are global).
LOCAL_TYPES = {"university", "research-institute", "government-body", "organisation", "programme"}


@dataclass(frozen=True)
class KbEntity:
    id: str
    name: str
    type: str
    zh_hant: str | None = None
    zh_hans: str | None = None
    aliases: tuple[str, ...] = ()
    ambiguous_aliases: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    parent: str | None = None
    source: str | None = None
    uncertain: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def names(self) -> tuple[str, ...]:
        """Every unambiguous surface form: canonical name, Chinese names and aliases."""
        forms = [self.name, self.zh_hant or "", self.zh_hans or "", *self.aliases]
        return tuple(dict.fromkeys(f.strip() for f in forms if f and f.strip()))


class KnowledgeBaseError(ValueError):
    """A KB file is malformed: the message names the file and the entry."""


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if v is not None and str(v).strip())


def load_entities(directory: Path | None = None) -> dict[str, KbEntity]:
    """Load and validate every entities/*.yaml file; ids must be unique and parents must exist."""
    directory = directory or KB_DIR / "entities"
    entities: dict[str, KbEntity] = {}
    known = {
        "id",
        "name",
        "type",
        "zh_hant",
        "zh_hans",
        "aliases",
        "ambiguous_aliases",
        "context",
        "parent",
        "source",
        "uncertain",
    }
    for path in sorted(directory.glob("*.yaml")):
        records = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(records, list):
            raise KnowledgeBaseError(f"{path.name}: expected a list of entries")
        for record in records:
            if not isinstance(record, dict) or not record.get("id") or not record.get("name"):
                raise KnowledgeBaseError(f"{path.name}: entry without id or name: {record!r}")
            entity_id = str(record["id"])
            if entity_id in entities:
                raise KnowledgeBaseError(f"{path.name}: duplicate id {entity_id!r}")
            stray = [k for k, v in record.items() if k not in known and v is None]
            if stray:
                raise KnowledgeBaseError(
                    f"{path.name}: {entity_id}: key(s) {stray} without value (unquoted comma?)"
                )
            if record.get("type") not in ENTITY_TYPES:
                raise KnowledgeBaseError(f"{path.name}: {entity_id}: unknown type {record.get('type')!r}")
            entities[entity_id] = KbEntity(
                id=entity_id,
                name=str(record["name"]),
                type=str(record["type"]),
                zh_hant=record.get("zh_hant") or None,
                zh_hans=record.get("zh_hans") or None,
                aliases=_as_tuple(record.get("aliases")),
                ambiguous_aliases=_as_tuple(record.get("ambiguous_aliases")),
                context=_as_tuple(record.get("context")),
                parent=record.get("parent") or None,
                source=record.get("source"),
                uncertain=bool(record.get("uncertain", False)),
                extra={k: v for k, v in record.items() if k not in known},
            )
    missing = {e.parent for e in entities.values() if e.parent and e.parent not in entities}
    if missing:
        raise KnowledgeBaseError(f"unknown parent id(s): {', '.join(sorted(missing))}")
    return entities


@lru_cache(maxsize=1)
def load_vocab() -> dict[str, Any]:
    return yaml.safe_load((KB_DIR / "vocab.yaml").read_text(encoding="utf-8"))
