"""A small, real cohort on a running hub, and a trainee's actions through HTTP: for tests, bench and demos.

Everything goes through the same doors a person uses: the programme API makes the cohort, the hub REST API
(manager token) makes users and starts servers, and the trainee acts through nbgrader's assignment-list
API in their own server behind the proxy, with a token that is theirs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import nbformat
import requests
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from graders.hub.api import HubClient

SAMPLE_ASSIGNMENT = "hub-squares"
HIDDEN_MARKER = "hidden-check-seven"  # appears only in the hidden test; must never reach a trainee


def _nbgrader(cell, grade_id: str, *, grade: bool, solution: bool, points: float = 0, locked: bool = False):
    meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id, "schema_version": 3}
    if grade:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    return cell


def write_sample_curriculum(root: Path, assignment: str = SAMPLE_ASSIGNMENT) -> Path:
    """A one-module curriculum with a 2-point assignment: one solution cell, visible and hidden tests."""
    folder = root / "modules" / "hub-sample" / "assignments" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (root / "modules" / "hub-sample" / "module.toml").write_text(
        'id = "hub-sample"\ntitle = "Hub sample"\nversion = "1.0.0"\nkind = "technical"\n'
        'summary = "Used by the hub tests."\noutcomes = []\nprerequisites = []\nhours = 1\n\n'
        f'[[assignments]]\nname = "{assignment}"\ntitle = "Squares"\npoints = 2\ntime_budget_s = 60\nimage = "grader"\n'
    )
    nb = new_notebook(
        cells=[
            _nbgrader(
                new_markdown_cell("Write `square(x)`."), "intro", grade=False, solution=False, locked=True
            ),
            _nbgrader(
                new_code_cell(
                    "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION"
                ),
                "square",
                grade=False,
                solution=True,
            ),
            _nbgrader(
                new_code_cell(
                    "assert square(2) == 4\n### BEGIN HIDDEN TESTS\n"
                    f"assert square(7) == 49, '{HIDDEN_MARKER}'\n### END HIDDEN TESTS"
                ),
                "test_square",
                grade=True,
                solution=False,
                points=2,
                locked=True,
            ),
        ],  # fmt: skip
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(nb, folder / f"{assignment}.ipynb")
    write_sample_lesson(root / "modules" / "hub-sample", "01-squares")
    (root / "tracks").mkdir(exist_ok=True)
    (root / "tracks" / "six-month.toml").write_text(  # one week, so the cohort page has a week to show
        'name = "six-month"\ntitle = "Hub test track"\nmax_hours_per_week = 40\n\n'
        '[[weeks]]\nweek = 1\ntheme = "Squares"\nmodules = ["hub-sample"]\n',
        encoding="utf-8",
    )
    return root


def write_sample_lesson(module_dir: Path, name: str) -> Path:
    """A lesson that reads the module's data the way curriculum lessons do (../data/ beside lessons/)."""
    (module_dir / "data").mkdir(parents=True, exist_ok=True)
    (module_dir / "data" / "numbers.csv").write_text("x\n1\n2\n3\n", encoding="utf-8")
    (module_dir / "lessons").mkdir(exist_ok=True)
    lesson = new_notebook(
        cells=[
            new_markdown_cell(f"# Lesson {name}\nSquares of the numbers in `../data/numbers.csv`."),
            new_code_cell(
                "import csv\nwith open('../data/numbers.csv') as f:\n"
                "    xs = [int(r['x']) for r in csv.DictReader(f)]\nprint('squares', [x * x for x in xs])"
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    path = module_dir / "lessons" / f"{name}.ipynb"
    nbformat.write(lesson, path)
    return path


def create_cohort(settings, name: str, trainees: list[str], instructors: list[str]) -> None:
    """The course side, through graders.programme (skips what already exists)."""
    from graders.programme import cohorts

    if not settings.is_cohort(name):
        cohorts.create_cohort(settings, name, "six-month", date.today())
    for trainee in trainees:
        cohorts.add_trainee(settings, name, trainee, f"Trainee {trainee.title()}", f"{trainee}@example.org")
    for instructor in instructors:
        cohorts.add_instructor(
            settings, name, instructor, f"Instructor {instructor.title()}", f"{instructor}@example.org"
        )


@dataclass
class TraineeSession:
    """One trainee acting on their own server through the proxy, with their own API token."""

    base_url: str
    user: str
    token: str
    cohort: str

    def _url(self, path: str) -> str:
        return f"{self.base_url}/user/{self.user}{path}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def list_assignments(self) -> list[dict]:
        response = requests.get(
            self._url("/assignments"), params={"course_id": self.cohort}, headers=self._headers(), timeout=60
        )
        response.raise_for_status()
        return json.loads(response.text)["value"]

    def action(self, action: str, assignment: str) -> dict:
        response = requests.post(
            self._url(f"/assignments/{action}"),
            data={"course_id": self.cohort, "assignment_id": assignment},
            headers=self._headers(),
            timeout=120,
        )
        response.raise_for_status()
        return json.loads(response.text)

    def read_notebook(self, path: str) -> dict:
        response = requests.get(self._url(f"/api/contents/{path}"), headers=self._headers(), timeout=60)
        response.raise_for_status()
        return response.json()["content"]

    def write_notebook(self, path: str, content: dict) -> None:
        body = {"type": "notebook", "format": "json", "content": content}
        response = requests.put(
            self._url(f"/api/contents/{path}"), json=body, headers=self._headers(), timeout=60
        )
        response.raise_for_status()

    def solve(self, assignment: str, body: str = "    return x * x") -> None:
        """Fills in the solution cell of the fetched sample notebook (as a trainee would type it)."""
        path = f"{assignment}/{assignment}.ipynb"
        nb = self.read_notebook(path)
        for cell in nb["cells"]:
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "square":
                cell["source"] = f"def square(x):\n{body}\n"
        self.write_notebook(path, nb)

    def wait_for_feedback(self, assignment: str, timeout_s: float = 180.0) -> dict:
        """Asks for feedback until the newest submission has some; returns that submission's entry."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            listing = self.action("fetch_feedback", assignment)
            subs = [
                s for entry in listing.get("value", []) if entry.get("assignment_id") == assignment
                for s in entry.get("submissions", [])
            ]  # fmt: skip
            subs.sort(key=lambda s: s.get("timestamp", ""))
            if subs and subs[-1].get("has_local_feedback"):
                return subs[-1]
            time.sleep(0.5)
        raise TimeoutError(f"no feedback for {self.user}'s {assignment} within {timeout_s:.0f} s")

    def read_file(self, path: str) -> str:
        response = requests.get(
            self._url(f"/api/contents/{path}"), params={"type": "file", "format": "text"}, headers=self._headers(),
            timeout=60,
        )  # fmt: skip
        response.raise_for_status()
        return response.json()["content"]


def trainee_session(client: HubClient, user: str, cohort: str) -> TraineeSession:
    token = client.user_token(user, note="scenario", expires_in_s=3600)
    return TraineeSession(base_url=client.base_url, user=user, token=token, cohort=cohort)
