"""Shared fixtures: a real Docker engine with the grading image, and real nbgrader courses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graders import demo_course

GRADER_IMAGE = "bootcamp-grader:latest"


@pytest.fixture(scope="session")
def docker_client():
    """The local Docker engine; scripts/test starts it and builds the images before pytest runs."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
        client.images.get(GRADER_IMAGE)
    except Exception as error:  # noqa: BLE001
        pytest.fail(
            f"these tests need a Docker engine and {GRADER_IMAGE} (run scripts/test, which sets both up): {error}"
        )
    return client


@pytest.fixture(scope="session")
def _template_course(tmp_path_factory) -> Path:
    """One generated course, copied for each test (nbgrader's generate_assignment takes a second)."""
    return demo_course.create_course(tmp_path_factory.mktemp("template") / "course")


@pytest.fixture
def course(_template_course, tmp_path) -> Path:
    target = tmp_path / "course"
    shutil.copytree(_template_course, target)
    return target


def sandbox_containers(client) -> list:
    from graders.sandbox.docker_backend import LABEL, labelled_containers

    return labelled_containers(client, LABEL)
