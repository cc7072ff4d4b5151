"""Builds small, real nbgrader courses (stock nbgrader's own generate_assignment) for the demo,
the benchmark and the tests: one assignment with public and hidden tests, partial credit and a data file.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from graders.course import Course

ASSIGNMENT = "ps1"
NOTEBOOK = "problems"

SOLUTION_ADD = '''def add(a, b):
    """Return the sum of a and b."""
    ### BEGIN SOLUTION
    return a + b
    ### END SOLUTION
'''
TEST_ADD = """assert add(1, 2) == 3
assert add(-1, 1) == 0
### BEGIN HIDDEN TESTS
assert add(10, 5) == 15
assert add(0.5, 0.25) == 0.75
### END HIDDEN TESTS
"""
SOLUTION_MEAN = '''def mean(values):
    """Return the arithmetic mean of a non-empty list of numbers."""
    ### BEGIN SOLUTION
    return sum(values) / len(values)
    ### END SOLUTION
'''
TEST_MEAN = """assert mean([1, 2, 3]) == 2.0
### BEGIN HIDDEN TESTS
assert mean([2.5]) == 2.5
assert mean([-1, 1, 3, 5]) == 2.0
### END HIDDEN TESTS
"""
SOLUTION_PREDICT = '''import csv

def predict(x):
    """Predict the label (0 or 1) of a measurement x; the data file shows the pattern."""
    ### BEGIN SOLUTION
    return 1 if x >= 5 else 0
    ### END SOLUTION
'''
TEST_PREDICT = """# Partial credit: points in proportion to the accuracy on the held-out rows of data.csv.
with open("data.csv") as f:
    rows = [(float(x), int(y)) for x, y in csv.reader(f)]
### BEGIN HIDDEN TESTS
rows = rows + [(5.5, 1), (4.5, 0), (9.0, 1), (0.5, 0)]
### END HIDDEN TESTS
correct = sum(predict(x) == y for x, y in rows)
round(4 * correct / len(rows), 2)
"""
DATA_CSV = "".join(f"{x},{int(x >= 5)}\n" for x in [1, 2, 3, 4, 6, 7, 8, 9])

POINTS = {"test_add": 3, "test_mean": 3, "test_predict": 4}


def cell_meta(grade_id: str, *, solution: bool = False, grade: bool = False, points: float = 0) -> dict:
    """nbgrader's cell metadata for a source notebook (locked unless it is a solution cell)."""
    meta = {
        "grade": grade,
        "solution": solution,
        "locked": not solution,
        "grade_id": grade_id,
        "schema_version": 3,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> nbformat.NotebookNode:
    """The instructor's version: solutions and hidden tests included."""
    cells = [
        new_markdown_cell(
            "# Problem set 1\nImplement the functions below. Tests check your work.",
            metadata=cell_meta("intro"),
        ),
        new_code_cell(SOLUTION_ADD, metadata=cell_meta("add", solution=True)),
        new_code_cell(TEST_ADD, metadata=cell_meta("test_add", grade=True, points=POINTS["test_add"])),
        new_code_cell(SOLUTION_MEAN, metadata=cell_meta("mean", solution=True)),
        new_code_cell(TEST_MEAN, metadata=cell_meta("test_mean", grade=True, points=POINTS["test_mean"])),
        new_code_cell(SOLUTION_PREDICT, metadata=cell_meta("predict", solution=True)),
        new_code_cell(
            TEST_PREDICT, metadata=cell_meta("test_predict", grade=True, points=POINTS["test_predict"])
        ),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def create_course(root: Path, course_id: str = "demo-course", extra_config: str = "") -> Path:
    """A stock nbgrader course with the assignment generated into release/ and the gradebook."""
    root = Path(root)
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(
        f'c = get_config()\nc.CourseDirectory.course_id = "{course_id}"\n{extra_config}'
    )
    nbformat.write(source_notebook(), source / f"{NOTEBOOK}.ipynb")
    (source / "data.csv").write_text(DATA_CSV)
    generate_assignment(root, ASSIGNMENT)
    return root


def generate_assignment(root: Path, assignment: str) -> None:
    """Runs nbgrader's own generate_assignment (creates the gradebook rows and release/)."""
    Course.open(root).generate_assignment(assignment)


def released_notebook(root: Path) -> dict:
    return json.loads((Path(root) / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text())


def _fill(notebook: dict, answers: dict[str, str]) -> dict:
    for cell in notebook["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return notebook


ANSWERS = {
    "right": {
        "add": "def add(a, b):\n    return a + b\n",
        "mean": "def mean(values):\n    return sum(values) / len(values)\n",
        "predict": "import csv\n\ndef predict(x):\n    return 1 if x >= 5 else 0\n",
    },
    "partial": {
        "add": "def add(a, b):\n    return a + b\n",
        "mean": "def mean(values):\n    return sum(values) // len(values)\n",
        "predict": "import csv\n\ndef predict(x):\n    return 1 if x >= 7 else 0\n",
    },
    "wrong": {
        "add": "def add(a, b):\n    return a - b\n",
        "mean": "def mean(values):\n    return 0\n",
        "predict": "import csv\n\ndef predict(x):\n    return 2\n",
    },
}


def submit(
    root: Path,
    student: str,
    answers: dict[str, str] | None = None,
    *,
    raw: bytes | None = None,
    timestamp: str | None = None,
) -> Path:
    """Places a submission in submitted/<student>/ps1/ as nbgrader's collect step would."""
    notebook = raw if raw is not None else json.dumps(_fill(released_notebook(root), answers or {})).encode()
    files = {f"{NOTEBOOK}.ipynb": notebook, "data.csv": DATA_CSV.encode()}
    folder = Course.open(root).place_submission(ASSIGNMENT, student, files, timestamp)
    return folder / f"{NOTEBOOK}.ipynb"


def build_demo_submissions(root: Path) -> dict[str, str]:
    """A handful of trainee submissions: right, partly right, wrong and broken."""
    submit(root, "amina", ANSWERS["right"])
    submit(root, "bilal", ANSWERS["partial"])
    submit(root, "chen", ANSWERS["wrong"])
    submit(root, "dana", raw=b'{"cells": [ this is not json')
    submit(root, "elif", {**ANSWERS["right"], "mean": "def mean(values):\n    while True:\n        pass\n"})
    return {
        "amina": "right",
        "bilal": "partly right",
        "chen": "wrong",
        "dana": "broken file",
        "elif": "infinite loop",
    }
