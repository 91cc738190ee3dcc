"""Build the MIME message (text + HTML with inline CID images) and send it over SMTP.

Airflow's SMTP hook cannot build multipart/alternative with related images, so the message is
built here; host, port and credentials still come from the Airflow connection `smtp_default`
(or AIRFLOW_CONN_SMTP_DEFAULT), never from the repository.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from config.settings import airflow_connection_uri
from digest.render import RenderedDigest


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    login: str | None = None
    password: str | None = None
    from_email: str = "digest@hkai.local"
    use_ssl: bool = False
    starttls: bool = False
    timeout: int = 30


def smtp_settings(conn_id: str = "smtp_default") -> SmtpSettings | None:
    """The SMTP connection from the environment (JSON or URI form), else Airflow's store, else None."""
    raw = airflow_connection_uri(conn_id)
    if raw:
        raw = raw.strip()
        if raw.startswith("{"):
            data = json.loads(raw)
            extra = data.get("extra") or {}
            extra = json.loads(extra) if isinstance(extra, str) else extra
            host, port = data.get("host"), data.get("port")
            login, password = data.get("login"), data.get("password")
        else:
            parts = urlsplit(raw)
            extra = {k: v for k, v in (p.split("=", 1) for p in parts.query.split("&") if "=" in p)}
            host, port = parts.hostname, parts.port
            login = unquote(parts.username) if parts.username else None
            password = unquote(parts.password) if parts.password else None
        return _settings(host, port, login, password, extra)
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception:  # no Airflow context or no such connection: dry-run only
        return None
    return _settings(conn.host, conn.port, conn.login, conn.password, conn.extra_dejson)


def _truthy(value: object) -> bool:
    return str(value).lower() in {"1", "true", "yes", "on"}


def _settings(
    host: str | None,
    port: int | str | None,
    login: str | None,
    password: str | None,
    extra: dict[str, Any],
) -> SmtpSettings | None:
    if not host:
        return None
    use_ssl = not _truthy(extra.get("disable_ssl", False)) and int(port or 0) == 465
    return SmtpSettings(
        host=host,
        port=int(port or (465 if use_ssl else 25)),
        login=login or None,
        password=password or None,
        from_email=extra.get("from_email") or "digest@hkai.local",
        use_ssl=use_ssl,
        starttls=not use_ssl and not _truthy(extra.get("disable_tls", True)),
        timeout=int(extra.get("timeout", 30)),
    )


def build_message(rendered: RenderedDigest, *, to: str, sender: str) -> EmailMessage:
    """multipart/alternative: text/plain, then multipart/related(text/html + inline PNGs)."""
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = make_msgid(domain="hkai.local")
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    html_part = message.get_body(preferencelist=("html",))  # the alternative just added
    if html_part is None:
        raise ValueError("the message has no HTML part")
    for cid, png in rendered.images.items():
        html_part.add_related(
            png, "image", "png", cid=f"<{cid}>", filename=f"{cid.split('@')[0]}.png", disposition="inline"
        )
    return message


def read_message(eml_path: Path) -> EmailMessage:
    """A rendered .eml as written, so a retry sends the same bytes it rendered."""
    return BytesParser(policy=policy.default).parsebytes(eml_path.read_bytes())


def send_message(message: EmailMessage, settings: SmtpSettings) -> None:
    if settings.use_ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        if settings.starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.login:
            client.login(settings.login, settings.password or "")
        client.send_message(message)
