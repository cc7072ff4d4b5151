"""`bootcamp hub up` / `down`: the proxy and the hub as background processes on one machine.

There is no systemd on our machines, so each process is started in its own session with a pid file and a
log under <state>/; `up` is idempotent (running processes are left alone) and `down` stops them in reverse
order. The proxy runs apart from the hub and the hub leaves servers running when it stops, so a hub
restart (`restart_hub`, e.g. to take up a new cohort's formgrader) keeps routes and open notebooks alive.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from graders.errors import UserError
from graders.hub.secrets import PROXY_TOKEN, secret
from graders.hub.settings import HubSettings
from graders.settings import repo_root

log = logging.getLogger(__name__)

HUB_CONFIG = repo_root() / "hub_config" / "jupyterhub_config.py"
SERVER_LABEL = "org.bootcamp.hub"  # on every server container: which hub (its state folder) started it


@dataclass
class Process:
    """One background process we own, known by its pid file."""

    name: str
    pid_file: Path
    log_file: Path
    marker: bytes  # part of the command line, so a recycled pid is not mistaken for ours

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None
        stat = proc_stat(pid)
        if stat is None or stat[0] == "Z":
            return None  # exited, not yet reaped
        # A process caught between fork and exec has an empty command line for a moment: still ours.
        return pid if not cmdline or self.marker in cmdline else None

    def start(self, command: list[str], env: dict[str, str], cwd: Path) -> int:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as out:
            proc = subprocess.Popen(  # noqa: S603 - our own command line, no shell
                command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def stop(self, timeout_s: float = 30.0) -> bool:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        # JupyterHub starts its managed services in sessions of their own: remember them, so that they
        # are stopped too when the hub itself has to be killed before it could stop them
        children = _children(pid)
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            log.warning("%s (pid %s) ignored SIGTERM for %.0f s: killing it", self.name, pid, timeout_s)
            os.killpg(pid, signal.SIGKILL)
        for child in children:
            try:
                os.killpg(child, signal.SIGKILL)  # already gone when the hub stopped it
            except (ProcessLookupError, PermissionError):
                pass
        self.pid_file.unlink(missing_ok=True)
        return True


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, session, ...), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children(pid: int) -> list[int]:
    """Direct children of `pid` that lead their own session (a hub's managed services), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        stat = proc_stat(int(entry.name)) if entry.name.isdigit() else None
        if stat and int(stat[1]) == pid and int(stat[3]) == int(entry.name):
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def processes(settings: HubSettings) -> tuple[Process, Process]:
    run = settings.state / "run"
    return (
        Process("proxy", run / "proxy.pid", settings.logs_dir / "proxy.log", b"configurable-http-proxy"),
        Process("hub", run / "hub.pid", settings.logs_dir / "hub.log", b"jupyterhub"),
    )


def check_docker(settings: HubSettings) -> None:
    """The hub needs a Docker engine that answers and the trainee image; say how to get them."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as error:  # docker raises several unrelated types when no engine answers
        raise UserError(
            f"no Docker engine answers ({error}); start one (scripts/quickstart does) or run `dockerd &` as root"
        )
    for image in (settings.trainee_image,):
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            raise UserError(f"image {image} is missing: build it with images/trainee/build.sh")


def _port_in_use(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1" if ip in ("", "0.0.0.0") else ip, port)) == 0  # noqa: S104


def _proxy_command() -> list[str]:
    exe = shutil.which("configurable-http-proxy")
    if not exe:
        raise UserError(
            "configurable-http-proxy is not installed: run `npm install -g configurable-http-proxy`"
        )
    return [exe]


def up(settings: HubSettings, wait_s: float = 90.0) -> bool:
    """Starts what is not running; returns True when it started something."""
    check_docker(settings)
    settings.state.mkdir(parents=True, exist_ok=True)
    (settings.state / "run").mkdir(exist_ok=True)
    proxy, hub = processes(settings)
    env = dict(os.environ)
    env.update(
        {
            "BOOTCAMP_HOME": str(settings.home),
            "BOOTCAMP_HUB_START_PROXY": "false",
            "BOOTCAMP_HUB_PORT": str(settings.port),
            "BOOTCAMP_HUB_HUB_PORT": str(settings.hub_port),
            "BOOTCAMP_HUB_PROXY_API_PORT": str(settings.proxy_api_port),
            "CONFIGPROXY_AUTH_TOKEN": secret(settings, PROXY_TOKEN),
        }
    )
    if settings.state_dir:
        env["BOOTCAMP_HUB_STATE_DIR"] = str(settings.state_dir)
    started = False
    if proxy.pid() is None:
        for port in (settings.port, settings.proxy_api_port, settings.hub_port):
            if _port_in_use(settings.ip or "127.0.0.1", port):
                raise UserError(
                    f"port {port} is taken (another hub or program?): stop it or set BOOTCAMP_HUB_*PORT"
                )
        command = _proxy_command() + [
            "--ip", settings.ip, "--port", str(settings.port),
            "--api-ip", "127.0.0.1", "--api-port", str(settings.proxy_api_port),
            "--error-target", f"http://127.0.0.1:{settings.hub_port}/hub/error",
            "--log-level", "warn",
        ]  # fmt: skip
        proxy.start(command, env, settings.state)
        started = True
    if hub.pid() is None:
        hub.start([sys.executable, "-m", "jupyterhub", "-f", str(HUB_CONFIG)], env, settings.state)
        started = True
    wait_until_ready(settings, wait_s, hub)
    return started


def wait_until_ready(settings: HubSettings, wait_s: float, hub: Process) -> None:
    url = f"{settings.public_url}/hub/api/"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if hub.pid() is None:
            raise UserError(f"the hub exited while starting; see {hub.log_file}")
        time.sleep(0.25)
    raise UserError(f"the hub did not answer at {url} within {wait_s:.0f} s; see {hub.log_file}")


def down(settings: HubSettings) -> list[str]:
    """Stops the hub, the trainee servers and then the proxy; returns what was stopped.

    The hub leaves servers running when it stops (so that `restart_hub` keeps them); here they go too."""
    proxy, hub = processes(settings)
    stopped = []
    if hub.stop():
        stopped.append(hub.name)
    servers = stop_servers(settings)
    if servers:
        stopped.append(f"{servers} server(s)")
    if proxy.stop():
        stopped.append(proxy.name)
    return stopped


def restart_hub(settings: HubSettings, wait_s: float = 90.0) -> bool:
    """Restarts the hub process alone, so that it reads its configuration (new cohorts' formgraders and
    roles) again. Trainee servers and the proxy keep running: open notebooks lose nothing, and the new
    hub finds the servers in its database. False when no hub was running (nothing to restart)."""
    _, hub = processes(settings)
    if hub.pid() is None:
        return False
    hub.stop()
    up(settings, wait_s)
    return True


def stop_servers(settings: HubSettings) -> int:
    """Stops and removes this hub's server containers (found by their label); home volumes stay."""
    import docker

    client = docker.from_env()
    try:
        label = f"{SERVER_LABEL}={server_label_value(settings)}"
        containers = client.containers.list(all=True, filters={"label": label})
        for container in containers:
            container.remove(force=True)
        return len(containers)
    finally:
        client.close()


def server_label_value(settings: HubSettings) -> str:
    return str(settings.state.resolve())


def status(settings: HubSettings) -> dict[str, int | None]:
    return {p.name: p.pid() for p in processes(settings)}
