"""Build the MIME message (text + HTML with inline CID images) and hand it to an SMTP relay.

Airflow's SMTP hook cannot build multipart/alternative with related images, so the message is
built here; host, port and credentials still come from the Airflow connection `smtp_default`
(or AIRFLOW_CONN_SMTP_DEFAULT), never from the repository.

Sending tells a definite failure from an ambiguous one. Until the relay answers 354 to DATA it
has no message content, so any error is `NotSent` (safe to retry). Once the content has started
to flow, only a final 250 proves delivery: anything else is `Ambiguous`, because the relay may
have queued the message (a reply lost to a timeout, a dropped connection). Errors after the
final 250 (a 421 to QUIT) change nothing: the message was accepted.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from email import policy
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from config.settings import airflow_connection_uri
from digest.render import RenderedDigest
from transforms.dates import HKT

log = logging.getLogger(__name__)

DEFAULT_SENDER = "digest@hkai.local"
LIST_NAME = "Hong Kong AI weekly"


@dataclass(frozen=True)
class SmtpSettings:
    """One SMTP connection. TLS is on unless the connection turns it off: STARTTLS, or implicit TLS
    on port 465 (or with `disable_ssl: false`). The password never appears in a repr or a log."""

    host: str
    port: int
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    from_email: str = DEFAULT_SENDER
    use_ssl: bool = False
    starttls: bool = True
    timeout: int = 30
    verify_tls: bool = True
    retry_limit: int = 5  # retries of a definite failure before DATA (the provider's `retry_limit`)
    retry_delay: float = 30.0  # seconds before the first retry; doubles, at most MAX_RETRY_DELAY

    def scrub(self, text: str) -> str:
        """`text` without the password (server replies and exceptions may echo what they got)."""
        return text.replace(self.password, "***") if self.password else text


MAX_RETRY_DELAY = 300.0


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
            extra = {
                unquote(k): unquote(v)
                for k, v in (p.split("=", 1) for p in parts.query.split("&") if "=" in p)
            }
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
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _settings(
    host: str | None,
    port: int | str | None,
    login: str | None,
    password: str | None,
    extra: dict[str, Any],
) -> SmtpSettings | None:
    """The provider's extras: `disable_tls` (STARTTLS off), `disable_ssl` (implicit TLS off; an
    explicit false turns it on), `from_email`, `timeout`, `retry_limit`, `ssl_context` ("none"
    skips certificate checks); `retry_delay` (seconds) is ours."""
    if not host:
        return None
    if "disable_ssl" in extra:
        use_ssl = not _truthy(extra["disable_ssl"])
    else:
        use_ssl = int(port or 0) == 465
    return SmtpSettings(
        host=host,
        port=int(port or (465 if use_ssl else 25)),
        login=login or None,
        password=password or None,
        from_email=extra.get("from_email") or DEFAULT_SENDER,
        use_ssl=use_ssl,
        starttls=not use_ssl and not _truthy(extra.get("disable_tls", False)),
        timeout=int(extra.get("timeout", 30)),
        verify_tls=str(extra.get("ssl_context", "default")).lower() != "none",
        retry_limit=max(0, int(extra.get("retry_limit", 5))),
        retry_delay=max(0.0, float(extra.get("retry_delay", 30.0))),
    )


# --- the message ---------------------------------------------------------------------------------


def message_id(recipient: str, week_start: date, sender: str) -> str:
    """The same Message-ID for every copy of one (recipient, week) digest, so relays and mail
    clients can drop a duplicate: a hash of both, at the sender's domain."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "hkai.local"
    digest = hashlib.sha256(f"{recipient.strip().lower()}|{week_start.isoformat()}".encode()).hexdigest()
    return f"<digest-{week_start.isoformat()}-{digest[:32]}@{domain}>"


def unsubscribe_targets(recipient: str, sender: str, url_template: str | None) -> list[str]:
    """List-Unsubscribe URIs: a mailto: to the sender, and an https URL when one is configured
    (`{email}` in it is replaced by the URL-quoted address)."""
    mailbox = parseaddr(sender)[1] or DEFAULT_SENDER
    targets = [f"mailto:{mailbox}?subject={quote('unsubscribe ' + recipient)}"]
    if url_template:
        url = url_template.replace("{email}", quote(recipient, safe=""))
        if not url.startswith("https://"):
            raise ValueError(f"the unsubscribe URL must be https: {url_template!r}")
        targets.append(url)
    return targets


def build_message(
    rendered: RenderedDigest,
    *,
    to: str,
    sender: str,
    week_start: date,
    language: str = "en",
    unsubscribe: list[str] | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """multipart/alternative: text/plain, then multipart/related(text/html + inline PNGs)."""
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(now or datetime.now(HKT))
    message["Message-ID"] = message_id(to, week_start, sender)
    domain = message["Message-ID"].rpartition("@")[2].rstrip(">")
    message["List-Id"] = f"{LIST_NAME} <weekly.{domain}>"
    if unsubscribe:
        message["List-Unsubscribe"] = ", ".join(f"<{target}>" for target in unsubscribe)
        if any(target.startswith("https://") for target in unsubscribe):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    html_part = message.get_body(preferencelist=("html",))  # the alternative just added
    if html_part is None:
        raise ValueError("the message has no HTML part")
    for cid, png in rendered.images.items():
        html_part.add_related(
            png, "image", "png", cid=f"<{cid}>", filename=f"{cid.split('@')[0]}.png", disposition="inline"
        )
    message["Content-Language"] = language  # after the body: setting content clears Content-* headers
    return message


def read_message(eml_path: Path) -> EmailMessage:
    """A rendered .eml as written, so a retry sends the bytes it rendered."""
    return BytesParser(policy=policy.default).parsebytes(eml_path.read_bytes())


# --- sending -------------------------------------------------------------------------------------


class SendError(Exception):
    """A send that did not end in a final 250."""


class NotSent(SendError):
    """Definitely not delivered: the relay never received the message content."""


class Ambiguous(SendError):
    """The content reached (or may have reached) the relay without a final 250: maybe delivered."""


class ClaimLost(SendError):
    """Another sender owns the delivery now; this one stopped before DATA."""


def transmit(
    message: EmailMessage, settings: SmtpSettings, *, before_data: Callable[[], bool] | None = None
) -> str:
    """Send one message over a new connection; returns the relay's final reply.

    `before_data` runs once the envelope is accepted, just before DATA; returning False stops
    the send (ClaimLost). Raises NotSent or Ambiguous (see the module docstring).
    """
    sender = parseaddr(str(message["From"]))[1]
    recipients = [address for _, address in getaddresses(message.get_all("To", []))]
    if not sender or not recipients:
        raise NotSent("the message has no From or no To address")
    payload = _wire_bytes(message)
    try:
        client = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        raise NotSent(_describe(exc, settings)) from None
    try:
        try:
            _open_session(client, settings)
            _envelope(client, sender, recipients, payload)
            if before_data is not None and not before_data():
                raise ClaimLost("the delivery was claimed by another sender before DATA")
            code, reply = client.docmd("DATA")
            if code != 354:
                raise smtplib.SMTPDataError(code, reply)
        except (OSError, smtplib.SMTPException) as exc:
            raise NotSent(_describe(exc, settings)) from None
        # From here on the relay may hold the message: only a final 250 settles it.
        try:
            client.send(_dot_stuffed(payload))
            code, reply = client.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            raise Ambiguous(
                f"no final reply after the message content ({_describe(exc, settings)})"
            ) from None
        if code != 250:
            raise Ambiguous(f"relay answered {code} {_text(reply)} after the message content")
        return f"{code} {_text(reply)}"
    finally:
        _quit_quietly(client, settings)


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.use_ssl:
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=_tls_context(settings)
        )
    return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not settings.verify_tls:  # the connection's `ssl_context: none`
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _open_session(client: smtplib.SMTP, settings: SmtpSettings) -> None:
    """EHLO, STARTTLS (never a silent fall-back to clear text), EHLO again, then AUTH."""
    client.ehlo_or_helo_if_needed()
    if settings.starttls:
        if not client.has_extn("starttls"):
            raise smtplib.SMTPNotSupportedError(
                "the relay does not offer STARTTLS (set disable_tls on the connection to send in clear)"
            )
        code, reply = client.starttls(context=_tls_context(settings))
        if code != 220:
            raise smtplib.SMTPResponseException(code, reply)
        client.ehlo()
    if settings.login:
        client.login(settings.login, settings.password or "")


def _envelope(client: smtplib.SMTP, sender: str, recipients: list[str], payload: bytes) -> None:
    options = []
    if client.has_extn("8bitmime") and any(byte > 127 for byte in payload):
        options.append("BODY=8BITMIME")
    if not (sender + "".join(recipients)).isascii():
        if not client.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("a non-ASCII address needs a relay with SMTPUTF8")
        options.append("SMTPUTF8")
    code, reply = client.mail(sender, options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for recipient in recipients:
        code, reply = client.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)


def _wire_bytes(message: EmailMessage) -> bytes:
    """The message as it goes on the wire (CRLF line ends, no Bcc), like smtplib.send_message."""
    outgoing = copy.copy(message)
    del outgoing["Bcc"]
    del outgoing["Resent-Bcc"]
    buffer = io.BytesIO()
    BytesGenerator(buffer, policy=message.policy.clone(linesep="\r\n")).flatten(outgoing, linesep="\r\n")
    return buffer.getvalue()


def _dot_stuffed(payload: bytes) -> bytes:
    """RFC 5321 4.5.2: a leading dot is doubled; the content ends with CRLF . CRLF."""
    stuffed = re.sub(rb"(?m)^\.", b"..", payload)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


def _quit_quietly(client: smtplib.SMTP, settings: SmtpSettings) -> None:
    """QUIT; its reply cannot change the outcome (a 421 after a final 250 is still delivered)."""
    try:
        client.quit()
    except (OSError, smtplib.SMTPException) as exc:
        log.info("SMTP QUIT: %s (ignored)", _describe(exc, settings))
        client.close()


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())


def _describe(exc: BaseException, settings: SmtpSettings) -> str:
    """One line for the ledger and the log, never the password."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{code} {_text(reply)}" for code, reply in exc.recipients.values())
        text = f"recipient refused: {text}"
    elif isinstance(exc, smtplib.SMTPResponseException):
        text = f"{exc.smtp_code} {_text(exc.smtp_error)}"
    else:
        text = f"{type(exc).__name__}: {' '.join(str(exc).split())}" if str(exc) else type(exc).__name__
    return settings.scrub(text)[:300]
