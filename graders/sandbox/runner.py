"""The program that runs INSIDE a grading sandbox: executes one job's cells in a kernel and prints JSON.

Contract (docs/architecture.md, "sandbox boundary"): the host writes one line of JSON (the job) to our
stdin and reads one line of JSON (the result) from our stdout. The job never touches the disk, so the
kernel, which runs student code as the same uid, cannot read the hidden tests ahead of it; we also make
this process non-dumpable so that the kernel cannot read our memory or file descriptors through /proc.
Only the Python standard library and jupyter_client are used here: the image stays small.
"""

from __future__ import annotations

import ast
import base64
import ctypes
import json
import os
import queue
import re
import resource
import secrets
import signal
import sys
import time
from pathlib import Path, PurePosixPath
from typing import Any

from graders.sandbox.job import READY_LINE, RESULT_VERSION

JOB_MAX_BYTES = 64 * 1024 * 1024
WORK_DIR = Path(os.environ.get("BOOTCAMP_WORK_DIR", "/tmp/work"))
PROBE_EXPRESSION = "__import__('graders.sandbox.probe', fromlist=['fingerprint']).fingerprint()"
# A notebook whose cells and .py files import only the standard library (and graders.harness) cannot reach
# numpy through a test; any other import, or a dynamic one, may (pandas, sklearn, ... are built on it).
# Then numpy is imported and recorded before the first cell, so a patch made in the cell that imports it
# is still seen; otherwise its import (about half a second of CPU per kernel) is not paid.
IMPORTED = re.compile(r"^[ \t]*(?:from|import)[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
DYNAMIC_IMPORT = re.compile(r"__import__|import_module|\bexec\b|\beval\b|\bcompile\b|%run|%load")


def may_use_numpy(texts: list[str]) -> bool:
    for text in texts:
        if DYNAMIC_IMPORT.search(text):
            return True
        for name in IMPORTED.findall(text):
            if name not in sys.stdlib_module_names and name not in ("graders", "__future__"):
                return True
    return False


# An output message may exceed what is left of the output budget by this much and still be read; a bigger
# one is dropped unparsed (see Runner._next_iopub).
OUTPUT_MESSAGE_SLACK_BYTES = 64 * 1024
# A flood can make the kernel's publisher drop the final "idle" status; once the reply is in and the
# output channel has been quiet this long, the cell is over.
QUIET_AFTER_REPLY_S = 2.0


def make_undumpable() -> None:
    """Hide our memory, environment and file descriptors from the kernel (same uid) via /proc."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_dumpable = 4
        libc.prctl(pr_set_dumpable, 0, 0, 0, 0)
    except OSError:  # not Linux: the local sandbox on another OS; nothing to hide behind
        pass


def ignore_signals() -> None:
    """Python handlers (not SIG_IGN) so that the kernel, after exec, gets default dispositions back."""

    def ignore(signum: int, frame: Any) -> None:
        return None

    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGPIPE", "SIGQUIT"):
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, ignore)


def reap_children(signum: int, frame: Any) -> None:
    """As PID 1 we inherit orphans (a fork bomb's children): reap them so they free their pids."""
    try:
        while True:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
    except ChildProcessError:
        return


class OutputCollector:
    """Builds nbformat outputs from iopub messages and enforces the job's cap on captured bytes."""

    def __init__(self, budget: dict[str, int]) -> None:
        self.outputs: list[dict[str, Any]] = []
        self.budget = budget  # shared across cells: {"left": bytes}
        self.clear_pending = False
        self.overflowed = False

    def _charge(self, output: dict[str, Any]) -> bool:
        size = len(json.dumps(output))
        if size > self.budget["left"]:
            self.overflowed = True
            self.budget["left"] = 0
            return False
        self.budget["left"] -= size
        return True

    def refuse_oversized(self) -> None:
        """An output too big to read: the cell has printed more than it may."""
        self.overflowed = True
        self.budget["left"] = 0

    def add(self, msg_type: str, content: dict[str, Any]) -> None:
        if msg_type == "clear_output":
            if content.get("wait"):
                self.clear_pending = True
            else:
                self.outputs.clear()
            return
        output: dict[str, Any] | None = None
        if msg_type == "stream":
            output = {
                "output_type": "stream",
                "name": content.get("name", "stdout"),
                "text": content.get("text", ""),
            }
        elif msg_type in ("display_data", "execute_result"):
            output = {
                "output_type": msg_type,
                "data": content.get("data", {}),
                "metadata": content.get("metadata", {}),
            }
            if msg_type == "execute_result":
                output["execution_count"] = content.get("execution_count")
        elif msg_type == "error":
            output = {
                "output_type": "error",
                "ename": str(content.get("ename", "")),
                "evalue": str(content.get("evalue", "")),
                "traceback": [str(line) for line in content.get("traceback", [])],
            }
        if output is None:
            return
        if self.clear_pending:
            self.outputs.clear()
            self.clear_pending = False
        if self.overflowed or not self._charge(output):
            return
        last = self.outputs[-1] if self.outputs else None
        if (
            output["output_type"] == "stream"
            and last
            and last["output_type"] == "stream"
            and last["name"] == output["name"]
        ):
            last["text"] += output["text"]
        else:
            self.outputs.append(output)


def error_output(ename: str, evalue: str) -> dict[str, Any]:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


class Runner:
    """Owns one kernel for one job: start, run cells with limits, report, always shut down."""

    def __init__(self) -> None:
        self.km: Any = None
        self.kc: Any = None
        self.events: list[dict[str, Any]] = []
        self.kernel_dead_reason = ""
        self.probe_expression = PROBE_EXPRESSION  # until arm_probe names the armed checker
        self.checker = ""
        self.configure({})

    def configure(self, limits: dict[str, Any]) -> None:
        """Applies the job's limits (the kernel may already be running: jobs arrive after it starts)."""
        self.cell_timeout = float(limits.get("cell_timeout", 30))
        self.notebook_timeout = float(limits.get("notebook_timeout", 600))
        self.interrupt_grace = float(limits.get("interrupt_grace", 5))
        self.budget = {"left": int(limits.get("output_bytes", 2_000_000))}

    # -- lifecycle -------------------------------------------------------------------------------------
    def start_kernel(self) -> None:
        from jupyter_client import KernelManager

        WORK_DIR.mkdir(parents=True, exist_ok=True)
        for variable in ("HOME", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR"):
            if os.environ.get(variable):
                Path(os.environ[variable]).mkdir(parents=True, exist_ok=True)
        # Unix sockets, not TCP: works without a loopback device (a fresh network namespace has none up)
        runtime = Path(os.environ.get("JUPYTER_RUNTIME_DIR", str(WORK_DIR.parent / ".runtime")))
        runtime.mkdir(parents=True, exist_ok=True)
        self.km = KernelManager(kernel_name="python3", transport="ipc", ip=str(runtime / "kernel"))
        self.km.kernel_cmd = []  # use the kernelspec; arguments below keep history in memory
        # nbgrader's documented flag: notebooks may check it to skip slow work while being autograded
        os.environ["NBGRADER_EXECUTION"] = "autograde"
        self.km.start_kernel(
            cwd=str(WORK_DIR),
            extra_arguments=["--HistoryManager.hist_file=:memory:", "--HistoryManager.enabled=False"],
            stdout=open(os.devnull, "wb"),  # noqa: SIM115 - lives as long as the kernel
            stderr=open(os.devnull, "wb"),  # noqa: SIM115
            stdin=open(os.devnull, "rb"),  # noqa: SIM115
        )
        self._raise_kernel_oom_score()
        self._cap_kernel_memory()
        self.kc = self.km.client()
        self.kc.start_channels(hb=False)
        self.kc.wait_for_ready(timeout=60)
        self.arm_probe()

    def arm_probe(self) -> None:
        """Before any student code: the probe records identities and hides its checker under a name
        chosen here (see probe.arm); the runner calls it through that name from now on."""
        token = "_bootcamp_" + secrets.token_hex(8)
        arm = f"__import__('graders.sandbox.probe', fromlist=['arm']).arm({token!r})"
        self.run_cell(arm, silent=True)
        self.probe_expression = f"__import__('builtins').__dict__[{token!r}]()"
        self.checker = f"__import__('builtins').__dict__[{token!r}]"

    def watch_numpy_if_used(self, job: dict[str, Any]) -> None:
        """Before any student code: import and record numpy when the notebook may use it (may_use_numpy)."""
        texts = [cell.get("source", "") for cell in job.get("cells", [])]
        texts += [
            base64.b64decode(item.get("content_b64", "")).decode("utf-8", "replace")
            for item in job.get("files", [])
            if str(item.get("path", "")).endswith(".py")
        ]
        if self.checker and may_use_numpy(texts):
            self.run_cell(f"{self.checker}.watch(['numpy', 'numpy.testing', 'numpy.linalg'])", silent=True)

    def _raise_kernel_oom_score(self) -> None:
        """Under the memory limit the OOM killer should pick the kernel, never the runner."""
        pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
        if pid:
            try:
                Path(f"/proc/{pid}/oom_score_adj").write_text("1000")
            except OSError:
                pass

    def shutdown(self) -> None:
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km is not None and self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - the container ends with us; nothing to clean up after
            pass

    # -- files -------------------------------------------------------------------------------------------
    @staticmethod
    def write_files(files: list[dict[str, str]]) -> None:
        for item in files:
            relative = PurePosixPath(item["path"])
            if relative.is_absolute() or ".." in relative.parts:
                raise ValueError(f"unsafe path in job: {item['path']!r}")
            target = WORK_DIR / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(base64.b64decode(item["content_b64"]))

    # -- execution ---------------------------------------------------------------------------------------
    def _cap_kernel_memory(self) -> None:
        """Under gVisor the memory cgroup holds the whole sandbox (one host process), so the host's OOM
        killer cannot pick the kernel: it would end the runner too and every cell would score 0. There the
        kernel's address space is capped instead, and a runaway allocation is a MemoryError in its cell."""
        pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
        if pid and KERNEL_MEMORY_MB:
            limit = KERNEL_MEMORY_MB * 2**20
            resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))

    def kernel_alive(self) -> bool:
        try:
            return bool(self.km.is_alive())
        except Exception:  # noqa: BLE001
            return False

    def _kernel_exit_reason(self) -> str:
        code = None
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        if process is not None:
            code = process.poll()
        if oom_killed():
            return "the kernel was killed by the sandbox's memory limit"
        if code is not None and code < 0:
            return f"the kernel was killed by signal {-code}"
        if code is not None:
            return f"the kernel exited with code {code} (for example os._exit or sys.exit in a cell)"
        return "the kernel stopped responding"

    def run_cell(self, source: str, silent: bool = False, deadline: float | None = None) -> dict[str, Any]:
        """Executes one cell; returns status, execution_count, outputs and seconds."""
        started = time.monotonic()
        collector = OutputCollector(self.budget)
        result: dict[str, Any] = {"status": "ok", "execution_count": None, "outputs": collector.outputs}
        if not self.kernel_alive():
            result.update(status="not_run", reason=self.kernel_dead_reason or self._kernel_exit_reason())
            return result
        cell_deadline = started + self.cell_timeout
        if deadline is not None:
            cell_deadline = min(cell_deadline, deadline)
        msg_id = self.kc.execute(
            source, silent=silent, store_history=not silent, allow_stdin=False, stop_on_error=False
        )
        reply: dict[str, Any] | None = None
        idle = False
        interrupted_at: float | None = None
        last_output_at = started
        while not (idle and reply is not None):
            now = time.monotonic()
            if interrupted_at is None and now > cell_deadline:
                interrupted_at = now
                self._interrupt()
                timed_out_notebook = deadline is not None and now >= deadline
                kind = "notebook_timeout" if timed_out_notebook else "cell_timeout"
                self.events.append({"kind": kind, "seconds": round(now - started, 2)})
                collector.outputs.append(
                    error_output(
                        "CellTimeoutError",
                        "the notebook's time limit ran out during this cell"
                        if timed_out_notebook
                        else f"this cell ran longer than its limit of {self.cell_timeout:g} s",
                    )
                )
                result["status"] = "timeout"
            if interrupted_at is not None and now > interrupted_at + self.interrupt_grace:
                self.kernel_dead_reason = "the kernel ignored an interrupt after a time limit and was stopped"
                self.events.append({"kind": "kernel_killed", "reason": self.kernel_dead_reason})
                self._kill_kernel()
                result["status"] = "timeout"
                break
            if collector.overflowed and interrupted_at is None:
                interrupted_at = now
                self.events.append({"kind": "output_limit", "seconds": round(now - started, 2)})
                self._interrupt()
                collector.outputs.append(
                    error_output("OutputLimitError", "this cell printed more output than allowed")
                )
                result["status"] = "error"
            if not self.kernel_alive():
                reason = self.kernel_dead_reason or self._kernel_exit_reason()
                self.kernel_dead_reason = reason
                self.events.append({"kind": "kernel_died", "reason": reason})
                collector.outputs.append(error_output("DeadKernelError", reason))
                result["status"] = "dead"
                break
            if not idle:
                msg = self._next_iopub(0.05, msg_id, collector)
                if msg is not None:
                    last_output_at = time.monotonic()
                if msg and msg.get("parent_header", {}).get("msg_id") == msg_id:
                    msg_type = msg["header"]["msg_type"]
                    if msg_type == "status" and msg["content"].get("execution_state") == "idle":
                        idle = True
                    else:
                        collector.add(msg_type, msg["content"])
                elif reply is not None and time.monotonic() - last_output_at > QUIET_AFTER_REPLY_S:
                    idle = True  # the idle status was lost in a flood; the reply already ended the cell
            if reply is None:
                try:
                    candidate = self.kc.get_shell_msg(timeout=0 if not idle else 0.05)
                except queue.Empty:
                    candidate = None
                if candidate is not None and candidate.get("parent_header", {}).get("msg_id") == msg_id:
                    reply = candidate["content"]
                    last_output_at = max(last_output_at, time.monotonic())
        if reply is not None:
            result["execution_count"] = reply.get("execution_count")
            status = reply.get("status", "error")
            if result["status"] == "ok":
                result["status"] = "ok" if status == "ok" else "error"
            result["reply_status"] = status
            if status == "error" and not any(o["output_type"] == "error" for o in collector.outputs):
                # showtraceback may have been silenced; the reply still tells the truth about the error
                collector.outputs.append(
                    error_output(str(reply.get("ename", "Error")), str(reply.get("evalue", "")))
                )
            if silent:
                result["user_expressions"] = reply.get("user_expressions", {})
            if status == "error" and reply.get("ename") == "MemoryError" and KERNEL_MEMORY_MB:
                reason = f"a cell reached the kernel's memory cap of {KERNEL_MEMORY_MB} MB"
                self.events.append({"kind": "memory_limit", "reason": reason})
        result["seconds"] = round(time.monotonic() - started, 3)
        return result

    def _next_iopub(self, timeout: float, msg_id: str, collector: OutputCollector) -> dict[str, Any] | None:
        """The next output message; {} for one dropped unread; None when none came.

        The runner must outlive the kernel under the sandbox's memory limit, so it never parses a message
        bigger than what is left of the output budget: a print flood reaches us as few huge messages
        (ipykernel sends what it buffered between flushes), and decoding them would fill our memory
        instead of the kernel's. Dropping one unread costs nothing: it is never copied."""
        socket = self.kc.iopub_channel.socket
        if not socket.poll(int(timeout * 1000)):
            return None
        frames = socket.recv_multipart(copy=False)
        _, message_frames = self.kc.session.feed_identities(frames, copy=False)
        if sum(len(frame) for frame in message_frames) > self.budget["left"] + OUTPUT_MESSAGE_SLACK_BYTES:
            # [signature, header, parent header, ...]: only the small parent header is read, to charge
            # the cell that printed it (an earlier cell's output may still be arriving)
            parent = json.loads(bytes(message_frames[2].buffer)) if len(message_frames) > 2 else {}
            if isinstance(parent, dict) and parent.get("msg_id") == msg_id:
                collector.refuse_oversized()
            return {}
        return self.kc.session.deserialize(message_frames, copy=False)

    def probe(self) -> dict[str, Any] | None:
        """Fingerprint of the kernel's grading-relevant state (transformers, hooks, assert helpers)."""
        if not self.kernel_alive():
            return None
        msg_id = self.kc.execute(
            "", silent=True, store_history=False, user_expressions={"p": self.probe_expression}
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                reply = self.kc.get_shell_msg(timeout=0.2)
            except queue.Empty:
                if not self.kernel_alive():
                    return None
                continue
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            value = reply["content"].get("user_expressions", {}).get("p", {})
            if value.get("status") != "ok":
                return {"probe_error": str(value.get("ename", "unknown"))}
            try:  # text/plain is the repr of the JSON string
                return json.loads(ast.literal_eval(value["data"]["text/plain"]))
            except (KeyError, ValueError, TypeError, SyntaxError):
                return {"probe_error": "unreadable"}
        return None

    def _interrupt(self) -> None:
        try:
            self.km.interrupt_kernel()
        except Exception:  # noqa: BLE001
            pass

    def _kill_kernel(self) -> None:
        pgid = getattr(getattr(self.km, "provisioner", None), "pgid", None)
        try:
            self.km.kill_kernel()
        except Exception:  # noqa: BLE001
            pass
        if pgid and pgid != os.getpgid(0):
            _kill_group(pgid)


def _kill_group(pgid: int) -> None:
    """The kernel's children die with it. One SIGKILL to its process group does that under runc; under
    gVisor children forked while the signal is being delivered escape it (a fork bomb survives), so it is
    repeated, reaping the orphans the runner (PID 1) inherits, until the group is gone (at most 5 s)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        time.sleep(0.05)


# Set by the Docker backend for gVisor sandboxes only (see Runner._cap_kernel_memory); 0 = no cap.
KERNEL_MEMORY_MB = int(os.environ.get("BOOTCAMP_KERNEL_MEMORY_MB", "0") or 0)


def oom_killed() -> bool:
    """Whether the cgroup's OOM killer fired (cgroup v1 or v2), when the kernel lets us see it."""
    for path, key in (
        ("/sys/fs/cgroup/memory.events", "oom_kill"),
        ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"),
    ):
        try:
            for line in Path(path).read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == key and int(value) > 0:
                    return True
        except (OSError, ValueError):
            continue
    return False


REPORT_MIME = "application/vnd.bootcamp.check+json"


def _unwrap(value: Any, kind: str) -> Any:
    """A reported array or dtype as the value the original check would have compared."""
    if isinstance(value, dict) and "dtype" in value:
        return value["dtype"]
    if isinstance(value, dict) and "array" in value:
        inner = value["array"]
        if kind != "eq":
            return inner
        flat = inner
        while isinstance(flat, list) and len(flat) == 1:
            flat = flat[0]
        if isinstance(flat, list):
            raise ValueError(
                "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()"
            )
        return flat
    return value


def judge_check(check: dict[str, Any], reports: list[dict[str, Any]]) -> str | None:
    """None when the reported value passes the check; otherwise the failure message for the cell.
    A partial-credit check that passes leaves its points in check["score"]."""
    from graders import harness

    found = [report for report in reports if report.get("id") == check["id"]]
    name = str(check.get("name") or "value")
    if not found:
        return f"{name}: the check did not run"
    if len(found) > 1:
        return f"{name}: the check reported more than one value"
    report = found[0]
    if "error" in report:
        return str(report["error"])[:300]
    kind = check["kind"]
    try:
        actual = _unwrap(harness.untag(report.get("value")), kind)
        expected = harness.untag(check["expected"])
        if kind == "eq":
            return None if actual == expected else ""
        if kind == "partial_credit":
            low, high, points = expected
            check["score"] = harness.partial_credit(actual, low, high, points)
            return None
        if kind in ("assert_close", "assert_array_close"):
            getattr(harness, kind)(
                actual,
                expected,
                rtol=check["rtol"],
                atol=check["atol"],
                name=name,
                hidden=check.get("hidden", False),
            )
        elif kind == "assert_equal":
            harness.assert_equal(actual, expected, name=name, hidden=check.get("hidden", False))
        elif kind == "np_assert_allclose":
            import numpy.testing

            numpy.testing.assert_allclose(actual, expected, rtol=check["rtol"], atol=check["atol"])
        elif kind == "np_assert_array_equal":
            import numpy.testing

            numpy.testing.assert_array_equal(actual, expected)
        else:
            return f"{name}: unknown kind of check {kind!r}"
    except AssertionError as error:
        message = str(error).strip()
        return message.splitlines()[0][:300] if kind.startswith("assert_") else "values differ"
    except Exception as error:  # noqa: BLE001 - a value the comparison cannot read fails the check
        return f"{type(error).__name__}: {str(error)[:200]}"
    return None


def apply_verdicts(outcome: dict[str, Any], checks: list[dict[str, Any]]) -> list[str]:
    """Strips check reports from a cell's outputs and adds an error when one of its checks failed.
    Returns what looked like tampering (a checked value whose class decides its own equality)."""
    reports = []
    kept = []
    for output in outcome.get("outputs", []):
        payload = (
            output.get("data", {}).get(REPORT_MIME) if output.get("output_type") == "display_data" else None
        )
        if payload is None:
            kept.append(output)
            continue
        try:
            report = json.loads(payload) if isinstance(payload, str) else payload
        except ValueError:
            report = {}
        if isinstance(report, dict):
            reports.append(report)
    if any(check["kind"] == "partial_credit" for check in checks):
        # the points are the runner's to display: anything the kernel displayed as a result is dropped
        kept = [output for output in kept if output.get("output_type") != "execute_result"]
    outcome["outputs"] = kept
    suspicious = sorted({str(r["suspicious"])[:200] for r in reports if r.get("suspicious")})
    already_failed = any(o.get("output_type") == "error" for o in kept)
    for check in checks:
        message = judge_check(check, reports)
        if message is None and "score" in check:
            kept.append(
                {
                    "output_type": "execute_result",
                    "data": {"text/plain": repr(float(check.pop("score")))},
                    "metadata": {},
                    "execution_count": outcome.get("execution_count"),
                }
            )
            continue
        if message is None or (already_failed and message.endswith("the check did not run")):
            continue
        kept.append(error_output("AssertionError", message))
        if outcome.get("status") == "ok":
            outcome["status"] = "error"
        already_failed = True
    return suspicious


def compare_probes(baseline: dict[str, Any], current: dict[str, Any] | None) -> list[str]:
    """Names the grading-relevant pieces of kernel state that changed since the kernel started."""
    if current is None:
        return []
    changes = []
    for key, before in baseline.items():
        after = current.get(key)
        if after != before:
            changes.append(f"{key}: {before!r} -> {after!r}")
    for key, value in current.items():
        if key not in baseline and value != "installed":  # e.g. numpy imported later: must be the real one
            changes.append(f"{key}: {value!r}")
    return changes


def run_job(job: dict[str, Any], runner: Runner) -> dict[str, Any]:
    """Executes every cell of the job in order and returns the result document."""
    started = time.monotonic()
    deadline = started + runner.notebook_timeout
    runner.write_files(job.get("files", []))
    if job.get("probe", True):
        runner.watch_numpy_if_used(job)
    baseline = runner.probe() if job.get("probe", True) else None
    integrity: list[dict[str, Any]] = []
    checks: dict[str, list[dict[str, Any]]] = {}
    for check in job.get("checks", []):
        checks.setdefault(check["cell"], []).append(check)
    cells = []
    for cell in job["cells"]:
        if time.monotonic() >= deadline:
            outcome: dict[str, Any] = {
                "status": "not_run",
                "reason": "the notebook's time limit ran out",
                "outputs": [],
            }
        else:
            outcome = runner.run_cell(cell["source"], deadline=deadline)
        outcome["id"] = cell["id"]
        suspicious = apply_verdicts(outcome, checks.get(cell["id"], []))
        if suspicious:
            integrity.append({"kind": "own_equality", "cell": cell["id"], "detail": suspicious})
        cells.append(outcome)
        if baseline is not None and outcome["status"] not in ("not_run", "dead"):
            changes = compare_probes(baseline, runner.probe())
            if changes:
                integrity.append({"kind": "kernel_state_changed", "cell": cell["id"], "detail": changes[:20]})
                baseline = None  # report the first change only; later cells are judged by canaries
    return {
        "version": RESULT_VERSION,
        "cells": cells,
        "events": runner.events,
        "integrity": integrity,
        "seconds": round(time.monotonic() - started, 3),
    }


def read_job(stream: Any) -> dict[str, Any]:
    line = stream.readline(JOB_MAX_BYTES + 1)
    if len(line) > JOB_MAX_BYTES:
        raise ValueError("job larger than the runner accepts")
    if not line.strip():
        raise ValueError("no job on stdin")
    return json.loads(line)


def main() -> int:
    make_undumpable()
    ignore_signals()
    if os.getpid() == 1:
        signal.signal(signal.SIGCHLD, reap_children)
    out = sys.stdout.buffer
    # Keep fd 1 for ourselves; anything else that prints goes to stderr, which the host ignores.
    sys.stdout = sys.stderr
    runner: Runner | None = None
    try:
        # The kernel starts before the job arrives: a pre-started sandbox answers at once.
        runner = Runner()
        runner.start_kernel()
        out.write(READY_LINE + b"\n")
        out.flush()
        job = read_job(sys.stdin.buffer)
        runner.configure(job.get("limits", {}))
        result = run_job(job, runner)
    except Exception as error:  # noqa: BLE001 - report any failure of the runner itself as a result
        result = {"version": RESULT_VERSION, "fatal": f"{type(error).__name__}: {error}"}
    finally:
        if runner is not None:
            runner.shutdown()
    out.write(json.dumps(result).encode() + b"\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
