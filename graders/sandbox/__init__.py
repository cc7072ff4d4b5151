"""One small interface for running a grading job in isolation: `Sandbox.run(job) -> result`.

Backends: `docker` (a fresh, locked-down container per job, see docker_backend) and `local` (a separate
process with rlimits and, where possible, no network; weaker, and it says so). Both speak the same
contract with graders.sandbox.runner: one JSON job line in, one JSON result line out.
"""

from __future__ import annotations

from graders.sandbox.job import Job, Limits, SandboxError, SandboxUnavailable, validate_result

__all__ = [
    "Job",
    "Limits",
    "LongLivedSandboxes",
    "SandboxError",
    "SandboxUnavailable",
    "open_sandbox",
    "validate_result",
]


def open_sandbox(kind: str, *, image: str | None = None, limits: Limits | None = None, pool_size: int = 1):
    """Returns a started sandbox of the given kind; use it as a context manager so it always cleans up."""
    limits = limits or Limits()
    if kind == "docker":
        from graders.sandbox.docker_backend import DockerSandbox

        return DockerSandbox(image=image or "bootcamp-grader:latest", limits=limits, pool_size=pool_size)
    if kind == "local":
        from graders.sandbox.local_backend import LocalSandbox

        return LocalSandbox(limits=limits)
    raise ValueError(f"unknown sandbox {kind!r}: use 'docker' or 'local'")


class LongLivedSandboxes:
    """Sandboxes a long-running service keeps open, one per (backend, image, limits), each with its warm
    pool: a submission then pays for no engine connection, image check or container boot of its own.
    `bootcamp autograde` opens and closes its own; the hub's grading service passes one of these."""

    def __init__(self, pool_size: int = 2) -> None:
        self.pool_size = pool_size
        self._open: dict[tuple, object] = {}

    def get(self, kind: str, image: str | None, limits: Limits):
        key = (kind, image, limits)
        if key not in self._open:
            self._open[key] = open_sandbox(kind, image=image, limits=limits, pool_size=self.pool_size)
        return self._open[key]

    def discard(self, kind: str, image: str | None, limits: Limits) -> None:
        """Drops a sandbox that failed, so the next submission starts a fresh one."""
        sandbox = self._open.pop((kind, image, limits), None)
        if sandbox is not None:
            sandbox.close()

    def close(self) -> None:
        for sandbox in self._open.values():
            sandbox.close()
        self._open.clear()
