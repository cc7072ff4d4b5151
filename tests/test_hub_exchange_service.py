"""The exchange service end to end: a real hub and proxy with exchange = "service", real trainee containers.

Trainees list, fetch and submit through nbgrader's own endpoints and commands inside their containers,
which mount nothing of the host (lessons come through the service too); the grading service grades from
the same host folders as always and the feedback comes back through the service. Then bob tries, with his
own token, to reach alice's work, and sends uploads the service must refuse. One hub for the module
(test_hub_e2e.running_stack).
"""

from __future__ import annotations

import io
import os
import tarfile

import pytest
import requests
from test_hub_e2e import ASSIGNMENT, COHORT, Stack, running_stack

pytestmark = [pytest.mark.hub, pytest.mark.timeout(300)]

LIMIT_MB = 1  # max_submission_mb for this hub, so that an oversize upload stays small


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    env = {"BOOTCAMP_HUB_EXCHANGE": "service", "BOOTCAMP_HUB_MAX_SUBMISSION_MB": str(LIMIT_MB)}
    with running_stack(tmp_path_factory, env) as running:
        yield running


@pytest.fixture(scope="module")
def alice_graded(stack: Stack) -> dict:
    """Alice works through JupyterLab's assignment list (nbgrader's server extension): list, fetch, solve,
    submit, then fetch feedback until it is there. Returns her submission as the list shows it."""
    alice = stack.sessions["alice"]
    assert [(a["assignment_id"], a["status"]) for a in alice.list_assignments()] == [(ASSIGNMENT, "released")]
    fetched = alice.action("fetch", ASSIGNMENT)
    assert (ASSIGNMENT, "fetched") in [(a["assignment_id"], a["status"]) for a in fetched["value"]]
    alice.solve(ASSIGNMENT)
    submitted = alice.action("submit", ASSIGNMENT)
    assert submitted.get("success"), submitted
    return alice.wait_for_feedback(ASSIGNMENT, timeout_s=180)


def api(stack: Stack, user: str | None, method: str, path: str, **kwargs) -> requests.Response:
    """The exchange service's API through the proxy, with `user`'s own hub token (None: no token)."""
    headers = {"Authorization": f"token {stack.sessions[user].token}"} if user else {}
    url = f"{stack.hub.public_url}/services/exchange/api/{path}"
    return requests.request(method, url, headers=headers, timeout=60, **kwargs)


def tar_gz(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def host_folders(stack: Stack, kind: str, trainee: str) -> set[str]:
    folder = stack.hub.exchange_root / COHORT / kind / trainee
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


# -- the container -------------------------------------------------------------------------------------------
def test_trainee_container_mounts_nothing_of_the_host_but_gets_its_lessons(stack: Stack):
    container = stack.container("bob")
    assert [(m["Destination"], m["Type"]) for m in container.attrs["Mounts"]] == [("/home/jovyan", "volume")]
    env = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    assert env["BOOTCAMP_EXCHANGE_URL"].endswith("/services/exchange/")
    assert stack.sh("bob", "ls -A /srv/nbgrader/exchange")[1].strip() == ""
    # the released lesson and its data came through the service into ~/lessons (as the server started)
    listing = "ls ~/lessons/hub-sample/lessons ~/lessons/hub-sample/data"
    code, out = stack.sh(
        "bob", f"for i in $(seq 100); do {listing} >/dev/null 2>&1 && break; sleep 0.2; done; {listing}"
    )
    assert code == 0 and "01-squares.ipynb" in out and "numbers.csv" in out, out


# -- the trainee's path: list, fetch, submit, graded, feedback -----------------------------------------------
def test_submission_through_the_service_is_graded_and_feedback_comes_back(stack: Stack, alice_graded: dict):
    assert alice_graded["has_local_feedback"] and not alice_graded["feedback_updated"]
    html = stack.sessions["alice"].read_file(f"{alice_graded['local_feedback_path']}/{ASSIGNMENT}.html")
    assert "Score: 2.0 / 2.0" in html
    # stored exactly as nbgrader's own submit stores it, so the grading service found it unchanged
    [name] = [n for n in host_folders(stack, "inbound", "alice") if not n.startswith(".")]
    trainee, assignment, timestamp, suffix = name.split("+")
    assert (trainee, assignment, timestamp) == ("alice", ASSIGNMENT, alice_graded["timestamp"]) and suffix
    folder = stack.hub.exchange_root / COHORT / "inbound" / "alice" / name
    assert (folder / "timestamp.txt").read_text() == timestamp
    assert len((folder / "submission_secret.txt").read_text()) == 128
    assert (folder / f"{ASSIGNMENT}.ipynb").is_file()
    assert host_folders(stack, "feedback", "alice")


def test_nbgrader_commands_in_the_container_use_the_service(stack: Stack):
    code, out = stack.sh("bob", "cd ~ && nbgrader list 2>&1")
    assert code == 0 and f"{COHORT} {ASSIGNMENT}" in out, out
    code, out = stack.sh("bob", f"cd ~ && nbgrader fetch_assignment {ASSIGNMENT} 2>&1 && ls {ASSIGNMENT}")
    assert code == 0 and f"{ASSIGNMENT}.ipynb" in out, out
    before = host_folders(stack, "inbound", "bob")
    code, out = stack.sh("bob", f"cd ~ && nbgrader submit {ASSIGNMENT} 2>&1 && nbgrader list --cached 2>&1")
    assert code == 0 and f"{COHORT} bob {ASSIGNMENT}" in out, out
    [new] = host_folders(stack, "inbound", "bob") - before
    assert new.startswith(f"bob+{ASSIGNMENT}+")


# -- isolation, tried with bob's own token against the API ---------------------------------------------------
def test_a_trainee_cannot_read_or_write_another_trainees_work(stack: Stack, alice_graded: dict):
    alice_feedback = host_folders(stack, "feedback", "alice")
    alice_inbound = host_folders(stack, "inbound", "alice")
    listing = api(stack, "bob", "GET", "submissions").json()
    assert listing["trainee"] == "bob"
    assert alice_graded["timestamp"] not in {s["timestamp"] for s in listing["submissions"]}
    for page in alice_feedback:  # the names are unguessable, but even knowing one does not help
        response = api(stack, "bob", "GET", f"feedback/{page}")
        assert response.status_code == 404 and "no feedback" in response.json()["error"]
    for path in ("feedback/..%2F..%2Falice%2Fx.html", "assignments/..%2Finbound%2Falice/submissions"):
        response = api(stack, "bob", "POST" if path.endswith("submissions") else "GET", path, data=b"x")
        assert response.status_code in (400, 404), response.text[:200]
    # the request cannot say whose submission it is: the hub's word (bob) decides where it goes
    body = tar_gz(regular(f"{ASSIGNMENT}.ipynb", b"{}"))
    response = api(
        stack,
        "bob",
        "POST",
        f"assignments/{ASSIGNMENT}/submissions",
        params={"student_id": "alice", "trainee": "alice"},
        data=body,
    )
    assert response.status_code == 201, response.text[:300]
    assert host_folders(stack, "inbound", "alice") == alice_inbound
    other = api(stack, "bob", "GET", "assignments", params={"course_id": "another-cohort"})
    assert other.status_code == 403 and "not 'another-cohort'" in other.json()["error"]
    assert api(stack, None, "GET", "assignments").status_code in (302, 403)


# -- uploads the service refuses -----------------------------------------------------------------------------
def test_an_oversize_upload_is_refused_with_a_message(stack: Stack):
    before = host_folders(stack, "inbound", "bob")
    response = api(stack, "bob", "POST", f"assignments/{ASSIGNMENT}/submissions", data=os.urandom(1_500_000))
    assert response.status_code == 413
    assert f"the limit is {LIMIT_MB} MB" in response.json()["error"]
    assert "remove large files" in response.json()["error"]
    assert host_folders(stack, "inbound", "bob") == before


def test_a_tar_with_a_symlink_member_is_refused_with_a_message(stack: Stack):
    before = host_folders(stack, "inbound", "bob")
    link = tarfile.TarInfo("answers.ipynb")
    link.type, link.linkname = tarfile.SYMTYPE, "../../alice"
    body = tar_gz(regular(f"{ASSIGNMENT}.ipynb", b"{}"), (link, None))
    response = api(stack, "bob", "POST", f"assignments/{ASSIGNMENT}/submissions", data=body)
    assert response.status_code == 400
    assert "'answers.ipynb' is a link" in response.json()["error"]
    assert host_folders(stack, "inbound", "bob") == before  # nothing half-written left behind


def test_too_many_files_and_escaping_names_are_refused(stack: Stack):
    many = tar_gz(*(regular(f"f{n}.txt", b"") for n in range(501)))
    response = api(stack, "bob", "POST", f"assignments/{ASSIGNMENT}/submissions", data=many)
    assert response.status_code == 400 and "more than 500 files" in response.json()["error"]
    escaping = tar_gz(regular("../../alice/x.ipynb", b"{}"))
    response = api(stack, "bob", "POST", f"assignments/{ASSIGNMENT}/submissions", data=escaping)
    assert response.status_code == 400 and "outside the assignment folder" in response.json()["error"]
