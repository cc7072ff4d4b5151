"""Log-ins with NativeAuthenticator: sign a person up and approve them, through the hub's own web pages.

NativeAuthenticator keeps passwords in its own table and only lets approved users in; there is no REST
API for that, so this drives the same forms a person would (sign-up page, then an admin's approval).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests

from graders.errors import UserError

log = logging.getLogger(__name__)


@dataclass
class WebSession:
    """A browser-like session with the hub: cookies plus JupyterHub's _xsrf form token."""

    base_url: str
    session: requests.Session

    @classmethod
    def open(cls, base_url: str) -> WebSession:
        return cls(base_url=base_url, session=requests.Session())

    def _xsrf(self, page: str) -> str:
        self.session.get(f"{self.base_url}/hub/{page}", timeout=30)
        return self.session.cookies.get("_xsrf", "")

    def sign_up(self, username: str, password: str) -> bool:
        """Submits the sign-up form. True when the account is new, False when the name was taken."""
        data = {
            "username": username,
            "signup_password": password,
            "signup_password_confirmation": password,
            "_xsrf": self._xsrf("signup"),
        }
        response = self.session.post(f"{self.base_url}/hub/signup", data=data, timeout=30)
        text = response.text.lower()
        if response.status_code != 200:
            raise UserError(f"sign-up of {username} failed with HTTP {response.status_code}")
        if "user already exists" in text or "already exists" in text:
            return False
        if "error" in text and "information has been sent" not in text and "signup" in response.url:
            log.debug("sign-up page for %s answered: %s", username, text[:500])
        return True

    def log_in(self, username: str, password: str) -> None:
        data = {"username": username, "password": password, "_xsrf": self._xsrf("login")}
        response = self.session.post(
            f"{self.base_url}/hub/login", data=data, timeout=60, allow_redirects=False
        )
        if response.status_code not in (302, 303):
            raise UserError(
                f"log-in as {username} failed (HTTP {response.status_code}): not approved or wrong password"
            )

    def approve(self, username: str) -> None:
        """As a logged-in admin, approves a pending sign-up (NativeAuthenticator's /hub/authorize page)."""
        page = self.session.get(f"{self.base_url}/hub/authorize", timeout=30)
        if page.status_code != 200:
            raise UserError(f"the authorize page answered {page.status_code}: is the session an admin?")
        response = self.session.get(f"{self.base_url}/hub/authorize/{username}", timeout=30)
        if response.status_code != 200:
            raise UserError(f"approving {username} failed with HTTP {response.status_code}")


def ensure_login(base_url: str, admin: tuple[str, str], username: str, password: str) -> None:
    """Makes `username` able to log in with `password`: signs up, then an admin approves when needed."""
    is_new = WebSession.open(base_url).sign_up(username, password)
    if username == admin[0]:
        return  # admins are approved by NativeAuthenticator at sign-up
    try:
        WebSession.open(base_url).log_in(username, password)
        return  # already approved
    except UserError:
        if not is_new:
            log.info("%s exists but is not approved yet: approving", username)
    admin_session = WebSession.open(base_url)
    admin_session.log_in(*admin)
    admin_session.approve(username)
    WebSession.open(base_url).log_in(username, password)
