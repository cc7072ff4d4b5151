"""A small client for the JupyterHub REST API, authenticated with the bootcamp-manager service token."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import requests

from graders.errors import UserError
from graders.hub.secrets import MANAGER_TOKEN, secret
from graders.hub.settings import HubSettings

log = logging.getLogger(__name__)


@dataclass
class HubClient:
    """Talks to /hub/api through the proxy's public address."""

    base_url: str  # e.g. http://127.0.0.1:8000
    token: str
    timeout_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: HubSettings) -> HubClient:
        return cls(base_url=settings.public_url, token=secret(settings, MANAGER_TOKEN))

    def request(
        self, method: str, path: str, ok: tuple[int, ...] = (200, 201, 204), **kwargs
    ) -> requests.Response:
        url = f"{self.base_url}/hub/api{path}"
        headers = {"Authorization": f"token {self.token}"}
        try:
            response = requests.request(method, url, headers=headers, timeout=self.timeout_s, **kwargs)
        except requests.ConnectionError:
            raise UserError(f"the hub does not answer at {self.base_url}: start it with `bootcamp hub up`")
        if response.status_code not in ok:
            raise UserError(f"hub API {method} {path} answered {response.status_code}: {response.text[:300]}")
        return response

    # -- users and groups -------------------------------------------------------------------------------
    def user(self, name: str) -> dict | None:
        response = self.request("GET", f"/users/{name}", ok=(200, 404))
        return response.json() if response.status_code == 200 else None

    def ensure_user(self, name: str, admin: bool = False) -> dict:
        existing = self.user(name)
        if existing is not None:
            return existing
        return self.request("POST", f"/users/{name}", json={"admin": admin}).json()

    def ensure_group(self, name: str) -> None:
        if self.request("GET", f"/groups/{name}", ok=(200, 404)).status_code == 404:
            self.request("POST", f"/groups/{name}")

    def add_to_group(self, group: str, users: list[str]) -> None:
        self.ensure_group(group)
        self.request("POST", f"/groups/{group}/users", json={"users": users})

    def delete_user(self, name: str) -> None:
        self.request("DELETE", f"/users/{name}", ok=(204, 404))

    # -- servers and tokens --------------------------------------------------------------------------------
    def start_server(self, name: str, timeout_s: float = 120.0) -> dict:
        """Starts a user's server and waits until the hub reports it ready."""
        self.request("POST", f"/users/{name}/server", ok=(201, 202, 400))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            user = self.user(name) or {}
            server = (user.get("servers") or {}).get("", {})
            if server.get("ready"):
                return server
            if not server.get("pending") and not server:
                raise UserError(f"the server of {name} stopped while starting; see the hub log")
            time.sleep(0.2)
        raise UserError(f"the server of {name} did not start within {timeout_s:.0f} s")

    def stop_server(self, name: str, timeout_s: float = 60.0) -> None:
        self.request("DELETE", f"/users/{name}/server", ok=(202, 204, 400, 404))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            user = self.user(name) or {}
            if not (user.get("servers") or {}):
                return
            time.sleep(0.2)

    def user_token(self, name: str, note: str, expires_in_s: int = 3600) -> str:
        """An API token acting as `name` (for tests and scripted checks), expiring on its own."""
        body = {"note": note, "expires_in": expires_in_s}
        return self.request("POST", f"/users/{name}/tokens", json=body).json()["token"]

    def services(self) -> dict:
        return self.request("GET", "/services").json()
