"""Settings from environment variables, with safe defaults for the embedded (offline) mode.

Every variable is documented in the README's configuration table and in `.env.example`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
HKT_OFFSET_HOURS = 8


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    warehouse_url: str
    crawl_mode: str
    data_dir: Path
    out_dir: Path
    snapshot_dir: Path
    replay_url: str | None
    user_agent_contact: str
    recipients_file: Path | None
    smtp_conn_id: str

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"


def get_settings() -> Settings:
    """Read settings now (not at import), so tests and tasks can change the environment."""
    data_dir = _path("HKAI_DATA_DIR", REPO_ROOT / "data")
    default_url = f"sqlite:///{data_dir / 'warehouse.db'}"
    mode = os.environ.get("HKAI_CRAWL_MODE", "replay").strip().lower()
    if mode not in {"replay", "live"}:
        raise ValueError(f"HKAI_CRAWL_MODE must be 'replay' or 'live', not {mode!r}")
    recipients = os.environ.get("HKAI_DIGEST_RECIPIENTS_FILE")
    return Settings(
        warehouse_url=os.environ.get("HKAI_WAREHOUSE_URL", default_url),
        crawl_mode=mode,
        data_dir=data_dir,
        out_dir=_path("HKAI_OUT_DIR", REPO_ROOT / "out"),
        snapshot_dir=_path("HKAI_SNAPSHOT_DIR", REPO_ROOT / "snapshots" / "demo"),
        replay_url=os.environ.get("HKAI_REPLAY_URL") or None,
        user_agent_contact=os.environ.get("HKAI_USER_AGENT_CONTACT", "https://github.com/hkai-tracker/hkai"),
        recipients_file=Path(recipients) if recipients else None,
        smtp_conn_id=os.environ.get("HKAI_SMTP_CONN_ID", "smtp_default"),
    )
