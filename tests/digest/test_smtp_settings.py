"""SMTP settings from AIRFLOW_CONN_SMTP_DEFAULT (URI and JSON forms), TLS on by default against real
TLS servers (aiosmtpd with a test certificate authority), and no secret in any repr or log."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from digest.send import SmtpSettings, smtp_settings
from hkai.weekly_digest import deliver, render_week
from tests.digest.conftest import WEEK, Relay, connection, free_port, load_week, report_fault
from warehouse.db import get_engine

PASSWORD = "s3cret-p@ss/word"


@pytest.fixture
def conn(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def set_connection(value: str | dict) -> SmtpSettings | None:
        raw = value if isinstance(value, str) else json.dumps(value)
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", raw)
        return smtp_settings("smtp_default")

    return set_connection


def test_tls_is_on_by_default_starttls_unless_the_connection_says_otherwise(conn) -> None:  # type: ignore[no-untyped-def]
    plain_uri = conn("smtp://relay.internal:587")
    assert plain_uri == SmtpSettings(host="relay.internal", port=587)
    assert plain_uri.starttls and not plain_uri.use_ssl and plain_uri.verify_tls
    assert conn({"host": "relay.internal"}) == SmtpSettings(host="relay.internal", port=25, starttls=True)
    off = conn("smtp://relay.internal:25?disable_tls=true")
    assert off is not None and not off.starttls and not off.use_ssl


def test_uri_with_credentials_and_extras(conn) -> None:  # type: ignore[no-untyped-def]
    settings = conn(
        "smtp://digest%40example.org:p%40ss%2Fword@mail.example.org:587"
        "?from_email=news@example.org&timeout=10&retry_limit=3&retry_delay=2.5"
    )
    assert settings == SmtpSettings(
        host="mail.example.org",
        port=587,
        login="digest@example.org",
        password="p@ss/word",
        from_email="news@example.org",
        use_ssl=False,
        starttls=True,
        timeout=10,
        retry_limit=3,
        retry_delay=2.5,
    )


def test_implicit_tls_on_port_465_or_when_disable_ssl_is_false(conn) -> None:  # type: ignore[no-untyped-def]
    ssl_465 = conn("smtp://user:secret@mail.example.org:465")
    assert ssl_465 is not None and ssl_465.use_ssl and not ssl_465.starttls and ssl_465.port == 465
    plain = conn("smtp://mail.example.org:465?disable_ssl=true")
    assert plain is not None and not plain.use_ssl and plain.starttls and plain.port == 465
    explicit = conn({"host": "mail.example.org", "port": 2465, "extra": {"disable_ssl": False}})
    assert explicit is not None and explicit.use_ssl and not explicit.starttls


def test_json_with_extra_as_an_object_or_a_string(conn) -> None:  # type: ignore[no-untyped-def]
    settings = conn(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": 2525,
            "login": "bot",
            "password": "pw",
            "extra": {
                "disable_ssl": True,
                "from_email": "digest@hkai.test",
                "timeout": 5,
                "ssl_context": "none",
            },
        }
    )
    assert settings == SmtpSettings(
        host="127.0.0.1",
        port=2525,
        login="bot",
        password="pw",
        from_email="digest@hkai.test",
        timeout=5,
        verify_tls=False,
    )
    as_string = conn({"host": "smtp.example.org", "port": 465, "extra": json.dumps({"timeout": "7"})})
    assert as_string == SmtpSettings(
        host="smtp.example.org", port=465, use_ssl=True, starttls=False, timeout=7
    )


def test_empty_credentials_are_none_and_no_host_means_no_smtp(conn) -> None:  # type: ignore[no-untyped-def]
    assert conn({"host": "smtp.example.org", "login": "", "password": ""}) == SmtpSettings(
        host="smtp.example.org", port=25
    )
    assert conn({"conn_type": "smtp", "port": 25}) is None


def test_the_password_is_in_no_repr(conn) -> None:  # type: ignore[no-untyped-def]
    settings = conn({"host": "mail.example.org", "login": "bot", "password": PASSWORD})
    assert settings is not None and settings.password == PASSWORD
    for shown in (repr(settings), str(settings), f"{settings}", str([settings]), str({"s": settings})):
        assert PASSWORD not in shown and "bot" in shown
    assert settings.scrub(f"535 bad credentials {PASSWORD}") == "535 bad credentials ***"


# --- real TLS servers ----------------------------------------------------------------------------


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A test certificate authority and a server certificate for 127.0.0.1 signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def certificate(subject: str, key, issuer: str, signer, *, ca: bool):  # type: ignore[no-untyped-def]
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("hkai test CA", ca_key, "hkai test CA", ca_key, ca=True)
    server = certificate("127.0.0.1", server_key, "hkai test CA", ca_key, ca=False)
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@pytest.fixture
def tls(digest_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """A server TLS context, and the client trusting the test CA (as it trusts a real relay's CA)."""
    ca, cert, key = _certificates(digest_env)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    controllers: list[Controller] = []
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == PASSWORD.encode(), handled=False)

    def start(**kwargs) -> tuple[Relay, int]:  # type: ignore[no-untyped-def]
        handler, port = Relay(), free_port()
        controller = Controller(
            handler, hostname="127.0.0.1", port=port, authenticator=authenticator, **kwargs
        )
        controller.start()
        controllers.append(controller)
        return handler, port

    yield {"context": context, "start": start, "logins": logins}
    for controller in controllers:
        controller.stop()


def _json_connection(port: int, password: str, **extra) -> str:  # type: ignore[no-untyped-def]
    data = json.loads(connection(port, **extra))
    data["extra"] = {
        k: v for k, v in data["extra"].items() if k not in {"disable_tls", "disable_ssl"}
    } | extra
    return json.dumps(data | {"login": "digest-bot", "password": password})


def test_starttls_by_default_with_a_verified_certificate_and_auth_inside_tls(
    tls: dict, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    inbox, port = tls["start"](tls_context=tls["context"], require_starttls=True)
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", _json_connection(port, PASSWORD))
    load_week()
    caplog.set_level(logging.DEBUG)
    assert deliver(render_week(WEEK))["deliveries"] == {"analyst@example.org": "sent"}
    assert inbox.sessions_tls == [True] and tls["logins"] == [(b"digest-bot", PASSWORD.encode())]
    assert PASSWORD not in caplog.text
    report_fault("none, over STARTTLS with AUTH (default connection)", "sqlite", inbox.messages, _status())


def test_implicit_tls_on_an_smtps_port(tls: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, port = tls["start"](ssl_context=tls["context"], auth_require_tls=False)  # it is all TLS
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", _json_connection(port, PASSWORD, disable_ssl=False))
    load_week()
    assert deliver(render_week(WEEK))["deliveries"] == {"analyst@example.org": "sent"}
    assert len(inbox.messages) == 1


def test_a_relay_without_starttls_gets_no_credentials_and_no_message(
    tls: dict, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    inbox, port = tls["start"](auth_require_tls=False)  # offers AUTH in clear, no STARTTLS
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", _json_connection(port, PASSWORD))
    load_week()
    caplog.set_level(logging.DEBUG)
    outcome = deliver(render_week(WEEK), sleep=lambda _s: None)["deliveries"]["analyst@example.org"]
    assert outcome.startswith(
        "failed: not sent after 3 tries: SMTPNotSupportedError: the relay does not offer STARTTLS"
    )
    assert inbox.messages == [] and tls["logins"] == []
    assert PASSWORD not in caplog.text
    report_fault(
        "relay offers no STARTTLS (TLS on by default)",
        "sqlite",
        inbox.messages,
        _status(),
        note="no credentials and no message in clear text",
    )


def _status() -> str:
    from digest import deliveries

    return str(deliveries.rows(get_engine())[0]["status"])


def test_an_untrusted_certificate_is_refused(tls: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent-ca.pem")  # the relay's CA is not trusted
    inbox, port = tls["start"](tls_context=tls["context"], require_starttls=True)
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", _json_connection(port, PASSWORD, retry_limit=0))
    load_week()
    outcome = deliver(render_week(WEEK))["deliveries"]["analyst@example.org"]
    assert outcome.startswith("failed: not sent after 1 tries: SSLCertVerificationError")
    assert inbox.messages == [] and tls["logins"] == []
    report_fault(
        "relay's TLS certificate not trusted", "sqlite", inbox.messages, _status(), note="retry_limit 0"
    )


def test_a_wrong_password_is_never_recorded_or_logged(
    tls: dict, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wr0ng-" + PASSWORD
    inbox, port = tls["start"](tls_context=tls["context"], require_starttls=True)
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", _json_connection(port, wrong, retry_limit=0))
    load_week()
    caplog.set_level(logging.DEBUG)
    result = deliver(render_week(WEEK))
    outcome = result["deliveries"]["analyst@example.org"]
    assert outcome.startswith("failed: not sent after 1 tries: 535")
    from digest import deliveries

    ledger = json.dumps(deliveries.rows(get_engine()), default=str)
    for text in (caplog.text, ledger, json.dumps(result)):
        assert wrong not in text and PASSWORD not in text
    assert inbox.messages == []
