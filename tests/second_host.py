"""A second Docker daemon on this machine, standing in for a second grading host in the scale-out tests
and carrying gVisor's runsc runtime for the `gvisor` sandbox tests.

It has its own socket, data root, exec root, pid file and config file (so the main daemon's
/etc/docker/daemon.json is neither read nor changed), a bridge of its own (never `--bridge none`, which
deletes the main daemon's docker0) and no iptables rules (sandboxes run with `--network none` anyway). The data root lies outside the checkout, so images loaded once survive later
runs and fresh clones; an image is loaded again only when its id differs from the main daemon's.

Several test processes may use it at once (scripts/test, a benchmark): each holds a shared lock while it
lives, and the last one to leave stops the daemon (SIGTERM, then wait). A daemon left by a killed run is
reused when its config is today's, replaced otherwise. The main daemon is never touched.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import docker
import pytest

from graders.sandbox.docker_backend import GVISOR_RUNTIME

NAME = "bootcamp-docker-2"
SOCKET = Path(f"/run/{NAME}.sock")
URL = f"unix://{SOCKET}"
DATA_ROOT = Path(f"/var/lib/{NAME}")
EXEC_ROOT = Path(f"/run/{NAME}")
PIDFILE = Path(f"/run/{NAME}.pid")
CONFIG = Path(f"/run/{NAME}.json")
START_LOCK = Path(f"/run/{NAME}.start.lock")  # held while starting, loading or stopping
USERS_LOCK = Path(f"/run/{NAME}.users.lock")  # held shared by every process using the daemon
LOG = Path(f"/tmp/{NAME}.log")
IMAGES = ("bootcamp-grader:latest",)
_process: subprocess.Popen | None = None  # the daemon, when this process started it
BRIDGE = "bootcamp-br2"  # its own bridge (sandboxes use none; dockerd insists on one, see _own_bridge)
BRIDGE_ADDRESS = "10.213.0.1/24"


def _config() -> str:
    """The daemon's config file: the runsc runtime when gVisor is installed (tests/ installs it via
    scripts/test's ensure_runsc), nothing else."""
    return json.dumps({"runtimes": GVISOR_RUNTIME} if Path("/usr/bin/runsc").exists() else {})


def _answers() -> bool:
    try:
        docker.DockerClient(base_url=URL, timeout=5).ping()
        return True
    except Exception:  # noqa: BLE001 - not (yet) answering
        return False


def _daemon_alive() -> bool:
    pid = _daemon_pid()
    if pid is None or (_process is not None and _process.pid == pid and _process.poll() is not None):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _answers_or_is_gone() -> bool:
    """Whether the daemon answers; a live one that is only slow (a busy machine, a daemon still
    starting) gets a minute before it counts as hung and is replaced, so no test run kills another's."""
    deadline = time.monotonic() + 60
    while not _answers():
        if not _daemon_alive() or time.monotonic() > deadline:
            return False
        time.sleep(1)
    return True


def _daemon_pid() -> int | None:
    """Our dockerd's pid: from its pid file, else from the process list (a daemon that is still stopping
    removes the pid file at exit, even when a new daemon has written it since)."""
    try:
        return int(PIDFILE.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if words[0].endswith(b"dockerd") and str(DATA_ROOT).encode() in words:
            return int(cmdline.parent.name)
    return None


def _stop_daemon() -> None:
    """SIGTERM to our dockerd, then wait until it has gone (SIGKILL after 60 s)."""
    pid = _daemon_pid()
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(120):
            if _process is not None and _process.pid == pid:
                try:
                    _process.wait(timeout=0.5)  # our child: reap it, or it stays a zombie that "exists"
                    return
                except subprocess.TimeoutExpired:
                    continue
            os.kill(pid, 0)
            time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    PIDFILE.unlink(missing_ok=True)


def _own_bridge() -> None:
    """A bridge of its own. With `--bridge none` dockerd deletes any `docker0` it finds at start, which
    is the main daemon's: its image builds then fail with "could not find bridge docker0"."""
    if subprocess.run(["ip", "link", "show", BRIDGE], capture_output=True).returncode != 0:
        subprocess.run(["ip", "link", "add", BRIDGE, "type", "bridge"], check=True, capture_output=True)
        subprocess.run(["ip", "addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE], check=True, capture_output=True)
    subprocess.run(["ip", "link", "set", BRIDGE, "up"], check=True, capture_output=True)


def _start(config: str) -> None:
    global _process
    _own_bridge()
    for folder in (DATA_ROOT, EXEC_ROOT):
        folder.mkdir(parents=True, exist_ok=True)
    _stop_daemon()  # one of a killed run that no longer answers
    SOCKET.unlink(missing_ok=True)
    CONFIG.write_text(config)
    _process = subprocess.Popen(
        ["dockerd", "--data-root", str(DATA_ROOT), "--exec-root", str(EXEC_ROOT), "--pidfile", str(PIDFILE),
         "-H", URL, "--bridge", BRIDGE, "--iptables=false", "--ip-masq=false",
         "--config-file", str(CONFIG)],
        stdout=LOG.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not _answers():
        if _process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the second dockerd did not start; see {LOG}:\n{LOG.read_text()[-2000:]}")
        time.sleep(0.5)


def _load_images() -> None:
    main, second = docker.from_env(), docker.DockerClient(base_url=URL, timeout=600)
    for image in IMAGES:
        wanted = main.images.get(image).id
        try:
            if second.images.get(image).id == wanted:
                continue
        except docker.errors.ImageNotFound:
            pass
        save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
        subprocess.run(
            ["docker", "-H", URL, "load", "-q"], stdin=save.stdout, check=True, capture_output=True
        )
        if save.wait() != 0:
            raise RuntimeError(f"docker save {image} failed")


def _locked(path: Path, mode: int) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, mode)
    return fd


def _leave(users: int) -> None:
    """At exit: stop the daemon if no other process is using it (our shared lock becomes exclusive)."""
    start = _locked(START_LOCK, fcntl.LOCK_EX)
    try:
        fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _stop_daemon()
    except BlockingIOError:
        pass  # another test process still grades there; the last one to leave stops it
    finally:
        os.close(start)


@functools.cache
def second_docker_host() -> str:
    """The DOCKER_HOST url of the second daemon, started (and the grading image loaded) on first use."""
    start = _locked(START_LOCK, fcntl.LOCK_EX)
    try:
        config = _config()
        if _answers_or_is_gone() and (not CONFIG.exists() or CONFIG.read_text() != config):
            _stop_daemon()  # started with another config (before runsc was installed, older runtime args)
        if not _answers():
            _start(config)
        _load_images()
        users = _locked(USERS_LOCK, fcntl.LOCK_SH)
    finally:
        os.close(start)
    atexit.register(_leave, users)
    return URL


@pytest.fixture(scope="session")
def second_docker() -> str:
    """DOCKER_HOST of the second daemon, for tests that grade on a "second host" (import this fixture)."""
    return second_docker_host()
