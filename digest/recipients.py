"""Subscribers and their filters."""

from __future__ import annotations

from typing import Any

import yaml

from config.settings import get_settings


def recipients() -> list[dict[str, Any]]:
    """Subscribers from HKAI_DIGEST_RECIPIENTS_FILE (YAML list), else one default reader."""
    path = get_settings().recipients_file
    if path and path.exists():
        records = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        return [r for r in records if isinstance(r, dict) and r.get("email")]
    return [{"email": get_settings().digest_to, "name": "Analyst"}]


def subscriber_filters(person: dict[str, Any]) -> dict[str, Any]:
    """A subscriber's filters, as keyword arguments of `select_content` (None = no filter)."""
    return {
        "entities": set(person.get("entities") or []) or None,
        "sectors": set(person.get("sectors") or []) or None,
        "languages": set(person.get("languages") or []) or None,
        "min_relevance": float(person.get("min_relevance") or 0.0),
    }


def quiet_reason(filters: dict[str, Any], stories: int) -> str | None:
    """Why a subscriber's digest has no stories when the filters caused it, for the quiet-week note."""
    active = [name for name, value in filters.items() if value]
    return f"filters: {', '.join(active)}" if active and not stories else None


def display_name(person: dict[str, Any]) -> str:
    return person.get("name") or person["email"]
