"""A second Docker daemon on this machine, standing in for a second grading host in the scale-out tests.

It has its own socket, data root and exec root, no bridge and no iptables rules (its containers run with
`--network none` anyway), and its own config file, so the main daemon's /etc/docker/daemon.json is not
read. The data root lies outside the checkout, so images loaded once survive later runs and fresh clones;
an image is loaded again only when its id differs from the main daemon's. The daemon is stopped when the
test process ends, unless it was already running (then it belongs to someone else).
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import docker

NAME = "bootcamp-docker-2"
SOCKET = Path(f"/run/{NAME}.sock")
DATA_ROOT = Path(f"/var/lib/{NAME}")
EXEC_ROOT = Path(f"/run/{NAME}")
PIDFILE = Path(f"/run/{NAME}.pid")
CONFIG = Path(f"/run/{NAME}.json")
LOG = Path(f"/tmp/{NAME}.log")
IMAGES = ("bootcamp-grader:latest",)


def _answers(url: str) -> bool:
    try:
        docker.DockerClient(base_url=url, timeout=5).ping()
        return True
    except Exception:  # noqa: BLE001 - not (yet) answering
        return False


def _start(url: str) -> subprocess.Popen:
    for folder in (DATA_ROOT, EXEC_ROOT):
        folder.mkdir(parents=True, exist_ok=True)
    if PIDFILE.exists():  # a daemon of a crashed run that no longer answers
        try:
            os.kill(int(PIDFILE.read_text().strip()), signal.SIGKILL)
        except (ValueError, ProcessLookupError):
            pass
        PIDFILE.unlink(missing_ok=True)
    SOCKET.unlink(missing_ok=True)
    config: dict = {}
    if Path("/usr/bin/runsc").exists():  # gVisor, for the gvisor sandbox backend
        config["runtimes"] = {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--platform=ptrace"]}}
    CONFIG.write_text(json.dumps(config))
    process = subprocess.Popen(
        ["dockerd", "--data-root", str(DATA_ROOT), "--exec-root", str(EXEC_ROOT), "--pidfile", str(PIDFILE),
         "-H", url, "--bridge", "none", "--iptables=false", "--config-file", str(CONFIG)],
        stdout=LOG.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not _answers(url):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the second dockerd did not start; see {LOG}:\n{LOG.read_text()[-2000:]}")
        time.sleep(0.5)
    return process


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def _load_images(url: str) -> None:
    main, second = docker.from_env(), docker.DockerClient(base_url=url, timeout=600)
    for image in IMAGES:
        wanted = main.images.get(image).id
        try:
            if second.images.get(image).id == wanted:
                continue
        except docker.errors.ImageNotFound:
            pass
        save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
        subprocess.run(
            ["docker", "-H", url, "load", "-q"], stdin=save.stdout, check=True, capture_output=True
        )
        if save.wait() != 0:
            raise RuntimeError(f"docker save {image} failed")


@functools.cache
def second_docker_host() -> str:
    """The DOCKER_HOST url of the second daemon, started (and the grading image loaded) on first use."""
    url = f"unix://{SOCKET}"
    if not _answers(url):
        process = _start(url)
        atexit.register(_stop, process)
    _load_images(url)
    return url
