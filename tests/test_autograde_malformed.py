"""Malformed submissions get a clear per-student message and never stop the others from being graded."""

from __future__ import annotations

import json

import pytest

from graders import demo_course
from graders.autograde import AutogradeOptions, autograde

pytestmark = pytest.mark.docker
RIGHT = demo_course.ANSWERS["right"]


def _edited(course, change) -> bytes:
    notebook = demo_course._fill(demo_course.released_notebook(course), RIGHT)
    change(notebook["cells"])
    return json.dumps(notebook).encode()


def _cell(cells, grade_id):
    return next(c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, docker_client):
    course = demo_course.create_course(tmp_path_factory.mktemp("malformed") / "course")
    demo_course.submit(course, "ok", RIGHT)
    demo_course.submit(course, "invalid-json", raw=b'{"cells": [ {"cell_type": ')
    demo_course.submit(course, "empty-file", raw=b"")
    demo_course.submit(course, "binary-file", raw=bytes(range(256)) * 40)
    demo_course.submit(
        course, "future-nbformat", raw=json.dumps({"nbformat": 99, "nbformat_minor": 0, "cells": []}).encode()
    )

    def delete_test(cells):
        cells.remove(_cell(cells, "test_add"))

    def edit_test(cells):
        _cell(cells, "test_mean")["source"] = "assert True  # my own easier test"

    def unlock_test(cells):
        _cell(cells, "test_mean")["metadata"]["nbgrader"]["locked"] = False

    def retype_test(cells):
        cell = _cell(cells, "test_add")
        cell["cell_type"] = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)

    def break_metadata(cells):
        _cell(cells, "test_add")["metadata"]["nbgrader"]["grade_id"] = "test_mean"

    for name, change in {
        "deleted-test": delete_test,
        "edited-test": edit_test,
        "unlocked-test": unlock_test,
        "retyped-test": retype_test,
        "duplicate-grade-id": break_metadata,
    }.items():
        demo_course.submit(course, name, raw=_edited(course, change))
    demo_course.submit(
        course,
        "cells-not-a-list",
        raw=json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": 5}).encode(),
    )

    def list_grade_id(cells):
        _cell(cells, "test_add")["metadata"]["nbgrader"]["grade_id"] = ["test_add"]

    demo_course.submit(course, "list-grade-id", raw=_edited(course, list_grade_id))
    deep = (
        b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}"
    )
    demo_course.submit(course, "deep-json", raw=deep)
    report = autograde(course, "ps1", options=AutogradeOptions(jobs=2))
    return {r.student: r for r in report.results}


def test_valid_submission_is_graded_beside_broken_ones(graded):
    assert graded["ok"].status == "graded" and graded["ok"].score == 10.0


@pytest.mark.parametrize(
    ("student", "words"),
    [
        ("invalid-json", "not a valid notebook"),
        ("empty-file", "not a valid notebook"),
        ("binary-file", "not a"),
        ("future-nbformat", "version 99"),
        ("duplicate-grade-id", "metadata"),
    ],
)
def test_unreadable_notebooks_fail_with_a_clear_message(graded, student, words):
    result = graded[student]
    assert result.status == "failed", result
    assert words in result.reasons[0], result.reasons
    assert "resubmit" in result.reasons[0] or "fix the cells" in result.reasons[0]


def test_edited_test_cell_is_restored_run_and_reported(graded):
    result = graded["edited-test"]
    assert result.score == 10.0  # the original test ran, and the right answer passed it
    assert any("test_mean" in m and "edited" in m for m in result.messages), result.messages


def test_unlocked_and_retyped_cells_are_reported_and_still_graded(graded):
    assert graded["unlocked-test"].score == 10.0
    assert any("unlocked" in m for m in graded["unlocked-test"].messages)
    retyped = graded["retyped-test"]
    assert any("changed from code to markdown" in m for m in retyped.messages), retyped.messages
    assert retyped.status == "graded"


def test_deleted_test_cell_is_reported(graded):
    result = graded["deleted-test"]
    assert any("test_add" in m and "deleted" in m for m in result.messages), result.messages
    assert result.status == "graded"
    assert result.score <= 7.0  # the deleted test's points are not given away


@pytest.mark.parametrize("student", ["cells-not-a-list", "list-grade-id", "deep-json"])
def test_structurally_broken_notebooks_are_that_trainees_failure_not_ours(graded, student):
    result = graded[student]
    assert result.status == "failed", result  # not "error": grading itself worked
    assert result.reasons and result.reasons[0], result


def test_a_clean_regrade_clears_an_earlier_flag(tmp_path, docker_client):
    from nbgrader.api import Gradebook

    course = demo_course.create_course(tmp_path / "course")
    strip = "import ast\nclass S(ast.NodeTransformer):\n    def visit_Assert(self, node):\n        return ast.Pass()\nget_ipython().ast_transformers.append(S())\n"
    demo_course.submit(course, "sam", {**RIGHT, "add": strip + RIGHT["add"]})
    first = autograde(course, "ps1", options=AutogradeOptions(jobs=1))
    assert first.results[0].status == "flagged"
    import shutil

    shutil.rmtree(course / "submitted" / "sam")
    demo_course.submit(course, "sam", RIGHT)
    second = autograde(course, "ps1", options=AutogradeOptions(jobs=1, force=True))
    assert second.results[0].status == "graded" and second.results[0].score == 10.0
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert not gb.find_submission_notebook("problems", "ps1", "sam").flagged
