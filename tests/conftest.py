"""Shared fixtures: a real Docker engine with the grading image, and real nbgrader courses."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from graders import demo_course

GRADER_IMAGE = "bootcamp-grader:latest"
# The sandbox backend the attack and abuse suites grade with. scripts/test runs them a second time with
# BOOTCAMP_TEST_SANDBOX=gvisor: then every Docker call of this run goes to a second daemon that knows
# gVisor's runsc runtime (tests/second_host.py), and the main daemon is left alone.
TEST_SANDBOX = os.environ.get("BOOTCAMP_TEST_SANDBOX", "docker")
if TEST_SANDBOX == "gvisor":
    from second_host import second_docker_host

    os.environ["DOCKER_HOST"] = second_docker_host()


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


# This test run's sandboxes carry this group label (inherited by every `bootcamp` the tests start), so
# counting "containers left behind" ignores another run grading on the same engine at the same time.
os.environ.setdefault("BOOTCAMP_SANDBOX_GROUP", f"pytest-{uuid.uuid4().hex[:12]}")


def sandbox_containers(client) -> list:
    """This test run's sandbox containers, running or not."""
    from graders.sandbox.docker_backend import LABEL_GROUP, labelled_containers

    return labelled_containers(client, f"{LABEL_GROUP}={os.environ['BOOTCAMP_SANDBOX_GROUP']}")
