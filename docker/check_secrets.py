"""Refuse to start the stack while a secret still holds a placeholder or is malformed.

Run by `airflow-init` before anything else: copying `.env.example` as it is would otherwise give an
admin password of `change-me-admin` and a JWT secret that everybody knows. Prints one line per
problem (never the value) and exits 1 when there is any.
"""

from __future__ import annotations

import base64
import binascii
import os
import sys
from collections.abc import Mapping

PASSWORDS = ("AIRFLOW_DB_PASSWORD", "HKAI_WAREHOUSE_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_ADMIN_PASSWORD")
JWT_SECRET = "AIRFLOW_JWT_SECRET"
FERNET_KEY = "AIRFLOW_FERNET_KEY"
MIN_LENGTH = 16
PLACEHOLDER_MARKS = ("change-me", "changeme", "placeholder", "example")


def is_fernet_key(value: str) -> bool:
    """A Fernet key is 32 bytes in URL-safe base64 (44 characters with padding)."""
    try:
        return len(base64.urlsafe_b64decode(value.encode("ascii"))) == 32 and len(value) == 44
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


def problems(env: Mapping[str, str]) -> list[str]:
    found: list[str] = []
    for name in (*PASSWORDS, JWT_SECRET, FERNET_KEY):
        value = env.get(name, "")
        if not value:
            found.append(f"{name} is not set")
        elif any(mark in value.lower() for mark in PLACEHOLDER_MARKS):
            found.append(f"{name} still holds the placeholder from .env.example")
        elif name != FERNET_KEY and len(value) < MIN_LENGTH:
            found.append(f"{name} is shorter than {MIN_LENGTH} characters")
    fernet = env.get(FERNET_KEY, "")
    if fernet and not any("FERNET" in p for p in found) and not is_fernet_key(fernet):
        found.append(f"{FERNET_KEY} is not a valid Fernet key (32 bytes, URL-safe base64)")
    return found


def main() -> int:
    found = problems(os.environ)
    for problem in found:
        print(f"refusing to start: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
