"""Grading through the PostgreSQL queue with real parts: PostgreSQL, procrastinate, `bootcamp
grading-worker` processes on two Docker daemons (the second stands in for a second host), real nbgrader.

Each test starts its own workers; the database is one throwaway cluster for the module (tables are
emptied between tests). What is checked: every submission is graded and recorded once, a worker killed
with SIGKILL mid-job has its job redelivered, a database restart loses nothing, and a job that fails on
every delivery lands in the dead-letter list that instructors see.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import docker
import psycopg
import pytest

from graders import demo_course
from graders.gradingqueue import archive, store
from graders.gradingqueue.dev_postgres import DevPostgres
from graders.sandbox import SandboxError

pytestmark = [pytest.mark.timeout(420)]

BOOTCAMP = str(Path(sys.executable).parent / "bootcamp")
KINDS = {"right": 10.0, "partial": 6.33, "wrong": 0.0}


@pytest.fixture(scope="module")
def postgres():
    server = DevPostgres.start()  # its own folder under /tmp: the postgres account must reach it
    yield server
    server.remove()


@pytest.fixture
def queue_url(postgres: DevPostgres) -> str:
    """The queue database, emptied: every test starts with no jobs, results or workers."""
    url = postgres.create_database("queue")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    store.ensure_schema(url)
    return url


@pytest.fixture(scope="module")
def second_docker() -> str:
    """DOCKER_HOST of a second Docker daemon on this machine, standing in for a second grading host."""
    from second_host import second_docker_host

    return second_docker_host()


class Workers:
    """`bootcamp grading-worker` processes, each in its own process group, logs kept for failures."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.folder = url, folder
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, docker_host: str | None = None, concurrency: int = 1) -> subprocess.Popen:
        env = dict(os.environ)
        if docker_host:
            env["DOCKER_HOST"] = docker_host
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [BOOTCAMP, "grading-worker", "--queue", self.url, "--name", name, "--concurrency", str(concurrency),
             "--cache-dir", str(self.folder / f"cache-{name}")],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.processes[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def workers(queue_url: str, tmp_path: Path):
    pool = Workers(queue_url, tmp_path)
    yield pool
    pool.stop_all()


def _course(root: Path, kinds: list[str], answers: dict[str, dict] | None = None) -> Path:
    course = demo_course.create_course(root / "course")
    for index, kind in enumerate(kinds):
        demo_course.submit(course, f"t{index:02d}", (answers or demo_course.ANSWERS)[kind])
    return course


def _autograde(course: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BOOTCAMP, "autograde", "ps1", "--course-dir", str(course), "--queue", url, "--json", *extra],
        capture_output=True, text=True, timeout=400,
    )  # fmt: skip


def _results(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT job_key, worker FROM bootcamp_grading_results").fetchall())


def _jobs(url: str) -> list[tuple[int, str, int, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT id, status::text, attempts, args->>'label' FROM procrastinate_jobs ORDER BY id"
        ).fetchall()


def _check_scores(report: dict, kinds: list[str]) -> None:
    scores = {r["student"]: (r["status"], r["score"]) for r in report["results"]}
    assert scores == {f"t{i:02d}": ("graded", KINDS[kind]) for i, kind in enumerate(kinds)}


# -- the archive (pure) --------------------------------------------------------------------------------------------
def test_archives_are_content_hashed_and_refuse_damage_and_unsafe_names(tmp_path: Path):
    files = {"data.csv": b"x,y\n1,2\n", "sub/more.txt": b"hello"}
    sha, data = archive.pack(files)
    assert archive.pack(dict(reversed(list(files.items())))) == (sha, data)  # order does not matter
    assert archive.unpack(sha, data) == files
    with pytest.raises(SandboxError, match="does not match"):
        archive.unpack(sha, data[:-1] + b"!")
    cache = archive.ArchiveCache(tmp_path)
    cache.put(sha, data)
    (tmp_path / f"{sha}.tar").write_bytes(data + b"tampered")
    assert cache.get(sha) is None  # a damaged cache file is fetched again, never used
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        link = tarfile.TarInfo("../escape")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    import hashlib

    bad = buffer.getvalue()
    with pytest.raises(SandboxError, match="unsafe entry"):
        archive.unpack(hashlib.sha256(bad).hexdigest(), bad)


# -- many workers, two hosts ------------------------------------------------------------------------------------------
def test_three_workers_on_two_hosts_grade_every_submission_once(
    workers: Workers, queue_url: str, tmp_path: Path, second_docker: str
):
    kinds = ["right", "partial", "wrong"] * 4
    course = _course(tmp_path, kinds)
    workers.start("host1-a")
    workers.start("host1-b")
    workers.start("host2-a", docker_host=second_docker)
    done = _autograde(course, queue_url)
    assert done.returncode == 0, done.stderr[-3000:]
    _check_scores(json.loads(done.stdout), kinds)
    results = _results(queue_url)
    assert len(results) == len(kinds)  # one result per job: nothing graded twice
    assert "host2-a" in results.values(), workers.log("host2-a")[-3000:]  # the second host took work
    assert all(status == "succeeded" for _, status, _, _ in _jobs(queue_url))
    # the data archive went up once for all twelve jobs
    with psycopg.connect(queue_url) as conn:
        assert conn.execute("SELECT count(*) FROM bootcamp_grading_archives").fetchone()[0] == 1


def test_a_worker_killed_mid_job_has_its_job_redelivered_and_graded_once(
    workers: Workers, queue_url: str, tmp_path: Path
):
    slow = {
        **demo_course.ANSWERS["right"],
        "add": "import time\ntime.sleep(6)\ndef add(a, b):\n    return a + b\n",
    }
    course = _course(tmp_path, ["right"], answers={"right": slow})
    doomed = workers.start("doomed")
    grading = threading.Thread(target=lambda: setattr(grading, "result", _autograde(course, queue_url)))
    grading.start()
    deadline = time.monotonic() + 120
    while not any(status == "doing" for _, status, _, _ in _jobs(queue_url)):
        assert time.monotonic() < deadline and doomed.poll() is None, workers.log("doomed")[-3000:]
        time.sleep(0.2)
    time.sleep(1.0)  # the job is running in doomed's sandbox
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait()
    workers.start("rescuer")
    grading.join(timeout=300)
    done = grading.result
    assert done.returncode == 0, done.stderr[-3000:]
    _check_scores(json.loads(done.stdout), ["right"])
    ((_, status, attempts, label),) = _jobs(queue_url)
    assert (status, attempts, label) == ("succeeded", 2, "ps1/t00")  # delivered twice
    assert list(_results(queue_url).values()) == ["rescuer"]  # recorded once, by the second delivery
    with psycopg.connect(queue_url) as conn:
        reasons = [r[0] for r in conn.execute("SELECT worker FROM bootcamp_grading_failures").fetchall()]
    assert reasons == ["(lost worker)"]
    # the rescuer's sandbox start swept the container the killed worker left behind on this host
    client = docker.from_env()
    left = client.containers.list(all=True, filters={"label": f"bootcamp.sandbox.pid={doomed.pid}"})
    assert left == []


def test_a_database_restart_mid_run_loses_nothing(
    workers: Workers, queue_url: str, postgres: DevPostgres, tmp_path: Path
):
    kinds = ["right", "partial", "wrong"] * 3
    course = _course(tmp_path, kinds)
    workers.start("w1")
    workers.start("w2")
    grading = threading.Thread(target=lambda: setattr(grading, "result", _autograde(course, queue_url)))
    grading.start()
    deadline = time.monotonic() + 120
    while len(_results(queue_url)) < 2:
        assert time.monotonic() < deadline, workers.log("w1")[-3000:]
        time.sleep(0.2)
    postgres.restart(down_s=3.0)
    grading.join(timeout=360)
    done = grading.result
    assert done.returncode == 0, done.stderr[-3000:] + workers.log("w1")[-2000:]
    _check_scores(json.loads(done.stdout), kinds)
    assert len(_results(queue_url)) == len(kinds)
    assert all(process.poll() is None for process in workers.processes.values())  # they reconnected


def test_a_job_failing_on_every_delivery_is_dead_lettered_and_shown(
    workers: Workers, queue_url: str, tmp_path: Path
):
    course = _course(tmp_path, ["right"])
    workers.start("w1")
    done = _autograde(course, queue_url, "--image", "bootcamp-grader-missing:latest")
    assert done.returncode == 1  # grading itself failed: an error, never the trainee's zero
    (result,) = json.loads(done.stdout)["results"]
    assert result["status"] == "error" and result["score"] is None
    assert "dead-letter" in result["reasons"][0] and "bootcamp-grader-missing" in result["reasons"][0]
    ((job_id, status, attempts, _),) = _jobs(queue_url)
    assert (status, attempts) == ("failed", 3)  # three deliveries, then the dead letter
    shown = subprocess.run(
        [BOOTCAMP, "grading-queue", "status", "--queue", queue_url], capture_output=True, text=True
    )
    assert shown.returncode == 1
    assert "dead letters" in shown.stdout and "ps1/t00" in shown.stdout and str(job_id) in shown.stdout
    # whoever can write to the queue cannot make a grading host run an image of their choice
    done = _autograde(course, queue_url, "--image", "someone/miner:latest")
    (result,) = json.loads(done.stdout)["results"]
    assert result["status"] == "error" and "not one this grading host runs" in result["reasons"][0]


def test_with_no_worker_grading_fails_with_the_fix_and_an_interrupt_cancels_queued_jobs(
    queue_url: str, tmp_path: Path
):
    course = _course(tmp_path, ["right", "wrong"])
    env = {**os.environ, "BOOTCAMP_QUEUE_NO_WORKER_S": "3"}
    done = subprocess.run(
        [BOOTCAMP, "autograde", "ps1", "--course-dir", str(course), "--queue", queue_url, "--json"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 1
    for result in json.loads(done.stdout)["results"]:
        assert result["status"] == "error"
        assert (
            "no grading worker" in result["reasons"][0] and "bootcamp grading-worker" in result["reasons"][0]
        )
    # an interrupted run takes back what no worker has started: nobody is left to record those results
    env["BOOTCAMP_QUEUE_NO_WORKER_S"] = "600"
    running = subprocess.Popen(
        [BOOTCAMP, "autograde", "ps1", "--force", "--course-dir", str(course), "--queue", queue_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        # as from a terminal: a suite started in the background inherits SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while sum(status == "todo" for _, status, _, _ in _jobs(queue_url)) < 2:
        assert time.monotonic() < deadline and running.poll() is None
        time.sleep(0.2)
    running.send_signal(signal.SIGINT)
    running.wait(timeout=60)
    assert [status for _, status, _, _ in _jobs(queue_url)] == ["cancelled"] * 4


# -- gradebooks in PostgreSQL ----------------------------------------------------------------------------------------
def test_postgresql_urls_get_the_psycopg_driver_and_a_schema_per_course():
    from graders.gradebook_db import schema_name, sqlalchemy_url

    assert sqlalchemy_url("postgresql://u:p@db/x") == "postgresql+psycopg://u:p@db/x"
    assert sqlalchemy_url("postgres://u@db/x") == "postgresql+psycopg://u@db/x"
    assert sqlalchemy_url("sqlite:////tmp/g.db") == "sqlite:////tmp/g.db"
    assert schema_name("Autumn-2026") == "gradebook_autumn_2026"


def test_cohorts_sharing_one_database_keep_separate_gradebooks(
    postgres: DevPostgres, tmp_path: Path, monkeypatch
):
    from datetime import date

    from graders.programme.cohorts import add_trainee, create_cohort
    from graders.settings import Settings

    url = postgres.create_database("gradebooks")
    monkeypatch.setenv("BOOTCAMP_HOME", str(tmp_path))
    monkeypatch.setenv("BOOTCAMP_GRADEBOOK_URL", url)
    settings = Settings.load()
    autumn = create_cohort(settings, "autumn-2026", "six-month", date(2026, 9, 7))
    spring = create_cohort(settings, "spring-2027", "six-month", date(2027, 2, 1))
    add_trainee(settings, autumn, "amina", "Amina A.", "amina@example.org")
    with autumn.gradebook() as gb:
        assert [s.id for s in gb.students] == ["amina"]
    with spring.gradebook() as gb:
        assert gb.students == []
    assert not autumn.gradebook_path.exists() and "search_path%3Dgradebook_autumn_2026" in autumn.db_url
    with psycopg.connect(url) as conn:
        schemas = {row[0] for row in conn.execute("SELECT schema_name FROM information_schema.schemata")}
    assert {"gradebook_autumn_2026", "gradebook_spring_2027"} <= schemas


def test_pruning_keeps_what_waiting_jobs_and_recent_readers_need(queue_url: str):
    old = "now() - interval '30 days'"
    with psycopg.connect(queue_url, autocommit=True) as conn:
        for sha in ("old-unused", "old-needed", "recent"):
            store.put_archive(conn, sha, b"x")
        conn.execute(f"UPDATE bootcamp_grading_archives SET created_at = {old} WHERE sha256 LIKE 'old-%'")
        store.put_result(conn, "old-result", "{}", "w", 1.0)
        store.put_result(conn, "recent-result", "{}", "w", 1.0)
        conn.execute(f"UPDATE bootcamp_grading_results SET created_at = {old} WHERE job_key = 'old-result'")
    with store.make_app(queue_url).open() as app:  # a job still waiting for a worker needs its archive
        app.configure_task(store.TASK, queue=store.QUEUE).defer(files_sha256="old-needed")
    with psycopg.connect(queue_url, autocommit=True) as conn:
        assert store.prune(conn) == {"results": 1, "failures": 0, "archives": 1}
        archives = {row[0] for row in conn.execute("SELECT sha256 FROM bootcamp_grading_archives")}
        results = {row[0] for row in conn.execute("SELECT job_key FROM bootcamp_grading_results")}
    assert archives == {"old-needed", "recent"} and results == {"recent-result"}
