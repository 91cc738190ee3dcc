"""Where rendered digests go: the warehouse outbox (what is sent) and out/digests/<week>/ (previews).

The message bytes are stored in `digest_outbox`, so the send task reads exactly what was rendered
on whichever worker it runs; the files under out/digests/<week>/<key>.{html,txt,eml} (and .png)
are for people to look at.

A recipient's key is a readable slug of the address plus a hash of the exact address, so two
addresses that slug alike (a.b@example.org, a-b@example.org) never share a file. Files are
replaced atomically, so a sender reading an .eml never sees half of one.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from sqlalchemy import Engine, select

from config.settings import get_settings
from digest.render import RenderedDigest
from warehouse.load import upsert
from warehouse.models import DigestOutbox

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


def archive_id(week_start: date, recipient: str) -> str:
    """A digest's id in the UI's archive (`/hkai/digests/<id>`): its week and the recipient's file key."""
    return f"{week_start.isoformat()}_{recipient_key(recipient)}"


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


def store_message(engine: Engine, email: str, week_start: date, message: EmailMessage) -> None:
    """Keep the rendered message in the warehouse outbox (a re-render replaces it)."""
    row = {
        "recipient": email,
        "week_start": week_start,
        "message_id": str(message["Message-ID"]),
        "eml": message.as_bytes(),
        "rendered_at": datetime.now(UTC).replace(tzinfo=None),
    }
    with engine.begin() as conn:
        upsert(conn, DigestOutbox.__table__, [row], ["recipient", "week_start"])


def load_message(engine: Engine, email: str, week_start: date) -> EmailMessage | None:
    """The rendered message for (recipient, week), or None when it was never rendered."""
    with engine.connect() as conn:
        eml = conn.execute(
            select(DigestOutbox.eml).where(
                DigestOutbox.recipient == email, DigestOutbox.week_start == week_start
            )
        ).scalar()
    if eml is None:
        return None
    message = BytesParser(policy=policy.default).parsebytes(eml)
    assert isinstance(message, EmailMessage)
    return message
