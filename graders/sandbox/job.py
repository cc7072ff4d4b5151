"""The trust boundary's two documents: the job we send and the result we accept back."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

RESULT_VERSION = 1
# The runner's first line: its kernel has booted and it waits for exactly one job on stdin.
READY_LINE = b'{"ready": true}'
READY_TIMEOUT = 90.0  # seconds a fresh sandbox may take to boot its kernel
CELL_STATUSES = {"ok", "error", "timeout", "dead", "not_run"}
OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}


class CellResult(TypedDict):
    """One executed cell in the runner's result (validate_result checks every field we read)."""

    id: str
    status: Literal["ok", "error", "timeout", "dead", "not_run"]
    outputs: list[dict[str, Any]]  # nbformat outputs: stream, display_data, execute_result, error
    execution_count: NotRequired[int | None]
    seconds: NotRequired[float]
    reason: NotRequired[str]  # why a cell did not run


class SandboxResult(TypedDict):
    """What Sandbox.run returns: the runner's result document, validated against the job."""

    version: int
    cells: list[CellResult]  # in the job's order, one per job cell
    events: list[dict[str, Any]]  # limits met: cell_timeout, output_limit, kernel_died, ...
    integrity: list[dict[str, Any]]  # the probe's and verdicts' findings: kernel_state_changed, own_equality
    seconds: float


class SandboxError(Exception):
    """A job produced no valid result (the container died, the result was invalid or too large)."""


class SandboxUnavailable(SandboxError):
    """No sandbox could be started: a failure of grading itself, never recorded as the student's score."""


def thread_env(cpus: float) -> dict[str, str]:
    """Math libraries (OpenBLAS, MKL, OpenMP, torch) start one thread per host core unless told
    otherwise; inside a CPU quota the extra threads only wait on each other, so they get the quota."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
    return dict.fromkeys(names, str(max(1, int(cpus))))


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox run. Defaults suit the course's assignments on a 2-core machine."""

    cell_timeout: float = 30.0  # seconds per cell (nbgrader's Execute.timeout)
    notebook_timeout: float = 600.0  # seconds for the whole notebook
    memory_mb: int = 1536  # RAM, no extra swap
    cpus: float = 1.0
    pids: int = 128
    tmpfs_mb: int = 256  # scratch space, the only writable place
    output_bytes: int = 2_000_000  # captured cell output, enforced while it is produced
    result_bytes: int = 16_000_000  # the whole result document
    interrupt_grace: float = 5.0  # seconds a cell may ignore an interrupt before the kernel is killed

    def thread_env(self) -> dict[str, str]:
        return thread_env(self.cpus)

    def for_runner(self) -> dict[str, Any]:
        return {
            "cell_timeout": self.cell_timeout,
            "notebook_timeout": self.notebook_timeout,
            "output_bytes": self.output_bytes,
            "interrupt_grace": self.interrupt_grace,
        }


@dataclass
class Job:
    """Cells to execute in order (id, source) and the files the notebook may read, nothing else."""

    cells: list[dict[str, str]]
    files: dict[str, bytes] = field(default_factory=dict)
    probe: bool = True
    checks: list[dict[str, Any]] = field(default_factory=list)  # verdicts the runner gives (verdicts.py)
    label: str = ""  # whose job this is ("assignment/student"), for queues and logs; never sent to the runner

    def encode(self, limits: Limits) -> bytes:
        document = {
            "version": RESULT_VERSION,
            "cells": self.cells,
            "files": [
                {"path": path, "content_b64": base64.b64encode(data).decode()}
                for path, data in sorted(self.files.items())
            ],
            "limits": limits.for_runner(),
            "probe": self.probe,
            "checks": self.checks,
        }
        return json.dumps(document).encode() + b"\n"

    @staticmethod
    def collect_files(directory: Path, max_bytes: int = 50_000_000) -> dict[str, bytes]:
        """Regular files beside the notebook (data), never notebooks and never symlinks out of the folder."""
        files: dict[str, bytes] = {}
        total = 0
        root = directory.resolve()
        for path in sorted(directory.rglob("*")):
            if path.is_symlink() or not path.is_file() or path.suffix == ".ipynb":
                continue
            if ".ipynb_checkpoints" in path.parts or not path.resolve().is_relative_to(root):
                continue
            data = path.read_bytes()
            total += len(data)
            if total > max_bytes:
                raise SandboxError(f"the files beside the notebook exceed {max_bytes // 1_000_000} MB")
            files[path.relative_to(directory).as_posix()] = data
        return files


def validate_result(raw: bytes, job: Job, limits: Limits) -> SandboxResult:
    """Parses and checks the runner's result; anything unexpected is a SandboxError, never trusted."""
    if len(raw) > limits.result_bytes:
        raise SandboxError(f"the sandbox's result is larger than {limits.result_bytes} bytes")
    try:
        result = json.loads(raw)
    except ValueError as error:
        raise SandboxError(f"the sandbox returned invalid JSON: {error}") from None
    if not isinstance(result, dict) or result.get("version") != RESULT_VERSION:
        raise SandboxError("the sandbox returned a result of an unknown version")
    if "fatal" in result:
        raise SandboxError(f"the runner failed: {str(result['fatal'])[:500]}")
    cells = result.get("cells")
    expected_ids = [cell["id"] for cell in job.cells]
    if not isinstance(cells, list) or [c.get("id") for c in cells if isinstance(c, dict)] != expected_ids:
        raise SandboxError("the sandbox's result does not match the job's cells")
    for cell in cells:
        if cell.get("status") not in CELL_STATUSES:
            raise SandboxError(f"unknown cell status {cell.get('status')!r}")
        outputs = cell.get("outputs")
        if not isinstance(outputs, list) or not all(
            isinstance(o, dict) and o.get("output_type") in OUTPUT_TYPES for o in outputs
        ):
            raise SandboxError("the sandbox returned malformed outputs")
        count = cell.get("execution_count")
        if count is not None and not isinstance(count, int):
            raise SandboxError("the sandbox returned a malformed execution count")
    for key in ("events", "integrity"):
        if not isinstance(result.get(key, []), list):
            raise SandboxError(f"the sandbox returned a malformed '{key}' list")
    return result  # type: ignore[no-any-return]  # checked above, field by field


def describe(limits: Limits) -> str:
    return ", ".join(f"{k}={v}" for k, v in asdict(limits).items())
