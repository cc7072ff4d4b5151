"""What the hub's parts agree on, importable without JupyterHub or DockerSpawner (so `bootcamp hub sync`
runs where no spawner does): the hub groups that tie a user to a cohort, and a free local port."""

from __future__ import annotations

import socket

TRAINEE_GROUP = "nbgrader-"  # nbgrader-<cohort>: trainees of that cohort
INSTRUCTOR_GROUP = "formgrade-"  # formgrade-<cohort>: its instructors (the instructor image, the formgrader)


def cohorts_of(group_names: list[str], prefix: str) -> list[str]:
    """The cohorts named by the groups that start with `prefix`."""
    return sorted(name[len(prefix) :] for name in group_names if name.startswith(prefix))


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
