"""SMTP settings from AIRFLOW_CONN_SMTP_DEFAULT, in Airflow's URI and JSON forms."""

from __future__ import annotations

import json

import pytest

from digest.send import SmtpSettings, smtp_settings


@pytest.fixture
def connection(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def set_connection(value: str | dict) -> SmtpSettings | None:
        raw = value if isinstance(value, str) else json.dumps(value)
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", raw)
        return smtp_settings("smtp_default")

    return set_connection


def test_uri_with_credentials_and_starttls(connection) -> None:  # type: ignore[no-untyped-def]
    settings = connection(
        "smtp://digest%40example.org:p%40ss%2Fword@mail.example.org:587"
        "?disable_tls=false&from_email=news@example.org&timeout=10"
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
    )


def test_uri_defaults_are_plain_smtp_on_port_25(connection) -> None:  # type: ignore[no-untyped-def]
    settings = connection("smtp://relay.internal")
    assert settings == SmtpSettings(host="relay.internal", port=25)
    assert settings is not None and not settings.starttls and not settings.use_ssl


def test_port_465_means_ssl_unless_disabled(connection) -> None:  # type: ignore[no-untyped-def]
    ssl = connection("smtp://user:secret@mail.example.org:465?disable_tls=false")
    assert ssl is not None and ssl.use_ssl and not ssl.starttls and ssl.port == 465
    plain = connection("smtp://mail.example.org:465?disable_ssl=true")
    assert plain is not None and not plain.use_ssl and plain.port == 465


def test_json_with_extra_as_an_object(connection) -> None:  # type: ignore[no-untyped-def]
    settings = connection(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": 2525,
            "login": "bot",
            "password": "pw",
            "extra": {
                "disable_ssl": True,
                "disable_tls": False,
                "from_email": "digest@hkai.test",
                "timeout": 5,
            },
        }
    )
    assert settings == SmtpSettings(
        host="127.0.0.1",
        port=2525,
        login="bot",
        password="pw",
        from_email="digest@hkai.test",
        use_ssl=False,
        starttls=True,
        timeout=5,
    )


def test_json_with_extra_as_a_string_and_ssl_port(connection) -> None:  # type: ignore[no-untyped-def]
    settings = connection({"host": "smtp.example.org", "port": 465, "extra": json.dumps({"timeout": "7"})})
    assert settings == SmtpSettings(host="smtp.example.org", port=465, use_ssl=True, timeout=7)


def test_json_without_a_port_uses_25_and_empty_credentials_are_none(connection) -> None:  # type: ignore[no-untyped-def]
    settings = connection({"host": "smtp.example.org", "login": "", "password": ""})
    assert settings == SmtpSettings(host="smtp.example.org", port=25)


def test_no_host_means_no_smtp(connection) -> None:  # type: ignore[no-untyped-def]
    assert connection({"conn_type": "smtp", "port": 25}) is None
