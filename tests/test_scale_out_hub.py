"""The multi-host deployment on one machine: the hub's database, the grading queue and the gradebooks in
PostgreSQL, and the only grading worker on a second Docker daemon (standing in for a grading host).

A trainee submits through the hub as in test_hub_e2e; the hub's grading service enqueues the job, the
worker on the other daemon runs it, and the grade lands in the cohort's PostgreSQL gradebook, where the
formgrader, `nbgrader export` and the reports read it. Nothing here uses SQLite except the hub's small
submission ledger.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import requests
from test_hub_e2e import ASSIGNMENT, COHORT, INSTRUCTOR, running_stack

from graders.gradingqueue.dev_postgres import DevPostgres
from graders.programme.cohorts import load_cohort
from graders.programme.grades import read_gradebook

pytestmark = [pytest.mark.hub, pytest.mark.timeout(420)]

BOOTCAMP = str(Path(sys.executable).parent / "bootcamp")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    from second_host import second_docker_host

    server = DevPostgres.start()
    urls = {name: server.create_database(name) for name in ("hub", "queue", "gradebooks")}
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    worker = subprocess.Popen(
        [BOOTCAMP, "grading-worker", "--queue", urls["queue"], "--name", "grading-host-2", "--concurrency", "1"],
        env={**os.environ, "DOCKER_HOST": second_docker_host()},
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    env = {
        "BOOTCAMP_HUB_DB_URL": urls["hub"],
        "BOOTCAMP_HUB_QUEUE_URL": urls["queue"],
        "BOOTCAMP_GRADEBOOK_URL": urls["gradebooks"],
    }
    try:
        with running_stack(tmp_path_factory, env) as stack:
            yield stack, urls, log
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        server.remove()


def test_a_submission_is_graded_on_another_host_into_a_postgresql_gradebook(deployment):
    stack, urls, log = deployment
    alice = stack.sessions["alice"]
    alice.action("fetch", ASSIGNMENT)
    alice.solve(ASSIGNMENT)
    assert alice.action("submit", ASSIGNMENT).get("success")
    alice.wait_for_feedback(ASSIGNMENT, timeout_s=240)

    # the job went through the queue and ran on the worker behind the second Docker daemon
    with psycopg.connect(urls["queue"]) as conn:
        rows = conn.execute("SELECT worker FROM bootcamp_grading_results").fetchall()
    assert rows == [("grading-host-2",)], log.read_text()[-3000:]

    # the gradebook is a PostgreSQL schema; no SQLite gradebook was made
    course = stack.settings.course_dir(COHORT)
    assert "postgresql+psycopg://" in (course / "nbgrader_config.py").read_text()
    assert not (course / "gradebook.db").exists()

    # ... and every reader finds the grade there: the formgrader, nbgrader export, the reports
    token = stack.client.user_token(INSTRUCTOR, note="test")
    url = f"{stack.hub.public_url}/services/formgrader-{COHORT}/formgrader/api/submissions/{ASSIGNMENT}"
    response = requests.get(url, headers={"Authorization": f"token {token}"}, timeout=60)
    assert response.status_code == 200, response.text[:300]
    assert {r["student"]: r["score"] for r in response.json()}["alice"] == 2.0
    exported = subprocess.run(
        [str(Path(sys.executable).parent / "nbgrader"), "export"], cwd=course, capture_output=True, text=True
    )
    assert exported.returncode == 0, exported.stderr[-2000:]
    grades = {row["student_id"]: row["score"] for row in csv.DictReader((course / "grades.csv").open())}
    assert float(grades["alice"]) == 2.0
    snapshot = read_gradebook(load_cohort(stack.settings, COHORT))
    assert snapshot.grade("alice", ASSIGNMENT).raw_score == 2.0
    report = subprocess.run(
        [BOOTCAMP, "report", "progress", "--cohort", COHORT, "--format", "csv", "--curriculum", str(stack.hub.curriculum)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr[-2000:]
    assert "alice" in report.stdout or any("alice" in p.read_text() for p in course.parent.rglob("*.csv"))

    # instructors see the queue from the hub's status
    status = subprocess.run([BOOTCAMP, "hub", "status"], capture_output=True, text=True)
    assert (
        "submissions: done 1" in status.stdout
        and "grading queue: 1 live worker(s); jobs succeeded 1" in status.stdout
    )

    # the hub keeps its users in PostgreSQL
    with psycopg.connect(urls["hub"]) as conn:
        users = {name for (name,) in conn.execute("SELECT name FROM users").fetchall()}
    assert {"alice", "bob", INSTRUCTOR} <= users
