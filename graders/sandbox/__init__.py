"""One small interface for running a grading job in isolation: `Sandbox.run(job) -> result`.

Backends: `docker` (a fresh, locked-down container per job, see docker_backend) and `local` (a separate
process with rlimits and, where possible, no network; weaker, and it says so). Both speak the same
contract with graders.sandbox.runner: one JSON job line in, one JSON result line out.
"""

from __future__ import annotations

from graders.sandbox.job import Job, Limits, SandboxError, SandboxUnavailable, validate_result

__all__ = ["Job", "Limits", "SandboxError", "SandboxUnavailable", "validate_result", "open_sandbox"]


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
