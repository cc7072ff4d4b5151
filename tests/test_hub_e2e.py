"""The hub end to end with real parts: JupyterHub, the Node proxy, Docker, nbgrader, the grading service.

One hub serves the whole module (starting it takes seconds); a cohort with two trainees and an instructor
is made through the programme API and synced to the hub, an assignment is released, and each test drives
the trainees and the instructor through HTTP as they would. Every container and volume is removed after.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests

from graders.hub import launcher, scenario
from graders.hub.api import HubClient

pytestmark = [pytest.mark.hub, pytest.mark.timeout(300)]
from graders.hub.cohorts import CohortOnHub, sync_cohort  # noqa: E402
from graders.hub.release import release_module  # noqa: E402
from graders.hub.settings import HubSettings  # noqa: E402
from graders.hub.spawner import free_port  # noqa: E402
from graders.settings import Settings  # noqa: E402

COHORT = "hubtest"
TRAINEES = ["alice", "bob"]
INSTRUCTOR = "ines"
ASSIGNMENT = scenario.SAMPLE_ASSIGNMENT
ARTIFACTS = Path(__file__).parent / "artifacts"


class Stack:
    """Handles on the running hub for the tests."""

    def __init__(self, settings: Settings, hub: HubSettings, docker_client) -> None:
        self.settings, self.hub, self.docker = settings, hub, docker_client
        self.client = HubClient.from_settings(hub)
        self.spawn_seconds: dict[str, float] = {}
        self.sessions: dict[str, scenario.TraineeSession] = {}

    def container(self, user: str):
        state = self.client.user(user)["servers"][""]["state"]
        return self.docker.containers.get(state["object_id"])

    def sh(self, user: str, command: str) -> tuple[int, str]:
        """Runs a shell command in the trainee's container as the trainee's Unix user."""
        code, out = self.container(user).exec_run(["bash", "-c", command], user="jovyan")
        return code, out.decode(errors="replace")


@contextlib.contextmanager
def running_stack(tmp_path_factory, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """A hub with its proxy, one cohort (two trainees, an instructor), the sample assignment released and
    both trainees' servers started; `extra_env` adds settings (the scale-out test's PostgreSQL URLs)."""
    docker_client = docker.from_env()
    try:
        docker_client.ping()
        docker_client.images.get("bootcamp-trainee:latest")
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"these tests need Docker and bootcamp-trainee:latest (images/trainee/build.sh): {error}")
    if not shutil.which("configurable-http-proxy"):
        pytest.fail("configurable-http-proxy is missing: npm install -g configurable-http-proxy")
    home = tmp_path_factory.mktemp("bootcamp-home")
    prefix = f"bchtest{secrets.token_hex(3)}"
    env = {
        "BOOTCAMP_HOME": str(home),
        "BOOTCAMP_HUB_NETWORK": "host",
        "BOOTCAMP_HUB_PORT": str(free_port()),
        "BOOTCAMP_HUB_HUB_PORT": str(free_port()),
        "BOOTCAMP_HUB_PROXY_API_PORT": str(free_port()),
        "BOOTCAMP_HUB_CONTAINER_PREFIX": prefix,
        "BOOTCAMP_HUB_CURRICULUM_DIR": str(home / "curriculum"),
        "BOOTCAMP_HUB_POLL_INTERVAL_S": "0.3",
        "BOOTCAMP_HUB_CPU_LIMIT": "1.0",
        "BOOTCAMP_HUB_MEM_LIMIT": "1G",
        **(extra_env or {}),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    settings, hub = Settings.load(), HubSettings.load()
    try:
        scenario.write_sample_curriculum(hub.curriculum)
        scenario.create_cohort(settings, COHORT, TRAINEES, [INSTRUCTOR])
        launcher.up(hub)
        s = Stack(settings, hub, docker_client)
        sync_cohort(s.client, hub, CohortOnHub.from_programme(settings, COHORT))
        release_module(settings, hub, "hub-sample", COHORT)  # its lesson, data and assignment
        for user in TRAINEES:
            started = time.monotonic()
            s.client.start_server(user)
            s.spawn_seconds[user] = time.monotonic() - started
            s.sessions[user] = scenario.trainee_session(s.client, user, COHORT)
        yield s
    finally:
        launcher.down(hub)
        for container in docker_client.containers.list(all=True, filters={"name": prefix}):
            container.remove(force=True)
        for volume in docker_client.volumes.list(filters={"name": prefix}):
            volume.remove(force=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory) as running:
        yield running


@pytest.fixture(scope="module")
def alice_graded(stack: Stack) -> dict:
    """Alice fetches, solves, submits once; returns her submission as the assignment list shows it."""
    alice = stack.sessions["alice"]
    alice.action("fetch", ASSIGNMENT)
    alice.solve(ASSIGNMENT)
    result = alice.action("submit", ASSIGNMENT)
    assert result.get("success"), result
    return alice.wait_for_feedback(ASSIGNMENT, timeout_s=180)


# -- a trainee's server -----------------------------------------------------------------------------------------
def test_trainee_server_runs_in_its_own_limited_container(stack: Stack):
    container = stack.container("alice")
    config = container.attrs["HostConfig"]
    assert container.image.tags[0] == "bootcamp-trainee:latest"
    assert config["Memory"] == 1024**3
    assert config["CpuQuota"] == 100_000
    assert container.attrs["Config"]["User"] in ("jovyan", "")
    assert stack.sh("alice", "id -u")[1].strip() == "1000"
    mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
    base = f"/srv/nbgrader/exchange/{COHORT}"
    assert set(mounts) == {
        "/home/jovyan",
        f"{base}/outbound",
        f"{base}/inbound",
        f"{base}/feedback",
        "/srv/bootcamp/lessons",
    }
    assert not mounts[f"{base}/outbound"]["RW"] and not mounts[f"{base}/feedback"]["RW"]
    assert not mounts["/srv/bootcamp/lessons"]["RW"]
    assert mounts[f"{base}/inbound"]["Source"].endswith("/inbound/alice")
    assert mounts["/home/jovyan"]["Type"] == "volume"


def test_trainee_sees_the_released_assignment(stack: Stack):
    listing = stack.sessions["bob"].list_assignments()
    assert [(a["assignment_id"], a["status"]) for a in listing] == [(ASSIGNMENT, "released")]


# -- grade on submit ------------------------------------------------------------------------------------------------
def test_submission_is_graded_and_feedback_reaches_the_trainee(stack: Stack, alice_graded: dict):
    assert alice_graded["has_local_feedback"]
    folder = alice_graded["local_feedback_path"]
    html = stack.sessions["alice"].read_file(f"{folder}/{ASSIGNMENT}.html")
    assert "Score: 2.0 / 2.0" in html


def test_feedback_never_shows_hidden_tests(stack: Stack, alice_graded: dict):
    html = stack.sessions["alice"].read_file(f"{alice_graded['local_feedback_path']}/{ASSIGNMENT}.html")
    assert scenario.HIDDEN_MARKER not in html
    assert not re.search(r"square</span><span class=\"p\">\(</span><span class=\"mi\">7", html)
    assert "hidden tests are not shown" in html


def test_instructor_sees_the_grade_in_the_formgrader(stack: Stack, alice_graded: dict):
    token = stack.client.user_token(INSTRUCTOR, note="test")
    url = f"{stack.hub.public_url}/services/formgrader-{COHORT}/formgrader/api/submissions/{ASSIGNMENT}"
    response = requests.get(url, headers={"Authorization": f"token {token}"}, timeout=60)
    assert response.status_code == 200, response.text[:300]
    rows = {row["student"]: row for row in response.json()}
    assert rows["alice"]["score"] == 2.0 and rows["alice"]["max_score"] == 2.0


def test_trainee_cannot_open_the_formgrader(stack: Stack):
    url = f"{stack.hub.public_url}/services/formgrader-{COHORT}/formgrader/api/submissions/{ASSIGNMENT}"
    headers = {"Authorization": f"token {stack.sessions['bob'].token}"}
    response = requests.get(url, headers=headers, timeout=60, allow_redirects=False)
    assert response.status_code in (302, 403)


# -- isolation: what bob's container can reach --------------------------------------------------------------------------
def test_trainee_cannot_read_another_trainees_submission(stack: Stack, alice_graded: dict):
    code, out = stack.sh(
        "bob", f"ls -A /srv/nbgrader/exchange/{COHORT}/inbound; find / -xdev -name 'alice+*' 2>/dev/null"
    )
    assert "alice" not in out
    host_inbound = stack.hub.exchange_root / COHORT / "inbound" / "alice"
    assert stack.sh("bob", f"ls {host_inbound}")[0] != 0


def test_trainee_cannot_read_another_trainees_feedback(stack: Stack, alice_graded: dict):
    alice_files = {p.name for p in (stack.hub.exchange_root / COHORT / "feedback" / "alice").iterdir()}
    assert alice_files
    _, out = stack.sh("bob", f"ls -A /srv/nbgrader/exchange/{COHORT}/feedback")
    assert not alice_files & set(out.split())
    assert stack.sh("bob", f"touch /srv/nbgrader/exchange/{COHORT}/feedback/forged.html")[0] != 0


def test_trainee_cannot_read_hidden_tests_or_the_gradebook(stack: Stack, alice_graded: dict):
    course = stack.settings.course_dir(COHORT)
    assert stack.sh("bob", f"ls {course}")[0] != 0
    # nbgrader's own package ships a sample gradebook.db for its tests; anything else would be ours.
    _, found = stack.sh("bob", "find / -xdev -name gradebook.db -not -path '/opt/venv/*' 2>/dev/null")
    assert found.strip() == ""
    _, holders = stack.sh(
        "bob", f"grep -rl {scenario.HIDDEN_MARKER} /srv /home /tmp /etc /root /var 2>/dev/null"
    )
    assert holders.strip() == ""


def test_trainee_cannot_read_the_grading_service_token(stack: Stack):
    token = _grader_service_token()
    assert token and len(token) >= 16
    code, out = stack.sh(
        "bob",
        f"env; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'; grep -rl {token} /srv /home /tmp /etc 2>/dev/null",
    )
    assert token not in out
    assert "grading_service" not in stack.sh("bob", "cat /proc/*/cmdline 2>/dev/null | tr '\\0' ' '")[1]


def test_released_assignments_are_read_only(stack: Stack):
    code, _ = stack.sh("bob", f"touch /srv/nbgrader/exchange/{COHORT}/outbound/{ASSIGNMENT}/x")
    assert code != 0


def test_submission_under_another_name_is_refused(stack: Stack, alice_graded: dict):
    stamp = "2030-01-01 00:00:00.000000 UTC"
    folder = f"/srv/nbgrader/exchange/{COHORT}/inbound/alice+{ASSIGNMENT}+{stamp}+forged"
    code, out = stack.sh(
        "bob",
        f"mkdir '{folder}' && echo '{stamp}' > '{folder}/timestamp.txt' && echo s > '{folder}/submission_secret.txt'",
    )
    assert code == 0, out
    from graders.hub.queue import Submission, SubmissionQueue

    queue = SubmissionQueue(stack.hub.grading_db)
    sub_id = Submission.make_id(COHORT, "bob", ASSIGNMENT, stamp)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and queue.get(sub_id) is None:
        time.sleep(0.3)
    assert queue.get(sub_id).status == "rejected"
    assert [s.trainee for s in queue.all() if s.status == "done"] == ["alice"]


# -- helpers ------------------------------------------------------------------------------------------------------
def _grader_service_token() -> str:
    """The grading service's hub token, read from its process on the host (we started it)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"graders.hub.grading_service" not in cmdline:
                continue
            env = dict(
                item.split("=", 1)
                for item in Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
                if "=" in item
            )
            if env.get("BOOTCAMP_HOME") == os.environ["BOOTCAMP_HOME"]:
                return env["JUPYTERHUB_API_TOKEN"]
        except OSError:
            continue
    raise AssertionError("the grading service is not running")


# -- the browser ----------------------------------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
ADMIN_PASSWORD = secrets.token_urlsafe(12)  # one hub admin signs up once, for every browser walk
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip


@pytest.mark.browser
def test_trainee_walks_fetch_submit_and_feedback_in_jupyterlab(stack: Stack, tmp_path: Path):
    """Bob's day in the browser: sign in through NativeAuthenticator's page, open JupyterLab, open nbgrader's
    assignment list, fetch the assignment, submit it untouched, fetch the feedback the grading service
    returns, then open the cohort page from JupyterLab's Bootcamp menu and find his score there."""
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (never `playwright install`)")
    from graders.hub.accounts import ensure_login

    admin_password, password = ADMIN_PASSWORD, secrets.token_urlsafe(12)
    ensure_login(stack.hub.public_url, ("admin", admin_password), "admin", admin_password)
    ensure_login(stack.hub.public_url, ("admin", admin_password), "bob", password)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True,
            viewport={"width": 1400, "height": 900},
        )  # fmt: skip
        try:
            page = browser.new_page()
            page.goto(f"{stack.hub.public_url}/hub/login")
            page.fill("input[name=username]", "bob")
            page.fill("input[name=password]", password)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url(re.compile(r".*/user/bob/lab.*"), timeout=90_000)
            page.wait_for_selector("#jp-main-dock-panel", timeout=90_000)
            page.click("div.lm-MenuBar-itemLabel:text('Nbgrader')", timeout=60_000)
            page.click("li.lm-Menu-item:has-text('Assignment List')", timeout=30_000)
            page.wait_for_selector(f"#released_assignments_list >> text={ASSIGNMENT}", timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "hub-assignment-list.png"))
            page.click("#released_assignments_list button:has-text('Fetch')", timeout=30_000)
            page.wait_for_selector(f"#fetched_assignments_list >> text={ASSIGNMENT}", timeout=60_000)
            page.click("#fetched_assignments_list button:has-text('Submit')", timeout=30_000)
            page.wait_for_selector(f"#submitted_assignments_list >> text={ASSIGNMENT}", timeout=60_000)
            _refresh_until(
                page, "#submitted_assignments_list >> text=feedback available to fetch", timeout_s=180
            )
            page.click("#submitted_assignments_list button:has-text('Fetch Feedback')", timeout=30_000)
            page.wait_for_selector("#submitted_assignments_list >> text=(view feedback)", timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "hub-feedback-fetched.png"))
            page.click("div.lm-MenuBar-itemLabel:text('Bootcamp')", timeout=30_000)
            with browser.expect_page(timeout=30_000) as opened:
                page.click("li.lm-Menu-item:has-text('This week')", timeout=30_000)
            cohort_page = opened.value
            cohort_page.wait_for_selector("text=Assignments", timeout=60_000)
            assert "/services/cohort/" in cohort_page.url
            assert "0 / 2" in cohort_page.inner_text("body")  # his untouched submission, graded
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "hub-assignment-list-failure.png"))
            raise
        finally:
            browser.close()


def _refresh_until(page, selector: str, timeout_s: float) -> None:
    """nbgrader's assignment list does not poll: press its refresh button until `selector` shows up."""
    deadline = time.monotonic() + timeout_s
    while page.locator(selector).count() == 0:
        assert time.monotonic() < deadline, f"{selector} did not appear within {timeout_s} s"
        page.click("#refresh_assignments_list", timeout=30_000)
        page.wait_for_timeout(1_000)


# -- lessons ------------------------------------------------------------------------------------------------------
LESSON = "lessons/hub-sample/lessons/01-squares.ipynb"


def test_released_lessons_are_in_the_trainee_home_and_run_there(stack: Stack):
    code, out = stack.sh(
        "alice",
        f"cd ~/{LESSON.rsplit('/', 1)[0]} && jupyter nbconvert --to notebook --execute --stdout "
        "01-squares.ipynb 2>/dev/null",
    )
    assert code == 0, out
    assert "squares [1, 4, 9]" in out  # the lesson found ../data/numbers.csv
    assert (
        stack.sh("alice", "touch /srv/bootcamp/lessons/hub-sample/lessons/x")[0] != 0
    )  # originals read-only


def test_a_rerelease_adds_new_lessons_and_keeps_the_trainees_edits(stack: Stack):
    assert stack.sh("bob", f"echo '# my notes' >> ~/{LESSON}")[0] == 0
    scenario.write_sample_lesson(stack.hub.curriculum / "modules" / "hub-sample", "02-more-squares")
    release_module(stack.settings, stack.hub, "hub-sample", COHORT)
    stack.client.stop_server("bob")
    stack.client.start_server("bob")
    assert "# my notes" in stack.sh("bob", f"tail -c 200 ~/{LESSON}")[1]  # never overwritten
    assert stack.sh("bob", "test -f ~/lessons/hub-sample/lessons/02-more-squares.ipynb")[0] == 0
    assert stack.sh("bob", "test -f /srv/bootcamp/lessons/hub-sample/lessons/02-more-squares.ipynb")[0] == 0


# -- cohort pages ----------------------------------------------------------------------------------------------
def _page(stack: Stack, user: str, path: str) -> requests.Response:
    token = stack.client.user_token(user, note="pages test", expires_in_s=600)
    return requests.get(
        f"{stack.hub.public_url}/services/cohort/{path}",
        headers={"Authorization": f"token {token}"},
        timeout=60,
        allow_redirects=False,
    )


def test_cohort_page_shows_a_trainee_their_week_lessons_and_scores(stack: Stack, alice_graded: dict):
    response = _page(stack, "alice", "")
    assert response.status_code == 200, response.text[:500]
    text = response.text
    assert f"Cohort {COHORT}" in text and "week 1 of 1" in text
    assert "/user/alice/lab/tree/lessons/hub-sample/lessons/01-squares.ipynb" in text  # opens in her lab
    assert "Squares" in text and "2 / 2" in text  # her graded assignment with its score
    assert "width=device-width" in text  # laid out for a phone too
    assert "Trainee Bob" not in text  # her page, nobody else's


def test_instructor_dashboard_is_for_the_cohorts_instructors_only(stack: Stack, alice_graded: dict):
    for trainee in TRAINEES:
        assert _page(stack, trainee, f"instructor/{COHORT}").status_code == 403
    response = _page(stack, INSTRUCTOR, f"instructor/{COHORT}")
    assert response.status_code == 200, response.text[:500]
    assert "Instructor dashboard" in response.text and f"formgrader-{COHORT}/formgrader" in response.text
    assert "Trainee Alice" in response.text and "Grades per assignment" in response.text
    assert "data:image/png;base64," in response.text  # the grade distribution plot
    assert f"instructor/{COHORT}" in _page(stack, INSTRUCTOR, "").text  # linked from the instructor's page


def test_outcome_report_is_for_programme_staff_only(stack: Stack, alice_graded: dict):
    for user in [*TRAINEES, INSTRUCTOR]:
        assert _page(stack, user, "outcomes").status_code == 403
    response = _page(stack, "admin", "outcomes")  # a hub admin: programme staff
    assert response.status_code == 200, response.text[:500]
    assert "Programme outcomes" in response.text and COHORT in response.text
    assert "Trainee Alice" not in response.text  # aggregate figures only
    assert "outcomes" in _page(stack, "admin", "").text  # linked from the admin's landing page


@pytest.mark.browser
def test_browser_walk_cohort_page_and_dashboard_on_desktop_and_phone(
    stack: Stack, alice_graded: dict, tmp_path: Path
):
    """A trainee signs in and opens the cohort page (desktop and phone width), is refused the dashboard;
    the instructor signs in, opens it and goes on into the formgrader, where the released assignment is
    listed. Screenshots are kept in tests/artifacts/."""
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (never `playwright install`)")
    from graders.hub.accounts import ensure_login

    admin_password = ADMIN_PASSWORD
    passwords = {"alice": secrets.token_urlsafe(12), INSTRUCTOR: secrets.token_urlsafe(12)}
    ensure_login(stack.hub.public_url, ("admin", admin_password), "admin", admin_password)
    for user, password in passwords.items():
        ensure_login(stack.hub.public_url, ("admin", admin_password), user, password)
    ARTIFACTS.mkdir(exist_ok=True)
    pages = f"{stack.hub.public_url}/services/cohort/"
    with sync_api.sync_playwright() as pw:
        for user, password in passwords.items():
            browser = pw.chromium.launch_persistent_context(
                str(tmp_path / f"profile-{user}"), executable_path=CHROMIUM, args=CHROMIUM_FLAGS,
                headless=True, viewport={"width": 1280, "height": 900},
            )  # fmt: skip
            page = browser.new_page()
            try:
                page.goto(f"{stack.hub.public_url}/hub/login?next=/services/cohort/")
                page.fill("input[name=username]", user)
                page.fill("input[name=password]", password)
                page.click("input[type=submit], button[type=submit]")
                page.wait_for_url(re.compile(r".*/services/cohort/.*"), timeout=90_000)
                dashboard = page.goto(f"{pages}instructor/{COHORT}")
                if user == "alice":
                    assert dashboard.status == 403
                    page.goto(pages)
                    page.wait_for_selector("text=Assignments", timeout=30_000)
                    assert page.locator("a[href*='lessons/hub-sample/lessons/01-squares.ipynb']").count() == 1
                    page.screenshot(path=str(ARTIFACTS / "cohort-page-desktop.png"), full_page=True)
                    page.set_viewport_size({"width": 390, "height": 844})
                    page.screenshot(path=str(ARTIFACTS / "cohort-page-phone.png"), full_page=True)
                    # nothing wider than the phone's screen: the page is usable without sideways scrolling
                    assert page.evaluate("document.documentElement.scrollWidth") <= 390
                else:
                    assert dashboard.status == 200
                    page.wait_for_selector("text=Instructor dashboard", timeout=30_000)
                    # the at-risk view: a count card, and either the flagged trainees or a line saying none
                    assert page.locator("text=trainees flagged at risk").count() == 1
                    page.screenshot(path=str(ARTIFACTS / "instructor-dashboard-desktop.png"), full_page=True)
                    page.set_viewport_size({"width": 390, "height": 844})
                    page.screenshot(path=str(ARTIFACTS / "instructor-dashboard-phone.png"), full_page=True)
                    # from the dashboard into nbgrader's formgrader, signed in through the hub
                    page.set_viewport_size({"width": 1280, "height": 900})
                    page.click("text=open the formgrader")
                    page.wait_for_url(
                        re.compile(rf".*/services/formgrader-{COHORT}/formgrader.*"), timeout=60_000
                    )
                    page.wait_for_selector("text=Manage Assignments", timeout=60_000)
                    page.wait_for_selector(f"text={ASSIGNMENT}", timeout=60_000)
                    page.screenshot(path=str(ARTIFACTS / "instructor-formgrader.png"), full_page=True)
            except Exception:
                page.screenshot(path=str(ARTIFACTS / f"cohort-walk-{user}-failure.png"))
                raise
            finally:
                browser.close()


# -- last: it restarts the hub -----------------------------------------------------------------------------------
def test_a_cohort_created_while_the_hub_runs_gets_its_formgrader_and_servers_keep_running(stack: Stack):
    """`bootcamp hub sync` after `cohort create`: the hub restarts by itself to start the new cohort's
    formgrader, for that cohort's instructor only; a trainee's running server is the same container after."""
    import subprocess
    import sys

    bob_container = stack.container("bob").id
    bob_listing = stack.sessions["bob"].list_assignments()
    scenario.create_cohort(stack.settings, "latecomers", ["carol"], ["ivan"])
    done = subprocess.run(
        [sys.executable, "-m", "graders.cli", "hub", "sync", "--cohort", "latecomers"],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "restarted the hub" in done.stdout and "latecomers" in done.stdout

    def formgrader(user: str, cohort: str) -> requests.Response:
        token = stack.client.user_token(user, note="test")
        url = f"{stack.hub.public_url}/services/formgrader-{cohort}/formgrader/api/assignments"
        return requests.get(
            url, headers={"Authorization": f"token {token}"}, timeout=60, allow_redirects=False
        )

    deadline = time.monotonic() + 90
    while (response := formgrader("ivan", "latecomers")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(1)  # the hub answers before its managed services listen
    assert response.status_code == 200, response.text[:300]
    assert formgrader("ivan", COHORT).status_code in (302, 403)  # not his cohort
    assert formgrader(INSTRUCTOR, "latecomers").status_code in (302, 403)
    assert formgrader(INSTRUCTOR, COHORT).status_code == 200  # the old cohort's formgrader is back too

    assert stack.container("bob").id == bob_container  # not respawned: open notebooks lost nothing
    assert stack.sessions["bob"].list_assignments() == bob_listing  # his server answers as before
