"""Honest work scores exactly as stock `nbgrader autograde` scores it, and nbgrader's tools keep working."""

from __future__ import annotations

import csv
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from graders import demo_course
from graders.autograde import AutogradeOptions, autograde

pytestmark = pytest.mark.docker
NBGRADER = str(Path(sys.executable).parent / "nbgrader")
LATE_CONFIG = 'c.LateSubmissionPlugin.penalty_method = "zero"\nc.Execute.timeout = 3\n'


def _export(course: Path) -> dict[str, dict[str, str]]:
    out = course / "grades.csv"
    subprocess.run([NBGRADER, "export", "--to", str(out)], cwd=course, check=True, capture_output=True)
    with out.open() as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def _make_submissions(course: Path) -> None:
    with (course / "nbgrader_config.py").open("a") as handle:
        handle.write(LATE_CONFIG)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        gb.update_or_create_assignment("ps1", duedate="2026-06-01 12:00:00 UTC")
    demo_course.submit(course, "amina", demo_course.ANSWERS["right"], timestamp="2026-06-01 10:00:00 UTC")
    demo_course.submit(course, "bilal", demo_course.ANSWERS["partial"], timestamp="2026-06-01 11:00:00 UTC")
    demo_course.submit(course, "chen", demo_course.ANSWERS["wrong"])
    demo_course.submit(
        course, "dana", demo_course.ANSWERS["right"], timestamp="2026-06-03 09:00:00 UTC"
    )  # late
    loop = {**demo_course.ANSWERS["right"], "mean": "def mean(values):\n    while True:\n        pass\n"}
    demo_course.submit(course, "elif", loop)
    missing = demo_course.submit(course, "fatima", demo_course.ANSWERS["right"])
    missing.unlink()  # a submission folder without the notebook


def test_scores_equal_stock_nbgrader_including_partial_credit_late_penalty_and_timeouts(
    course, docker_client, tmp_path
):
    _make_submissions(course)
    stock = tmp_path / "stock"
    shutil.copytree(course, stock)

    subprocess.run([NBGRADER, "autograde", "ps1", "--force"], cwd=stock, capture_output=True)
    report = autograde(course, "ps1", options=AutogradeOptions(jobs=2))

    expected = _export(stock)
    actual = _export(course)
    # nbgrader records nothing for a submission without its notebook; neither do we, but we say why
    assert set(actual) == set(expected) == {"amina", "bilal", "chen", "dana", "elif"}
    for student, row in expected.items():
        for column in ("raw_score", "late_submission_penalty", "score", "max_score"):
            assert float(actual[student][column]) == pytest.approx(float(row[column])), (student, column)
    # the cases really exercise what they claim to
    assert float(expected["bilal"]["score"]) not in (0.0, 10.0)  # partial credit
    assert float(expected["dana"]["late_submission_penalty"]) == 10.0  # late: penalty 'zero'
    by_student = {r.student: r for r in report.results}
    assert any("time limit" in event for event in by_student["elif"].events)
    assert by_student["fatima"].status == "failed"
    assert "no notebook" in by_student["fatima"].reasons[0]
    assert all(r.status == "graded" for r in report.results if r.student != "fatima")


def test_autograded_notebooks_feed_nbgrader_feedback_and_export(course, docker_client):
    demo_course.submit(course, "amina", demo_course.ANSWERS["right"])
    autograde(course, "ps1")
    notebook = course / "autograded" / "amina" / "ps1" / "problems.ipynb"
    assert notebook.exists()
    result = subprocess.run(
        [NBGRADER, "generate_feedback", "ps1"], cwd=course, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    page = (course / "feedback" / "amina" / "ps1" / "problems.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert re.search(r"Score:\s*10\.0\s*/\s*10\.0", text), text[:2000]
    assert "def add(a, b):" in text  # the trainee's own answer is shown back
    assert _export(course)["amina"]["score"] == "10.0"


def test_rerun_without_force_skips_unchanged_submissions(course, docker_client):
    demo_course.submit(course, "amina", demo_course.ANSWERS["right"])
    autograde(course, "ps1")
    again = autograde(course, "ps1", options=AutogradeOptions(force=False))
    assert [r.status for r in again.results] == ["skipped"]
    assert again.results[0].score == 10.0
