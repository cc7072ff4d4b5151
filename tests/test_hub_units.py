"""The hub's own logic without a hub: settings, the durable queue, scanning, limits, redaction, safe copies.

Real SQLite, real files and real nbgrader notebooks; nothing is mocked.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from graders.errors import UserError
from graders.hidden_tests import RedactHiddenTests
from graders.hub.exchange import CohortExchange
from graders.hub.grading_service import GradingService, parse_submission_name
from graders.hub.queue import Submission, SubmissionQueue
from graders.hub.settings import HubSettings
from graders.settings import Settings
from graders.untrusted import copy_untrusted_tree

STAMP = "2026-01-02 03:04:05.000006 UTC"


# -- settings -----------------------------------------------------------------------------------------------------
def test_settings_come_from_toml_then_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("BOOTCAMP_HOME", str(tmp_path))
    toml = tmp_path / "hub.toml"
    toml.write_text(
        'port = 9000\nmem_limit = "4G"\nadmin_users = ["ada"]\n[max_submissions_per_assignment]\nexam = 1\n'
    )
    settings = HubSettings.load({"BOOTCAMP_HUB_CONFIG": str(toml), "BOOTCAMP_HUB_PORT": "9100"})
    assert settings.port == 9100 and settings.mem_limit == "4G" and settings.admin_users == ["ada"]
    assert (
        settings.submission_limit("exam") == 1
        and settings.submission_limit("other") == settings.max_submissions
    )
    assert settings.database_url == f"sqlite:///{tmp_path / 'hub' / 'jupyterhub.sqlite'}"


def test_postgres_is_one_setting(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("BOOTCAMP_HOME", str(tmp_path))
    settings = HubSettings.load({"BOOTCAMP_HUB_DB_URL": "postgresql://hub:pw@db/hub"})
    assert settings.database_url == "postgresql+psycopg://hub:pw@db/hub"  # the psycopg 3 driver we install


def test_unknown_setting_is_an_error_that_names_it(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("BOOTCAMP_HOME", str(tmp_path))
    toml = tmp_path / "hub.toml"
    toml.write_text("prot = 9000\n")
    with pytest.raises(UserError, match="prot"):
        HubSettings.load({"BOOTCAMP_HUB_CONFIG": str(toml)})


def test_documented_template_matches_the_settings(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("BOOTCAMP_HOME", str(tmp_path))
    template = Path(__file__).parent.parent / "hub_config" / "hub.toml"
    HubSettings.load({"BOOTCAMP_HUB_CONFIG": str(template)})  # every key in the template is a real setting


# -- the durable queue ----------------------------------------------------------------------------------------------
def _sub(n: int = 0, trainee: str = "alice") -> Submission:
    stamp = STAMP.replace("05.", f"{n:02d}.")
    return Submission(
        Submission.make_id("c1", trainee, "a1", stamp), "c1", trainee, "a1", stamp, "/x", "queued"
    )


def test_the_same_submission_is_queued_once(tmp_path: Path):
    queue = SubmissionQueue(tmp_path / "q.db")
    assert queue.add(_sub()) is True
    assert queue.add(_sub()) is False
    assert len(queue.all()) == 1


def test_a_restart_loses_nothing_and_grades_nothing_twice(tmp_path: Path):
    queue = SubmissionQueue(tmp_path / "q.db")
    for n in range(3):
        queue.add(_sub(n))
    first = queue.claim()
    queue.finish(first.id, "done", 1, 2, "")
    interrupted = queue.claim()  # the service dies while grading this one
    restarted = SubmissionQueue(tmp_path / "q.db")
    assert restarted.recover() == 1
    claimed = []
    while (job := restarted.claim()) is not None:
        claimed.append(job.id)
        restarted.finish(job.id, "done", 2, 2, "")
    assert sorted(claimed) == sorted([interrupted.id, _sub(2).id])
    assert first.id not in claimed
    assert restarted.recover() == 0 and restarted.claim() is None


# -- scanning the exchange ------------------------------------------------------------------------------------------
@pytest.fixture
def service(tmp_path: Path, monkeypatch) -> GradingService:
    monkeypatch.setenv("BOOTCAMP_HOME", str(tmp_path))
    settings, hub = Settings.load(), HubSettings.load({"BOOTCAMP_HUB_MAX_SUBMISSIONS": "2"})
    course = settings.course_dir("c1")
    (course / "release" / "a1").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    (settings.cohort_dir("c1") / "cohort.toml").write_text(
        'name = "c1"\ntrack = "six-month"\nstart = 2026-09-07\n'
    )
    return GradingService(settings, hub)


def _submit(service: GradingService, trainee: str, n: int, named: str | None = None) -> Path:
    exchange = CohortExchange(root=service.hub.exchange_root, cohort="c1")
    exchange.ensure_trainee(trainee, os.getuid())
    stamp = STAMP.replace("05.", f"{n:02d}.")
    folder = exchange.inbound(trainee) / f"{named or trainee}+a1+{stamp}+rnd{n}"
    folder.mkdir()
    nbformat.write(new_notebook(), folder / "a1.ipynb")
    (folder / "timestamp.txt").write_text(stamp)
    (folder / "submission_secret.txt").write_text(f"secret{n}")
    old = 1_000_000_000
    os.utime(folder / "submission_secret.txt", (old, old))
    return folder


def test_scanning_twice_queues_each_submission_once(service: GradingService):
    _submit(service, "alice", 1)
    assert service.scan() == 1
    assert service.scan() == 0
    assert [s.status for s in service.queue.all()] == ["queued"]


def test_submissions_over_the_limit_are_refused_with_a_notice(service: GradingService):
    for n in range(3):
        _submit(service, "alice", n)
    service.scan()
    assert [s.status for s in service.queue.all()] == ["queued", "queued", "rejected"]
    notices = list(
        CohortExchange(root=service.hub.exchange_root, cohort="c1").feedback("alice").glob("*.html")
    )
    assert len(notices) == 1 and "limit of 2" in notices[0].read_text()


def test_a_submission_is_attributed_to_the_folder_not_the_name(service: GradingService):
    _submit(service, "bob", 1, named="alice")
    service.scan()
    (only,) = service.queue.all()
    assert only.trainee == "bob" and only.status == "rejected"


def test_submission_names_are_parsed_like_nbgrader_writes_them():
    assert parse_submission_name(f"alice+a1+{STAMP}+xyz") == ("alice", "a1", STAMP)
    assert parse_submission_name("garbage") is None


def test_feedback_released_from_the_formgrader_reaches_only_its_trainee(service: GradingService):
    from nbgrader.utils import notebook_hash

    submitted = service.settings.course_dir("c1") / "submitted" / "alice" / "a1"
    submitted.mkdir(parents=True)
    (submitted / "submission_secret.txt").write_text("s3cret")
    nbformat.write(new_notebook(), submitted / "a1.ipynb")
    exchange = CohortExchange(root=service.hub.exchange_root, cohort="c1")
    exchange.ensure()
    name = f"{notebook_hash(secret='s3cret', notebook_id='a1')}.html"
    (exchange.feedback_root / name).write_text("<p>well done</p>")
    (exchange.feedback_root / "0123.html").write_text("nobody's")
    assert service.route_released_feedback() == 1
    assert (exchange.feedback("alice") / name).read_text() == "<p>well done</p>"
    assert (exchange.feedback_root / "0123.html").exists()


# -- copying what a trainee wrote ------------------------------------------------------------------------------------
def test_copy_skips_links_to_other_files(tmp_path: Path):
    secret = tmp_path / "gradebook.db"
    secret.write_text("grades of everyone")
    src = tmp_path / "submission"
    src.mkdir()
    (src / "a1.ipynb").write_text("{}")
    (src / "steal.ipynb").symlink_to(secret)
    (src / "sub").mkdir()
    (src / "sub" / "data.csv").write_text("1,2")
    copy_untrusted_tree(src, tmp_path / "out", max_total_bytes=10_000)
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")) == [
        "a1.ipynb", "sub", "sub/data.csv"
    ]  # fmt: skip


def test_copy_refuses_oversized_submissions(tmp_path: Path):
    src = tmp_path / "submission"
    src.mkdir()
    (src / "big.bin").write_bytes(b"x" * 5000)
    with pytest.raises(ValueError, match="larger"):
        copy_untrusted_tree(src, tmp_path / "out", max_total_bytes=1000)


# -- feedback ----------------------------------------------------------------------------------------------------------
def test_hidden_tests_and_their_tracebacks_are_redacted():
    cell = new_code_cell(
        "assert f(1) == 1\n### BEGIN HIDDEN TESTS\nassert f(7) == 'secret-answer'\n### END HIDDEN TESTS\nprint('after')"
    )
    cell.outputs = [
        nbformat.v4.new_output(
            "error", ename="AssertionError", evalue="", traceback=["f(7) == 'secret-answer'"]
        )
    ]
    redacted, _ = RedactHiddenTests().preprocess_cell(cell, {}, 0)
    assert "secret-answer" not in redacted.source and "secret-answer" not in str(redacted.outputs)
    assert "assert f(1) == 1" in redacted.source and "print('after')" in redacted.source
    assert "failed" in redacted.outputs[0]["text"]


def test_a_failure_of_grading_itself_is_retried_then_shown_to_instructors_not_blamed_on_the_trainee(
    service: GradingService, monkeypatch
):
    """The cohort's course has no gradebook yet (an instructor's set-up step is missing): nothing the
    trainee did. The service retries with back-off, then records an instructor-facing 'error'."""
    from graders.hub import grading_service

    monkeypatch.setattr(grading_service, "RETRY_BASE_S", 0.0)  # the back-off's length, not its logic
    _submit(service, "alice", 1)
    service.scan()
    statuses = []
    for _ in range(grading_service.MAX_ATTEMPTS):
        graded = service.grade_next()
        statuses.append((graded.status, graded.attempts))
    assert statuses == [("queued", 1), ("queued", 2), ("error", 3)]
    final = service.queue.all()[0]
    assert "no gradebook" in final.message and "failed 3 times" in final.message
    notices = list(
        CohortExchange(root=service.hub.exchange_root, cohort="c1").feedback("alice").glob("*.html")
    )
    assert len(notices) == 1 and "problem on our side, not in your work" in notices[0].read_text()
    assert service.grade_next() is None  # a dead letter is not picked up again


def test_retries_wait_for_their_back_off(service: GradingService):
    _submit(service, "alice", 1)
    service.scan()
    assert service.grade_next().status == "queued"
    assert service.grade_next() is None  # 5 s have not passed


# -- cohort pages (the functions the hub service serves; the hub itself in test_hub_e2e) ----------------------------
def test_cohort_pages_show_the_week_and_keep_cohorts_apart(tmp_path: Path, monkeypatch):
    from datetime import date

    from graders.hub import pages, scenario
    from graders.hub.release import release_module

    monkeypatch.setenv("BOOTCAMP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BOOTCAMP_HUB_CURRICULUM_DIR", str(tmp_path / "curriculum"))
    settings, hub = Settings.load(), HubSettings.load()
    scenario.write_sample_curriculum(hub.curriculum)
    scenario.create_cohort(settings, "north", ["alice"], ["ines"])
    scenario.create_cohort(settings, "south", ["bob"], ["olli"])
    release_module(settings, hub, "hub-sample", "north")
    today = date.today()
    alice = pages.trainee_page(settings, hub, "alice", "/", today)
    assert "Cohort north" in alice and "week 1 of 1" in alice
    assert "/user/alice/lab/tree/lessons/hub-sample/lessons/01-squares.ipynb" in alice
    assert "open" in alice  # the assignment, not yet submitted, not yet past due
    bob = pages.trainee_page(settings, hub, "bob", "/", today)
    assert "No lessons released yet" in bob  # south has not been given the module
    assert pages.trainee_page(settings, hub, "ines", "/", today) is None  # an instructor, not a trainee
    assert pages.is_instructor(settings, "ines", "north") and not pages.is_instructor(
        settings, "ines", "south"
    )
    assert not pages.is_instructor(settings, "alice", "north")
    dashboard = pages.instructor_page(settings, hub, "north", "/", today)
    assert "Instructor dashboard" in dashboard and "Trainee Alice" in dashboard
    assert "Trainee Bob" not in dashboard


def test_the_spawner_sees_a_server_start_listening_and_gives_up_on_one_that_never_does():
    import asyncio

    from graders.hub.names import free_port
    from graders.hub.spawner import wait_until_listening

    async def late_server(port: int) -> bool:
        async def open_later():
            await asyncio.sleep(0.3)
            return await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", port)

        opening = asyncio.create_task(open_later())
        found = await wait_until_listening("127.0.0.1", port, timeout_s=10)
        (await opening).close()
        return found

    assert asyncio.run(late_server(free_port())) is True
    assert asyncio.run(wait_until_listening("127.0.0.1", free_port(), timeout_s=0.3)) is False


def test_stopping_a_hub_that_must_be_killed_also_stops_its_services(tmp_path: Path):
    """A hub that ignores SIGTERM is killed; the service it started in its own session must not outlive it."""
    import sys
    import time

    from graders.hub.launcher import Process, proc_stat

    def running(pid: int) -> bool:  # a zombie waiting for a reaper has stopped running
        stat = proc_stat(pid)
        return stat is not None and stat[0] != "Z"

    service_pid_file = tmp_path / "service.pid"
    hub_like = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], start_new_session=True)\n"
        f"open({str(service_pid_file)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(300)\n"
    )
    process = Process(
        name="hub", pid_file=tmp_path / "hub.pid", log_file=tmp_path / "hub.log", marker=b"SIG_IGN"
    )
    process.start([sys.executable, "-c", hub_like], env=dict(os.environ), cwd=tmp_path)
    deadline = time.monotonic() + 30
    while not service_pid_file.exists() or not service_pid_file.read_text():
        assert time.monotonic() < deadline, "the fake hub never started its service"
        time.sleep(0.1)
    service = int(service_pid_file.read_text())
    assert running(service)
    assert process.stop(timeout_s=1.0)
    deadline = time.monotonic() + 10
    while running(service) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(service), "the hub's service outlived it"
