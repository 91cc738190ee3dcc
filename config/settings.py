"""One typed settings object: every environment variable the project reads goes through here.

Defaults suit the embedded (offline) mode. Each variable is listed in the README's configuration
table and in `.env.example`. Settings are read when `get_settings()` is called, not at import, so
tests and Airflow tasks can change the environment between calls.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
HKT_OFFSET_HOURS = 8
DEFAULT_CONTACT = "https://github.com/hkai-tracker/hkai"


class Settings(BaseSettings):
    """The project's configuration (`HKAI_*` variables)."""

    model_config = SettingsConfigDict(env_prefix="HKAI_", frozen=True, extra="ignore")

    warehouse_url: str = Field("", description="SQLAlchemy URL of the warehouse")
    crawl_mode: Literal["replay", "live"] = "replay"
    data_dir: Path = REPO_ROOT / "data"
    out_dir: Path = REPO_ROOT / "out"
    snapshot_dir: Path = REPO_ROOT / "snapshots" / "demo"
    replay_url: str | None = None
    user_agent_contact: str = DEFAULT_CONTACT
    recipients_file: Path | None = Field(None, validation_alias="HKAI_DIGEST_RECIPIENTS_FILE")
    digest_to: str = "analyst@example.org"
    digest_screenshot: bool = True
    digest_unsubscribe_url: str | None = None
    smtp_conn_id: str = "smtp_default"
    ops_email: str | None = Field(None, description="who gets failure emails from the DAGs")
    scrapy_log_level: str = "INFO"
    scrapy_settings: dict[str, Any] = Field(default_factory=dict)
    test_postgres_url: str | None = None
    ui_port: int = Field(8080, ge=1, le=65535, description="Port of `make ui` (Airflow on 127.0.0.1)")

    @field_validator("crawl_mode", mode="before")
    @classmethod
    def _normalise_mode(cls, value: object) -> object:
        mode = str(value).strip().lower()
        if mode not in {"replay", "live"}:
            raise ValueError(f"HKAI_CRAWL_MODE must be 'replay' or 'live', not {value!r}")
        return mode

    @field_validator("data_dir", "out_dir", "snapshot_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator(
        "replay_url",
        "recipients_file",
        "test_postgres_url",
        "digest_unsubscribe_url",
        "ops_email",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _default_warehouse(self) -> Settings:
        if not self.warehouse_url:
            object.__setattr__(self, "warehouse_url", f"sqlite:///{self.data_dir / 'warehouse.db'}")
        return self

    @property
    def user_agent(self) -> str:
        """An honest User-Agent: who we are and where site owners can reach us."""
        return f"hkai-news-tracker/0.1 (+{self.user_agent_contact}; research crawler for Hong Kong AI news)"


def get_settings() -> Settings:
    """Read settings now (not at import), so tests and tasks can change the environment."""
    return Settings()


def airflow_connection_uri(conn_id: str) -> str | None:
    """Airflow's own `AIRFLOW_CONN_<ID>` variable (URI or JSON), for code that runs outside a task."""
    return os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}") or None


# What a crawl process needs from its parent's environment: the interpreter and locale, proxies and
# CA bundles for live crawling, and the crawl's own settings. Nothing else, so warehouse and SMTP
# credentials (and Airflow's secrets) never reach the process that parses untrusted pages.
_CHILD_PASSTHROUGH = frozenset(
    {"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "VIRTUAL_ENV", "PYTHONHASHSEED"}
    | {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"}
    | {"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"}
)
_CHILD_SETTINGS = frozenset(
    {
        "HKAI_CRAWL_MODE",
        "HKAI_DATA_DIR",
        "HKAI_SNAPSHOT_DIR",
        "HKAI_REPLAY_URL",
        "HKAI_USER_AGENT_CONTACT",
        "HKAI_SCRAPY_SETTINGS",
        "HKAI_SCRAPY_LOG_LEVEL",
    }
)


def full_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's whole environment plus `extra`, for trusted children that need all of it (the
    Airflow components `make ui` starts), unlike a crawl's `child_environment`."""
    return {**os.environ, **(extra or {})}


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a crawl's child process: only what it needs, plus `extra`, repo importable."""
    env = {k: v for k, v in os.environ.items() if k in _CHILD_PASSTHROUGH or k in _CHILD_SETTINGS}
    env.update(extra or {})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return env
