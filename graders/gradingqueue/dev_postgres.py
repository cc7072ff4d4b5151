"""A throwaway PostgreSQL server for tests, benchmarks and trying the queue on one machine.

Tooling, not runtime: a deployment points BOOTCAMP_* URLs at a managed or packaged PostgreSQL. This
starts Debian's PostgreSQL binaries (`apt-get install postgresql`; scripts/lib/common.sh does it) on a
free port with a data folder of its own, as the `postgres` account when we are root (PostgreSQL
refuses to run as root), with password-less local access. `restart()` exists so that tests can take the
database away mid-run.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from graders.errors import UserError


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise UserError(
            "PostgreSQL's server binaries are missing: install them with `apt-get install -y postgresql` "
            "(scripts/test and scripts/bench_scale do this themselves)"
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class DevPostgres:
    """One PostgreSQL cluster in a folder; `url` reaches its `bootcamp` database as the superuser."""

    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/bootcamp"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    @classmethod
    def start(cls, folder: Path | None = None) -> DevPostgres:
        folder = Path(folder or tempfile.mkdtemp(prefix="bootcamp-pg-"))
        folder.mkdir(parents=True, exist_ok=True)
        server = cls(folder=folder, port=_free_port())
        data = folder / "data"
        if not (data / "PG_VERSION").exists():
            _own(folder)
            server._as_owner(
                [str(_binaries() / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                 "-E", "UTF8", "--no-sync"]
            )  # fmt: skip
        server._pg_ctl("start", "-w", "-t", "60", "-l", str(folder / "server.log"), "-o", server._options())
        server.create_database("bootcamp")
        return server

    def _options(self) -> str:
        sockets = self.folder / "sockets"
        sockets.mkdir(exist_ok=True)
        _own(sockets)
        # fsync off: a test database, never a real one
        return f"-p {self.port} -h 127.0.0.1 -k {sockets} -c fsync=off -c max_connections=200"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.database_url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("stop", "-w", "-m", mode)

    def restart(self, down_s: float = 0.0) -> None:
        """Stops the server (connections are cut) and starts it again on the same port and data."""
        self.stop()
        time.sleep(down_s)
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.folder / "server.log"), "-o", self._options())

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except RuntimeError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def _pg_ctl(self, *args: str) -> None:
        self._as_owner([str(_binaries() / "pg_ctl"), "-D", str(self.folder / "data"), *args])

    def _as_owner(self, command: list[str]) -> None:
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {(done.stderr or done.stdout).strip()[-1500:]}")


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
