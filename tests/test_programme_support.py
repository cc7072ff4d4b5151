"""Shared fixtures for the programme tests: a temporary BOOTCAMP_HOME and a small synthetic curriculum.

(Kept in a test_programme_* module because tests/conftest.py belongs to the whole project.)
"""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from graders.settings import Settings

START = date(2026, 9, 7)  # a Monday
TODAY = date(2026, 10, 20)  # programme week 7

# Week plan: python-for-data weeks 1-2, numpy 3-4, pandas 5-6 (with career skills), capstone 7-8.
TRACK = """
name = "six-month"
title = "Six-month track (test)"
midterm_project = "capstone"
capstone = "capstone"
demo_day = "capstone"
[[weeks]]
week = 1
modules = ["python-for-data"]
[[weeks]]
week = 2
modules = ["python-for-data"]
[[weeks]]
week = 3
modules = ["numpy"]
[[weeks]]
week = 4
modules = ["numpy"]
[[weeks]]
week = 5
modules = ["pandas"]
[[weeks]]
week = 6
modules = ["pandas", "career-skills"]
[[weeks]]
week = 7
modules = ["capstone"]
[[weeks]]
week = 8
modules = ["capstone"]
"""

MODULES = {
    "python-for-data": ("technical", [("py-basics", "Python basics", 10)], []),
    "numpy": ("technical", [("numpy-arrays", "Arrays", 10)], []),
    "pandas": ("technical", [("pandas-cleaning", "Cleaning", 10), ("pandas-groupby", "Group by", 20)], []),
    "career-skills": ("career", [], [("cv", "CV reviewed"), ("mock-interview", "Mock interview")]),
    "capstone": ("project", [("capstone", "Capstone project", 50)], []),
}


def write_curriculum(root: Path) -> Path:
    (root / "tracks").mkdir(parents=True)
    (root / "tracks" / "six-month.toml").write_text(TRACK)
    for slug, (kind, assignments, deliverables) in MODULES.items():
        folder = root / "modules" / slug
        folder.mkdir(parents=True)
        text = (
            f'id = "{slug}"\ntitle = "{slug.replace("-", " ").title()}"\nversion = "1.0.0"\nkind = "{kind}"\n'
            'summary = "A module for the tests."\noutcomes = ["Pass the tests"]\nprerequisites = []\nhours = 30\n'
        )
        for name, title, points in assignments:
            text += (
                f'\n[[assignments]]\nname = "{name}"\ntitle = "{title}"\npoints = {points}\n'
                'time_budget_s = 120\nimage = "grader"\n'
            )
        for ident, title in deliverables:
            text += f'\n[[deliverables]]\nid = "{ident}"\ntitle = "{title}"\ndescription = "."\n'
        (folder / "module.toml").write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("BOOTCAMP_HOME", str(tmp_path / "home"))
    return Settings.load()


@pytest.fixture
def curriculum(tmp_path: Path) -> Path:
    return write_curriculum(tmp_path / "curriculum")


def set_grade(cohort, assignment: str, student: str, score: float, max_score: float, week: int) -> None:  # noqa: ANN001
    """Writes one graded submission through nbgrader's Gradebook API (one grade cell per assignment)."""
    import warnings
    from datetime import datetime, time, timedelta

    from sqlalchemy.exc import SAWarning

    with cohort.gradebook() as gb, warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", SAWarning
        )  # nbgrader's add_submission trips harmless autoflush warnings
        gb.update_or_create_assignment(assignment)
        gb.update_or_create_notebook(assignment, assignment)
        gb.update_or_create_grade_cell("tests", assignment, assignment, max_score=max_score, cell_type="code")
        stamp = datetime.combine(cohort.start + timedelta(weeks=week), time(9))
        gb.update_or_create_submission(assignment, student, timestamp=stamp)
        gb.find_grade("tests", assignment, assignment, student).auto_score = score
        gb.db.commit()


ARTIFACTS = Path(__file__).parent / "artifacts"


def run_cli(*argv: str) -> int:
    """Runs `bootcamp <argv>` through this part's parsers only (other parts may still be stubs)."""
    import argparse

    from graders.errors import UserError
    from graders.programme.cli import register

    parser = argparse.ArgumentParser(prog="bootcamp")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    try:
        return int(args.func(args) or 0)
    except UserError as error:
        raise SystemExit(f"bootcamp: error: {error}") from error


def screenshot(html: Path, name: str, width: int, height: int) -> Path:
    """Renders an HTML page in headless Chromium and keeps the PNG under tests/artifacts/."""
    from graders.reports.browser import find_chromium
    from graders.reports.browser import screenshot as shoot

    if find_chromium() is None:
        pytest.fail("Chromium is not installed: run scripts/test (it installs Debian's chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    png = ARTIFACTS / name
    shoot(html, png, width, height)
    return png
