"""Local backend, for machines without Docker: the runner in a separate process with rlimits and,
where user namespaces work, no network. It is weaker than Docker: the kernel runs as the grading user
and can read what that user can read. graders.autograde warns about this on every run.
"""

from __future__ import annotations

import logging
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from graders.sandbox.job import (
    READY_LINE,
    READY_TIMEOUT,
    Job,
    Limits,
    SandboxError,
    SandboxResult,
    SandboxUnavailable,
    validate_result,
)
from graders.settings import repo_root

log = logging.getLogger(__name__)


def _network_isolation_prefix() -> list[str]:
    """`unshare` into new user and network namespaces when this kernel allows it, else nothing."""
    unshare = shutil.which("unshare")
    if not unshare:
        return []
    probe = subprocess.run([unshare, "--user", "--map-root-user", "--net", "--", "true"], capture_output=True)
    return [unshare, "--user", "--map-root-user", "--net", "--"] if probe.returncode == 0 else []


class LocalSandbox:
    """Runs each job in a fresh runner process; same JSON contract as the Docker backend."""

    name = "local"

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.prefix = _network_isolation_prefix()
        self.isolation = (
            "rlimits + no network (user/net namespaces)"
            if self.prefix
            else "rlimits only (network reachable)"
        )
        log.warning("local sandbox: %s", self.isolation)

    def _limit_resources(self) -> None:
        """Runs in the child before exec: its own session, capped memory, files, processes and cores."""
        os.setsid()
        memory = self.limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
        disk = self.limits.tmpfs_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (disk, disk))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        cpu = int(self.limits.notebook_timeout * 2) + 60
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))

    def run(self, job: Job) -> SandboxResult:
        scratch = Path(tempfile.mkdtemp(prefix="bootcamp-local-"))
        home = scratch / "home"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "IPYTHONDIR": str(home / ".ipython"),
            "MPLCONFIGDIR": str(home / ".matplotlib"),
            "JUPYTER_RUNTIME_DIR": str(home / ".runtime"),
            "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter"),
            # as stock nbgrader: figures become PNG outputs after each cell and are closed
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(repo_root()),
            "BOOTCAMP_WORK_DIR": str(scratch / "work"),
            **self.limits.thread_env(),
        }
        command = [*self.prefix, sys.executable, "-m", "graders.sandbox.runner"]
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=str(scratch),
            preexec_fn=self._limit_resources,  # noqa: PLW1509 - no threads touch the child before exec
        )
        try:
            try:
                ready = self._readline(process, time.monotonic() + READY_TIMEOUT)
            except SandboxError as error:
                raise SandboxUnavailable(str(error)) from None
            if ready.strip() != READY_LINE:
                raise SandboxUnavailable(f"the local runner did not start: {ready[:200]!r}")
            assert process.stdin is not None
            process.stdin.write(job.encode(self.limits))
            process.stdin.flush()
            line = self._readline(process, time.monotonic() + self.limits.notebook_timeout + 60)
            return validate_result(line, job, self.limits)
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
            shutil.rmtree(scratch, ignore_errors=True)

    def _readline(self, process: subprocess.Popen, deadline: float) -> bytes:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        buffer = b""
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxError("the local runner gave no result in time")
            readable, _, _ = select.select([fd], [], [], min(remaining, 1.0))
            if not readable:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise SandboxError(f"the local runner ended without a result (exit code {process.poll()})")
            buffer += chunk
            if len(buffer) > self.limits.result_bytes:
                raise SandboxError("the local runner wrote more than the result limit")
        return buffer.split(b"\n", 1)[0]

    def close(self) -> None:
        """Nothing outlives a job: each runner's process group is killed when its job ends."""

    def __enter__(self) -> LocalSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
