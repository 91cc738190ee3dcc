"""Settings: one typed object reads the environment, and the README documents every variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.settings import REPO_ROOT, Settings, get_settings
from tests.paths import REPO


def env_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias if isinstance(alias, str) else f"HKAI_{name.upper()}")
    return names


def test_every_setting_is_in_the_readme_table() -> None:
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", (REPO / "README.md").read_text(encoding="utf-8"), re.M))
    assert env_names() - table == set()


def test_no_module_reads_the_environment_directly() -> None:
    """`os.environ`/`os.getenv` only in config/settings.py, so every variable is typed and documented."""
    readers = [
        str(path.relative_to(REPO))
        for package in ("hkai", "spiders", "transforms", "warehouse", "digest", "dags", "web", "plugins")
        for path in (REPO / package).rglob("*.py")
        if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text(encoding="utf-8"))
    ]
    assert readers == []


def test_defaults_suit_the_embedded_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in env_names():
        monkeypatch.delenv(name, raising=False)
    settings = get_settings()
    assert settings.crawl_mode == "replay"
    assert settings.warehouse_url == f"sqlite:///{REPO_ROOT / 'data' / 'warehouse.db'}"
    assert settings.recipients_file is None and settings.replay_url is None
    assert "https://github.com/hkai-tracker/hkai" in settings.user_agent


def test_values_are_parsed_and_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HKAI_CRAWL_MODE", " Live ")
    monkeypatch.setenv("HKAI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HKAI_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("HKAI_SCRAPY_SETTINGS", '{"RETRY_TIMES": 1}')
    monkeypatch.setenv("HKAI_DIGEST_SCREENSHOT", "0")
    monkeypatch.setenv("HKAI_DIGEST_RECIPIENTS_FILE", "")
    monkeypatch.setenv("HKAI_USER_AGENT_CONTACT", "mailto:ops@example.org")
    settings = get_settings()
    assert settings.crawl_mode == "live"
    assert settings.warehouse_url == f"sqlite:///{tmp_path.resolve() / 'warehouse.db'}"
    assert settings.scrapy_settings == {"RETRY_TIMES": 1}
    assert settings.digest_screenshot is False and settings.recipients_file is None
    assert "(+mailto:ops@example.org;" in settings.user_agent


def test_a_wrong_crawl_mode_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HKAI_CRAWL_MODE", "offline")
    with pytest.raises(ValidationError, match="HKAI_CRAWL_MODE must be 'replay' or 'live'"):
        get_settings()


def test_a_crawl_process_gets_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import child_environment

    monkeypatch.setenv("HKAI_WAREHOUSE_URL", "postgresql+psycopg://hkai:s3cret@db/warehouse")
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", "smtp://user:s3cret@relay:587")
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", "s3cret")
    monkeypatch.setenv("HKAI_CRAWL_MODE", "replay")
    env = child_environment({"HKAI_SCRAPY_SETTINGS": '{"RETRY_TIMES": 0}'})
    assert not any("s3cret" in value for value in env.values())
    assert env["HKAI_CRAWL_MODE"] == "replay" and env["HKAI_SCRAPY_SETTINGS"] == '{"RETRY_TIMES": 0}'
    assert env["PYTHONPATH"].split(":")[0] == str(REPO_ROOT)
    assert "PATH" in env
