"""Where rendered digests are written: out/digests/<week>/<key>.{html,txt,eml} (and .png).

A recipient's key is a readable slug of the address plus a hash of the exact address, so two
addresses that slug alike (a.b@example.org, a-b@example.org) never share a file. Files are
replaced atomically, so a sender reading an .eml never sees half of one.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import date
from email.message import EmailMessage
from pathlib import Path

from config.settings import get_settings
from digest.render import RenderedDigest

SLUG_CHARS = 40


def digests_root() -> Path:
    return get_settings().out_dir / "digests"


def digest_dir(week_start: date) -> Path:
    return digests_root() / week_start.isoformat()


def slug(email: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", email.lower()).strip("-")


def recipient_key(email: str) -> str:
    """File name stem for one recipient: `a-b-example-org-1f3c5e7a9b`, unique per address."""
    exact = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:10]
    return f"{slug(email)[:SLUG_CHARS].strip('-')}-{exact}"


def relative(path: str | Path) -> str:
    """A digest file's path under out/ (`digests/<week>/<key>.html`), for logs and the UI."""
    try:
        return str(Path(path).resolve().relative_to(get_settings().out_dir))
    except ValueError:
        return Path(path).name


def write_digest(directory: Path, email: str, rendered: RenderedDigest, message: EmailMessage) -> Path:
    """Write the .html, .txt and .eml of one recipient's digest; returns their common stem."""
    stem = directory / recipient_key(email)
    _replace(stem.with_suffix(".html"), rendered.html.encode("utf-8"))
    _replace(stem.with_suffix(".txt"), rendered.text.encode("utf-8"))
    _replace(stem.with_suffix(".eml"), message.as_bytes())
    return stem


def _replace(path: Path, data: bytes) -> None:
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False)
    try:
        with handle:
            handle.write(data)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
