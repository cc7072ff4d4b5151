"""NativeAuthenticator made to work with JupyterHub 6 (self sign-up, admin approval).

nativeauthenticator 1.3.0's login handler still times logins with `self.statsd`, which JupyterHub 6
removed, so every login POST fails with HTTP 500. This subclass swaps in a login handler with a no-op
timer; remove it once nativeauthenticator releases a fix.
"""

from __future__ import annotations

from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import LoginHandler as NativeLoginHandler


class _NoTimer:
    """Stands in for the statsd client and the timers it hands out."""

    def timer(self, *_args, **_kwargs) -> _NoTimer:
        return self

    def start(self) -> _NoTimer:
        return self

    def stop(self, *_args, **_kwargs) -> None:
        return None


class LoginHandler(NativeLoginHandler):
    statsd = _NoTimer()

    def _render(self, login_error=None, username=None, **_ignored):
        # JupyterHub 6 passes extra template arguments (sync, message) when a login POST fails.
        return super()._render(login_error=login_error, username=username)


class BootcampNativeAuthenticator(NativeAuthenticator):
    """NativeAuthenticator with the JupyterHub 6 login fix; configure it as `NativeAuthenticator`."""

    def get_handlers(self, app):
        return [
            (path, LoginHandler if handler is NativeLoginHandler else handler)
            for path, handler in super().get_handlers(app)
        ]
