"""Where rendered digests are written: out/digests/<week>/<recipient>.{html,txt,eml} (and .png)."""

from __future__ import annotations

import re
from datetime import date
from email.message import EmailMessage
from pathlib import Path

from config.settings import get_settings
from digest.render import RenderedDigest


def digest_dir(week_start: date) -> Path:
    return get_settings().out_dir / "digests" / week_start.isoformat()


def slug(email: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", email.lower()).strip("-")


def write_digest(directory: Path, email: str, rendered: RenderedDigest, message: EmailMessage) -> Path:
    """Write the .html, .txt and .eml of one recipient's digest; returns their common stem."""
    stem = directory / slug(email)
    stem.with_suffix(".html").write_text(rendered.html, encoding="utf-8")
    stem.with_suffix(".txt").write_text(rendered.text, encoding="utf-8")
    stem.with_suffix(".eml").write_bytes(message.as_bytes())
    return stem
