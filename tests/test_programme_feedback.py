"""Feedback from a real nbgrader autograde run, then erasure of a trainee from every store."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import nbformat
import pytest
from test_programme_support import run_cli

from graders.programme import cohorts
from graders.programme.feedback import generate_feedback
from graders.programme.privacy import export_trainee
from graders.reports.progress import build_progress
from graders.reports.render_html import render_progress
from graders.settings import Settings

HIDDEN = "assert add(20, 22) == 42  # SECRET-HIDDEN-CHECK"


def _source_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    solution = nbformat.v4.new_code_cell(
        "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION"
    )
    solution.metadata["nbgrader"] = {
        "grade": False,
        "solution": True,
        "locked": False,
        "grade_id": "add",
        "schema_version": 3,
    }
    tests = nbformat.v4.new_code_cell(
        f"assert add(1, 1) == 2\n### BEGIN HIDDEN TESTS\n{HIDDEN}\n### END HIDDEN TESTS"
    )
    tests.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": "test_add",
        "points": 2,
        "schema_version": 3,
    }
    nb.cells = [solution, tests]
    return nb


def _submit(cohort: cohorts.Cohort, student: str, body: str) -> None:
    nb = nbformat.read(cohort.course_dir / "release" / "ps1" / "ps1.ipynb", as_version=4)
    nb.cells[0].source = f"def add(a, b):\n    {body}"
    folder = cohort.course_dir / "submitted" / student / "ps1"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "ps1.ipynb")
    (folder / "timestamp.txt").write_text("2026-10-01 12:00:00.000000 UTC")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, cohorts.Cohort]:
    settings = Settings(home=tmp_path_factory.mktemp("feedback") / "home")
    cohort = cohorts.create_cohort(settings, "fb", "six-month", date(2026, 9, 7))
    people = {
        "ana.k": ("Ana Korhonen", "return a + b"),
        "bo.l": ("Bo Lindqvist", "return a - b"),
        "cy.m": ("Cy Mwangi", None),
        "di.n": ("Di Nieminen", "return a + b"),
    }
    for tid, (name, _) in people.items():
        cohorts.add_trainee(settings, cohort, tid, name, f"{tid}@example.org")
    (cohort.course_dir / "source" / "ps1").mkdir(parents=True)
    nbformat.write(_source_notebook(), cohort.course_dir / "source" / "ps1" / "ps1.ipynb")
    api = cohort.course.nbgrader_api()
    assert api.generate_assignment("ps1")["success"]
    for tid, (_, body) in people.items():
        if body:
            _submit(cohort, tid, body)
    for tid in ("ana.k", "bo.l"):  # di.n submitted but is not graded yet
        result = api.autograde("ps1", tid)
        assert result["success"], result.get("error")
    return settings, cohort


def test_feedback_hides_hidden_tests_and_names_who_has_none(graded: tuple[Settings, cohorts.Cohort]) -> None:
    settings, cohort = graded
    autograded = (cohort.course_dir / "autograded" / "bo.l" / "ps1" / "ps1.ipynb").read_text()
    assert "SECRET-HIDDEN-CHECK" in autograded  # nbgrader keeps hidden tests in what it grades...
    result = generate_feedback(settings, "fb", "ps1")
    assert set(result.delivered) == {"ana.k", "bo.l"}
    assert result.missing == {"cy.m": "not submitted", "di.n": "submitted, not graded yet"}
    for tid in ("ana.k", "bo.l"):
        page = (cohort.course_dir / "feedback" / tid / "ps1" / "ps1.html").read_text()
        assert "SECRET-HIDDEN-CHECK" not in page  # ...but the trainee's feedback never shows them
        assert "add(20, 22)" not in page
    assert "AssertionError" in (cohort.course_dir / "feedback" / "bo.l" / "ps1" / "ps1.html").read_text()


def test_forget_leaves_no_trace_in_any_store(
    graded: tuple[Settings, cohorts.Cohort],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, cohort = graded
    cohort.activity_file.write_text(
        json.dumps({"bo.l": "2026-10-01T10:00:00Z", "ana.k": "2026-10-02T10:00:00Z"})
    )
    report_page = cohort.reports_dir / "progress-2026-10-02.html"
    report_page.parent.mkdir()
    report_page.write_text(render_progress(build_progress(settings, "fb", today=date(2026, 10, 2))))
    (cohort.course_dir / ".nbgrader.log").write_text(
        "[AutogradeApp] graded submitted/bo.l/ps1\n[x] unrelated\n"
    )
    exported = export_trainee(settings, "bo.l")
    assert exported["programme"]["record"]["email"] == "bo.l@example.org"
    assert exported["gradebooks"][0]["submissions"][0]["assignment"] == "ps1"

    monkeypatch.setenv("BOOTCAMP_HOME", str(settings.home))
    assert run_cli("trainee", "forget", "bo.l", "--yes") == 0
    printed = capsys.readouterr().out
    assert "gradebook student and 1 submission(s)" in printed and "activity.json entry" in printed

    needles = [b"bo.l", b"Bo Lindqvist", b"Lindqvist", b"bo.l@example.org"]
    stores = [p for p in settings.home.rglob("*") if p.is_file()]
    assert settings.programme_db in stores and cohort.gradebook_path in stores
    for path in stores:
        content = path.read_bytes()
        for needle in needles:
            assert needle not in content, f"{needle!r} is still in {path}"
    assert not (cohort.course_dir / "submitted" / "bo.l").exists()
    assert "ana.k" in json.loads(cohort.activity_file.read_text())  # the others are untouched
    with cohort.gradebook() as gb:
        assert [s.id for s in gb.students] == ["ana.k", "cy.m", "di.n"]
    with pytest.raises(SystemExit, match="nothing is held"):
        run_cli("trainee", "forget", "bo.l", "--yes")


def test_forget_needs_confirmation(
    graded: tuple[Settings, cohorts.Cohort], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = graded
    monkeypatch.setenv("BOOTCAMP_HOME", str(settings.home))
    with pytest.raises(SystemExit, match="--yes"):
        run_cli("trainee", "forget", "ana.k")
    assert export_trainee(settings, "ana.k")["programme"] is not None


def test_exported_data_is_json(
    graded: tuple[Settings, cohorts.Cohort], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = graded
    monkeypatch.setenv("BOOTCAMP_HOME", str(settings.home))
    out = tmp_path / "ana.json"
    run_cli("trainee", "export", "ana.k", "--output", str(out))
    data = json.loads(out.read_text())
    assert data["id"] == "ana.k" and data["files"]
