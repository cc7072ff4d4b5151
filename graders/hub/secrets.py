"""Secrets the hub and its helpers share on one machine, created once and kept in owner-only files."""

from __future__ import annotations

import secrets
from pathlib import Path

from graders.hub.settings import HubSettings

MANAGER_TOKEN = "manager-token"  # the `bootcamp` command's service token (users, groups, servers)
PROXY_TOKEN = "proxy-token"  # shared by the hub and configurable-http-proxy
COOKIE_SECRET = "cookie-secret"  # signs login cookies; a restart keeps people signed in


def secret(settings: HubSettings, name: str) -> str:
    """Reads the named secret, creating a random one (mode 0600) the first time."""
    folder = settings.secrets_dir
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / name
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def secret_path(settings: HubSettings, name: str) -> Path:
    secret(settings, name)
    return settings.secrets_dir / name
