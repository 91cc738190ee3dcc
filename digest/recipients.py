"""Subscribers, their filters and the language of their digest's frame."""

from __future__ import annotations

import logging
from typing import Any

import yaml

from config.settings import get_settings
from digest.i18n import filter_names, language_of

log = logging.getLogger(__name__)


def recipients() -> list[dict[str, Any]]:
    """Subscribers from HKAI_DIGEST_RECIPIENTS_FILE (YAML list), else one default reader.

    An address listed twice (in any letter case) is one subscriber, the first entry: two entries
    would otherwise be two digests in the same mailbox.
    """
    path = get_settings().recipients_file
    if path and path.exists():
        records = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    else:
        records = [{"email": get_settings().digest_to, "name": "Analyst"}]
    people: dict[str, dict[str, Any]] = {}
    for record in records:
        if not isinstance(record, dict) or not str(record.get("email") or "").strip():
            continue
        person = {**record, "email": str(record["email"]).strip()}
        key = person["email"].lower()
        if key in people:
            log.warning("subscriber listed twice, keeping the first entry: %s", person["email"])
            continue
        people[key] = person
    return list(people.values())


def subscriber_filters(person: dict[str, Any]) -> dict[str, Any]:
    """A subscriber's filters, as keyword arguments of `select_content` (None = no filter)."""
    return {
        "entities": set(person.get("entities") or []) or None,
        "sectors": set(person.get("sectors") or []) or None,
        "languages": set(person.get("languages") or []) or None,
        "min_relevance": float(person.get("min_relevance") or 0.0),
    }


def frame_language(person: dict[str, Any]) -> str:
    """The language of the digest's headings, labels, dates and entity names: `language_frame:
    zh-Hant` (the issue's name) or `language: zh-Hant`, else English."""
    return language_of(person.get("language_frame") or person.get("language"))


def quiet_reason(filters: dict[str, Any], stories: int, language: str = "en") -> str | None:
    """Why a subscriber's digest has no stories when the filters caused it, for the quiet-week note."""
    active = [name for name, value in filters.items() if value]
    return filter_names(active, language) if active and not stories else None


def display_name(person: dict[str, Any]) -> str:
    return person.get("name") or person["email"]


def watchlist(person: dict[str, Any]) -> tuple[set[str], set[str]]:
    """A subscriber's watched knowledge-base entity ids and sectors (`watch_entities`,
    `watch_sectors`); a value that is not a list is a clear error, not an empty watchlist."""
    found = []
    for key in ("watch_entities", "watch_sectors"):
        value = person.get(key) or []
        if isinstance(value, str) or not isinstance(value, list):
            raise ValueError(f"{person['email']}: {key} must be a list, not {value!r}")
        found.append({str(item).strip() for item in value if str(item).strip()})
    return found[0], found[1]


def watchers() -> list[dict[str, Any]]:
    """Subscribers who watch at least one entity or sector (they get daily watchlist alerts)."""
    return [person for person in recipients() if any(watchlist(person))]
