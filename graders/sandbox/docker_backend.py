"""Docker backend: every job runs in a fresh, locked-down container that is removed afterwards.

A small warm pool starts containers ahead of need (their kernels boot while earlier jobs run), yet no
container ever serves two jobs. Containers carry labels naming this process, so that containers left by
a killed run are found and removed by the next one.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import socket
import struct
import threading
import time
import uuid

from graders.errors import UserError
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

log = logging.getLogger(__name__)

LABEL = "bootcamp.sandbox"
LABEL_PID = "bootcamp.sandbox.pid"
LABEL_HOST = "bootcamp.sandbox.host"
LABEL_PIDNS = "bootcamp.sandbox.pidns"  # a pid means something only inside its own pid namespace
LABEL_GROUP = "bootcamp.sandbox.group"  # BOOTCAMP_SANDBOX_GROUP: finds one run's sandboxes (a CI job's)


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def owner_labels() -> dict[str, str]:
    """Who started a sandbox: enough for a later sweep to tell a dead owner from one it cannot see."""
    return {
        LABEL_PID: str(os.getpid()),
        LABEL_HOST: socket.gethostname(),
        LABEL_PIDNS: _pid_namespace(),
        LABEL_GROUP: os.environ.get("BOOTCAMP_SANDBOX_GROUP", ""),
    }


def docker_client():
    """A client for the local engine, or a UserError that says how to get one."""
    try:
        import docker

        client = docker.from_env(timeout=120)
        client.ping()
        return client
    except Exception as error:  # noqa: BLE001 - any failure here means "no engine"
        raise UserError(
            f"no Docker engine answers ({type(error).__name__}). Start one (scripts/quickstart does it) "
            "or grade with '--sandbox local' (weaker isolation)."
        ) from None


def labelled_containers(client, label: str) -> list[dict]:
    """(id, labels) of the containers with `label`, from one listing call.

    Not `containers.list()`: it inspects each container after listing them, and a sandbox that another
    run removes in between (they live seconds) makes the whole call fail with 404."""
    return [
        {"id": item["Id"], "labels": item.get("Labels") or {}}
        for item in client.api.containers(all=True, filters={"label": label})
    ]


def _remove(client, container_id: str) -> bool:
    import docker

    try:
        client.api.remove_container(container_id, force=True)
        return True
    except docker.errors.NotFound:
        return False  # already gone: what we wanted


def remove_stale_containers(client) -> int:
    """Removes sandboxes whose owning process on this host is gone (a run killed with SIGKILL)."""
    removed = 0
    host, namespace = socket.gethostname(), _pid_namespace()
    for container in labelled_containers(client, LABEL):
        labels = container["labels"]
        if labels.get(LABEL_HOST) != host or labels.get(LABEL_PIDNS, namespace) != namespace:
            continue  # another machine's, or another pid namespace's (a CI job beside us): not ours to judge
        try:
            pid = int(labels.get(LABEL_PID, "0"))
            os.kill(pid, 0)
            continue  # owner alive
        except (ValueError, ProcessLookupError):
            pass
        except PermissionError:
            continue
        try:
            removed += _remove(client, container["id"])
        except Exception:  # noqa: BLE001
            log.warning("could not remove stale sandbox %s", container["id"][:12])
    return removed


class _FrameReader:
    """Reads the stdout stream of an attached container (Docker's 8-byte framed multiplexing)."""

    def __init__(self, sock: socket.socket, limit: int) -> None:
        self.sock = sock
        self.limit = limit
        self.buffer = b""

    def _recv_exact(self, size: int, deadline: float) -> bytes:
        chunks = b""
        while len(chunks) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            self.sock.settimeout(min(remaining, 5.0))
            try:
                chunk = self.sock.recv(size - len(chunks))
            except TimeoutError:
                continue
            if not chunk:
                raise EOFError
            chunks += chunk
        return chunks

    def readline(self, deadline: float) -> bytes:
        while b"\n" not in self.buffer:
            header = self._recv_exact(8, deadline)
            stream, size = header[0], struct.unpack(">I", header[4:])[0]
            payload = self._recv_exact(size, deadline)
            if stream == 1:  # stdout; stderr is not attached
                self.buffer += payload
            if len(self.buffer) > self.limit:
                raise SandboxError(f"the sandbox wrote more than {self.limit} bytes")
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line


class _Started:
    """A container whose runner has booted its kernel and waits for exactly one job."""

    def __init__(self, container, sock, reader: _FrameReader) -> None:
        self.container = container
        self.sock = sock
        self.reader = reader


# How dockerd must know gVisor (in /etc/docker/daemon.json, "runtimes"): the ptrace platform needs no KVM,
# and a sandbox never has a network, so runsc sets none up (with one it fails inside a root namespace).
# Under gVisor the notebook kernel's address space is capped (RLIMIT_AS), not its resident memory: a
# Python kernel reserves about 1 GB it never touches (thread stacks, allocator arenas, libraries), so
# the cap is the memory limit plus that slack, and the cgroup holds the cap plus gVisor's own memory.
GVISOR_ADDRESS_SPACE_SLACK_MB = 1024
GVISOR_HOST_OVERHEAD_MB = 384
GVISOR_RUNTIME = {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--platform=ptrace", "--network=none"]}}


class DockerSandbox:
    """Runs jobs in fresh containers: no network, non-root, read-only root, capped resources."""

    name = "docker"
    isolation = "a fresh container per job: no network, non-root, read-only root, capped resources"

    def __init__(self, image: str, limits: Limits, pool_size: int = 1, runtime: str | None = None) -> None:
        self.image = image
        self.limits = limits
        self.pool_size = max(1, pool_size)
        self.runtime = runtime  # None: the engine's default (runc); "runsc": gVisor
        self.client = docker_client()
        self._check_image()
        self._check_runtime()
        self.run_id = uuid.uuid4().hex[:12]
        self._live: set[str] = set()
        self._running: set[socket.socket] = set()  # sockets being read (boots, jobs), ended by close()
        self._lock = threading.Lock()
        self._ready: queue.Queue[_Started | Exception] = queue.Queue()
        self._wanted = threading.Semaphore(0)
        self._closed = False
        removed = remove_stale_containers(self.client)
        if removed:
            log.warning("removed %d sandbox container(s) left by an interrupted run", removed)
        atexit.register(self.close)
        self._starters = [
            threading.Thread(target=self._keep_warm, name=f"sandbox-warm-{i}", daemon=True)
            for i in range(self.pool_size)
        ]
        for thread in self._starters:
            thread.start()
        for _ in range(self.pool_size):
            self._wanted.release()

    def _check_image(self) -> None:
        import docker.errors

        try:
            self.client.images.get(self.image)
        except docker.errors.ImageNotFound:
            raise UserError(
                f"the grading image {self.image!r} does not exist here. Build it with scripts/build_images "
                "(no registry is needed)."
            ) from None

    def _check_runtime(self) -> None:
        if self.runtime is None:
            return
        known = set((self.client.info().get("Runtimes") or {}).keys())
        if self.runtime not in known:
            raise SandboxUnavailable(
                f"the Docker engine has no {self.runtime!r} runtime (it has: {', '.join(sorted(known))}). "
                f"For gVisor: apt-get install runsc, add {json.dumps({'runtimes': GVISOR_RUNTIME})} to "
                "/etc/docker/daemon.json and restart dockerd"
            )

    # -- container lifecycle -------------------------------------------------------------------------
    def _create(self):
        import docker

        limits = self.limits
        memory_mb, pids, environment = limits.memory_mb, limits.pids, limits.thread_env()
        ulimits = [docker.types.Ulimit(name="core", soft=0, hard=0)]
        if self.runtime == "runsc":
            # gVisor: the cgroup limits hold its user-space kernel (one host process with many threads),
            # so they get headroom, and the job's own limits are enforced inside: processes by RLIMIT_NPROC,
            # the notebook kernel's memory by RLIMIT_AS (graders.sandbox.runner)
            kernel_address_space_mb = limits.memory_mb + GVISOR_ADDRESS_SPACE_SLACK_MB
            memory_mb = kernel_address_space_mb + GVISOR_HOST_OVERHEAD_MB
            pids = limits.pids * 16 + 1024  # host threads: with ptrace each guest task costs several
            environment["BOOTCAMP_KERNEL_MEMORY_MB"] = str(kernel_address_space_mb)
            ulimits.append(docker.types.Ulimit(name="nproc", soft=limits.pids, hard=limits.pids))
        return self.client.containers.create(
            self.image,
            stdin_open=True,
            detach=True,
            network_disabled=True,
            network_mode="none",
            user="1000:1000",
            read_only=True,
            tmpfs={"/tmp": f"size={limits.tmpfs_mb}m,mode=1777,exec"},
            mem_limit=f"{memory_mb}m",
            memswap_limit=f"{memory_mb}m",
            pids_limit=pids,
            nano_cpus=int(limits.cpus * 1e9),
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            ipc_mode="private",
            environment=environment,
            hostname="sandbox",
            labels={LABEL: self.run_id, **owner_labels()},
            runtime=self.runtime,
            ulimits=ulimits,
            # results travel over the attached stream; the engine need not keep a log of them too
            log_config=docker.types.LogConfig(type="none"),
        )

    def _start_one(self) -> _Started:
        container = self._create()
        with self._lock:
            self._live.add(container.id)
        try:
            attached = self.client.api.attach_socket(
                container.id, params={"stdin": 1, "stdout": 1, "stream": 1}
            )
            raw = getattr(attached, "_sock", attached)
            with self._lock:
                self._running.add(raw)  # close() ends a boot in progress too
            container.start()
            reader = _FrameReader(raw, self.limits.result_bytes)
            try:
                line = reader.readline(time.monotonic() + READY_TIMEOUT)
            finally:
                with self._lock:
                    self._running.discard(raw)
            if line.strip() != READY_LINE:
                raise SandboxUnavailable(f"the sandbox did not start: {line[:200]!r}")
            return _Started(container, raw, reader)
        except Exception:
            self._discard(container.id)
            raise

    def _keep_warm(self) -> None:
        while True:
            self._wanted.acquire()
            if self._closed:
                return
            try:
                self._ready.put(self._start_one())
            except Exception as error:  # noqa: BLE001 - handed to the job that waits for it
                self._ready.put(error)

    def _discard(self, container_id: str) -> None:
        with self._lock:
            self._live.discard(container_id)
        try:
            self.client.api.remove_container(container_id, force=True)
        except Exception:  # noqa: BLE001
            log.debug("container %s already gone", container_id[:12])

    # -- the interface ---------------------------------------------------------------------------------
    def run(self, job: Job) -> SandboxResult:
        started = self._next_started()
        self._wanted.release()  # start the next one while this job runs
        if isinstance(started, Exception):
            raise SandboxUnavailable(f"could not start a sandbox container: {started}")
        with self._lock:
            self._running.add(started.sock)
        try:
            if self._closed:
                raise SandboxError("the sandbox was closed")
            try:
                started.sock.sendall(job.encode(self.limits))
            except OSError as error:  # a timeout too: a huge notebook the runner stopped reading
                raise SandboxError(
                    f"the notebook could not be handed to the sandbox ({type(error).__name__}); is it unusually large?"
                ) from None
            deadline = time.monotonic() + self.limits.notebook_timeout + 60
            try:
                line = started.reader.readline(deadline)
            except EOFError:
                state = self._exit_state(started.container)
                raise SandboxError(f"the sandbox ended without a result ({state})") from None
            except TimeoutError:
                raise SandboxError("the sandbox gave no result within the notebook's time limit") from None
            return validate_result(line, job, self.limits)
        finally:
            with self._lock:
                self._running.discard(started.sock)
            try:
                started.sock.close()
            except OSError:
                pass
            threading.Thread(target=self._discard, args=(started.container.id,), daemon=True).start()

    def _next_started(self) -> _Started | Exception:
        """The next booted container; waits in short steps so that a job waiting for one when the sandbox
        is closed (an interrupted run) ends at once instead of waiting for a container never started."""
        while True:
            if self._closed:
                raise SandboxUnavailable("the sandbox was closed")
            try:
                return self._ready.get(timeout=0.2)
            except queue.Empty:
                continue

    def _exit_state(self, container) -> str:
        try:
            container.reload()
            state = container.attrs.get("State", {})
            if state.get("OOMKilled"):
                return "killed by the memory limit"
            return f"exit code {state.get('ExitCode')}"
        except Exception:  # noqa: BLE001
            return "container gone"

    def close(self) -> None:
        """Removes every container this sandbox made, used or not; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)  # a long-running service must not keep every closed sandbox alive
        # A job in flight reads its container's output until the notebook's time limit; removing the
        # container does not always end that read (dockerd may keep the attach stream open), so end it
        # here: its reader sees end-of-stream at once and the interrupted run can exit.
        with self._lock:
            running = list(self._running)
        for sock in running:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for _ in self._starters:
            self._wanted.release()
        for thread in self._starters:
            thread.join(timeout=READY_TIMEOUT)
        with self._lock:
            leftovers = list(self._live)
        for container_id in leftovers:
            self._discard(container_id)
        try:
            for container in labelled_containers(self.client, f"{LABEL}={self.run_id}"):
                _remove(self.client, container["id"])
        except Exception:  # noqa: BLE001
            log.warning("could not list sandbox containers while cleaning up")

    def __enter__(self) -> DockerSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
