"""One small interface for running a grading job in isolation: `Sandbox.run(job) -> result`.

Backends: `docker` (a fresh, locked-down container per job, see docker_backend) and `local` (a separate
process with rlimits and, where possible, no network; weaker, and it says so). Both speak the same
contract with graders.sandbox.runner: one JSON job line in, one JSON result line out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from graders.errors import UserError
from graders.sandbox.job import (
    CellResult,
    Job,
    Limits,
    SandboxError,
    SandboxResult,
    SandboxUnavailable,
    validate_result,
)

__all__ = [
    "BACKENDS",
    "Backend",
    "Job",
    "Limits",
    "LongLivedSandboxes",
    "CellResult",
    "Sandbox",
    "SandboxError",
    "SandboxResult",
    "SandboxUnavailable",
    "backend",
    "open_sandbox",
    "validate_result",
]


class Sandbox(Protocol):
    """What every backend offers (docs/contracts.md, "Sandbox backends"): run one job, return the
    validated result document (graders.sandbox.job), and clean up everything it started on close()."""

    name: str  # the backend's name in BACKENDS
    isolation: str  # in words, for the instructor: what keeps student code in

    def run(self, job: Job) -> SandboxResult: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Backend:
    """A registered way to run jobs in isolation; every CLI offers the registry's names as choices."""

    name: str
    isolation: str  # "strong" or "weak", shown to users
    summary: str
    open: Callable[[str | None, Limits, int], Sandbox]  # (image, limits, pool size) -> a started sandbox
    default_image: str | None = None  # None: the backend runs no images
    warning: str | None = None  # printed on every run that uses it


def _docker(image: str | None, limits: Limits, pool_size: int) -> Sandbox:
    from graders.sandbox.docker_backend import DockerSandbox

    return DockerSandbox(image=image or "bootcamp-grader:latest", limits=limits, pool_size=pool_size)


def _gvisor(image: str | None, limits: Limits, pool_size: int) -> Sandbox:
    from graders.sandbox.docker_backend import DockerSandbox

    return DockerSandbox(
        image=image or "bootcamp-grader:latest", limits=limits, pool_size=pool_size, runtime="runsc"
    )


def _local(image: str | None, limits: Limits, pool_size: int) -> Sandbox:
    from graders.sandbox.local_backend import LocalSandbox

    return LocalSandbox(limits=limits)


BACKENDS: dict[str, Backend] = {
    "docker": Backend(
        "docker",
        "strong",
        "a fresh, locked-down container per notebook (no network, non-root, read-only, capped)",
        _docker,
        default_image="bootcamp-grader:latest",
    ),
    "gvisor": Backend(
        "gvisor",
        "strong",
        "the docker sandbox under gVisor (runsc): student code talks to a user-space kernel, not the host's",
        _gvisor,
        default_image="bootcamp-grader:latest",
    ),
    "local": Backend(
        "local",
        "weak",
        "a separate process on this machine with rlimits (and no network where user namespaces work)",
        _local,
        warning=(
            "WEAK ISOLATION: '--sandbox local' runs student code as a separate process on this machine with "
            "rlimits (and no network where user namespaces work). It cannot hide files readable by your user. "
            "Use '--sandbox docker' for real grading."
        ),
    ),
}
DEFAULT_BACKEND = "docker"


def backend(name: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise UserError(f"unknown sandbox {name!r}: use one of {', '.join(sorted(BACKENDS))}") from None


def open_sandbox(
    kind: str, *, image: str | None = None, limits: Limits | None = None, pool_size: int = 1
) -> Sandbox:
    """Returns a started sandbox of the given backend; close() it (or use it as a context manager)."""
    return backend(kind).open(image, limits or Limits(), pool_size)


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
