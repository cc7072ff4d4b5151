"""The `bootcamp autograde` command: clear errors for wrong input, JSON for scripts, no leftovers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import sandbox_containers

from graders import demo_course
from graders.sandbox.docker_backend import remove_stale_containers

BOOTCAMP = str(Path(sys.executable).parent / "bootcamp")


def bootcamp(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([BOOTCAMP, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_wrong_course_dir_names_the_problem(tmp_path):
    result = bootcamp("autograde", "ps1", "--course-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_folder_that_is_not_a_course_is_refused(tmp_path):
    result = bootcamp("autograde", "ps1", "--course-dir", str(tmp_path))
    assert result.returncode == 2
    assert "not an nbgrader course directory" in result.stderr


def test_missing_gradebook_says_how_to_create_it(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    result = bootcamp("autograde", "ps1", "--course-dir", str(tmp_path))
    assert result.returncode == 2
    assert "no gradebook" in result.stderr and "generate_assignment" in result.stderr


def test_unknown_assignment_lists_the_known_ones(course):
    result = bootcamp("autograde", "ps9", "--course-dir", str(course))
    assert result.returncode == 2
    assert "'ps9' is not in the gradebook" in result.stderr and "ps1" in result.stderr


def test_wrong_flag_value_is_rejected(course):
    result = bootcamp("autograde", "ps1", "--course-dir", str(course), "--sandbox", "vm")
    assert result.returncode == 2 and "invalid choice" in result.stderr


@pytest.mark.docker
def test_json_report_for_selected_students(course, docker_client):
    demo_course.submit(course, "amina", demo_course.ANSWERS["right"])
    demo_course.submit(course, "bilal", demo_course.ANSWERS["wrong"])
    demo_course.submit(course, "chen", demo_course.ANSWERS["wrong"])
    result = bootcamp(
        "autograde", "ps1", "--course-dir", str(course), "--student", "a*", "--student", "bilal", "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(r["student"], r["score"]) for r in report["results"]] == [("amina", 10.0), ("bilal", 0.0)]
    assert report["sandbox"] == "docker" and report["limits"]["pids"] > 0


def test_local_sandbox_grades_and_warns_every_run(course):
    demo_course.submit(course, "amina", demo_course.ANSWERS["right"])
    demo_course.submit(course, "bilal", demo_course.ANSWERS["partial"])
    result = bootcamp("autograde", "ps1", "--course-dir", str(course), "--sandbox", "local", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["score"] for r in report["results"]] == [10.0, 6.33]
    assert "WEAK ISOLATION" in report["warnings"][0]
    assert "WARNING" in result.stderr


def _start_slow_grading(course, docker_client, students: tuple[str, ...]) -> subprocess.Popen:
    """Starts `bootcamp autograde` on submissions that sleep, and waits until a sandbox exists."""
    slow = {**demo_course.ANSWERS["right"], "add": "import time\ntime.sleep(60)\n"}
    for student in students:
        demo_course.submit(course, student, slow)
    process = subprocess.Popen(
        [BOOTCAMP, "autograde", "ps1", "--course-dir", str(course), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # as from a terminal: a suite started in the background (`cmd &`) inherits SIGINT ignored, and a
        # Python child then never turns Ctrl-C into KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    deadline = time.monotonic() + 60
    while not sandbox_containers(docker_client) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert sandbox_containers(docker_client), "grading never started a sandbox"
    return process


@pytest.mark.docker
def test_interrupted_run_leaves_no_containers(course, docker_client):
    process = _start_slow_grading(course, docker_client, ("s1", "s2", "s3", "s4"))
    time.sleep(3)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) != 0
    assert sandbox_containers(docker_client) == []


@pytest.mark.docker
def test_containers_of_a_killed_run_are_removed_by_the_next(course, docker_client):
    process = _start_slow_grading(course, docker_client, ("s1",))
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert sandbox_containers(docker_client), "SIGKILL leaves the containers behind: the sweep must find them"
    assert remove_stale_containers(docker_client) >= 1
    assert sandbox_containers(docker_client) == []


@pytest.mark.docker
def test_the_sweep_leaves_sandboxes_of_another_pid_namespace_alone(docker_client):
    """A CI job in its own pid namespace on the same engine: its owner pids mean nothing to us."""
    from graders.sandbox.docker_backend import LABEL, LABEL_PID, LABEL_PIDNS, owner_labels

    dead_pid = "999999999"  # beyond pid_max: no such process here
    labels = {**owner_labels(), LABEL: "sweep-test", LABEL_PID: dead_pid}
    ours = docker_client.containers.create("bootcamp-grader:latest", "true", labels=labels)
    theirs = docker_client.containers.create(
        "bootcamp-grader:latest", "true", labels={**labels, LABEL_PIDNS: "pid:[4026531836-elsewhere]"}
    )
    try:
        remove_stale_containers(docker_client)
        alive = {c["id"] for c in sandbox_containers(docker_client)}
        assert ours.id not in alive  # dead owner in our namespace: swept
        assert theirs.id in alive  # owner in another namespace: not ours to judge
    finally:
        for container in (ours, theirs):
            try:
                container.remove(force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass


def test_no_docker_engine_is_a_clear_error(course):
    demo_course.submit(course, "amina", demo_course.ANSWERS["right"])
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    result = subprocess.run(
        [BOOTCAMP, "autograde", "ps1", "--course-dir", str(course)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2
    assert "no Docker engine answers" in result.stderr and "--sandbox local" in result.stderr


@pytest.mark.docker
def test_notebook_time_limit_stops_the_rest(course, docker_client):
    slow = {
        **demo_course.ANSWERS["right"],
        "add": "import time\ntime.sleep(2.5)\n" + demo_course.ANSWERS["right"]["add"],
        "mean": "time.sleep(2.5)\n" + demo_course.ANSWERS["right"]["mean"],
    }
    demo_course.submit(course, "slow", slow)
    result = bootcamp(
        "autograde",
        "ps1",
        "--course-dir",
        str(course),
        "--timeout",
        "10",
        "--notebook-timeout",
        "4",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    (report,) = json.loads(result.stdout)["results"]
    assert any("notebook ran past its time limit" in event for event in report["events"]), report
    assert report["score"] < 10.0
