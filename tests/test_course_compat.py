"""Any instructor's nbgrader course, as is: figures kept, the course's own packages, clear reasons when an
instructor cell fails. Each course here is graded by stock `nbgrader autograde` and by us, side by side.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.api import Gradebook

from graders import demo_course
from graders.autograde import AutogradeOptions, autograde
from graders.autograde.cli import exit_code
from graders.errors import UserError
from graders.programme.feedback import generate_course_feedback

pytestmark = pytest.mark.docker
NBGRADER = str(Path(sys.executable).parent / "nbgrader")
ASSIGNMENT = "hw1"


def make_course(root: Path, cells: list, extra_files: dict[str, str] | None = None) -> Path:
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "compat"\n')
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, source / "hw.ipynb")
    for name, text in (extra_files or {}).items():
        (root / name).write_text(text)
    demo_course.generate_assignment(root, ASSIGNMENT)
    return root


def submit(root: Path, student: str, answers: dict[str, str]) -> None:
    released = json.loads((root / "release" / ASSIGNMENT / "hw.ipynb").read_text())
    for cell in released["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / "hw.ipynb").write_text(json.dumps(released))


def grades_by_cell(root: Path, students: list[str]) -> dict[str, dict[str, float | None]]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {
            student: {g.name: g.score for g in gb.find_submission_notebook("hw", ASSIGNMENT, student).grades}
            for student in students
        }


def stock_copy(root: Path, tmp_path: Path) -> Path:
    stock = tmp_path / "stock"
    shutil.copytree(root, stock)
    subprocess.run([NBGRADER, "autograde", ASSIGNMENT, "--force"], cwd=stock, capture_output=True, check=True)
    return stock


def png_count(root: Path, student: str) -> int:
    notebook = json.loads((root / "autograded" / student / ASSIGNMENT / "hw.ipynb").read_text())
    return sum(
        "image/png" in o.get("data", {}) for cell in notebook["cells"] for o in cell.get("outputs", [])
    )


PLOT_COURSE = [
    new_markdown_cell("# Plots", metadata=demo_course.cell_meta("intro")),
    new_code_cell(
        "import matplotlib.pyplot as plt\nimport numpy as np\n", metadata=demo_course.cell_meta("setup")
    ),
    new_markdown_cell(
        "Make your three-axis plot here (graded by hand).", metadata=demo_course.cell_meta("ask")
    ),
    new_code_cell(
        "### BEGIN SOLUTION\nfig, ax = plt.subplots()\nax.plot(np.arange(5), np.arange(5) ** 2)\n"
        'ax.set_xlabel("time")\n### END SOLUTION\n',
        metadata=demo_course.cell_meta("plot", solution=True, grade=True, points=2),
    ),
    # stock nbgrader's inline backend closed the figure after the plot cell: this sees a new one
    new_code_cell(
        'assert plt.gca().get_xlabel() == "time"\n',
        metadata=demo_course.cell_meta("test_open_figure", grade=True, points=1),
    ),
    new_code_cell(
        "def area(w, h):\n    ### BEGIN SOLUTION\n    return w * h\n    ### END SOLUTION\n",
        metadata=demo_course.cell_meta("area", solution=True),
    ),
    new_code_cell(
        "assert area(2, 3) == 6\n", metadata=demo_course.cell_meta("test_area", grade=True, points=2)
    ),
]


def test_figures_are_kept_and_figure_state_matches_stock_nbgrader(tmp_path, docker_client):
    course = make_course(tmp_path / "course", PLOT_COURSE)
    plot = "fig, ax = plt.subplots()\nax.plot([1, 2, 3])\nax.set_xlabel('time')\n"
    submit(course, "plots", {"plot": plot, "area": "def area(w, h):\n    return w * h\n"})
    submit(course, "no-plot", {"area": "def area(w, h):\n    return w + h\n"})
    stock = stock_copy(course, tmp_path)
    autograde(course, ASSIGNMENT, options=AutogradeOptions(jobs=2))
    assert grades_by_cell(course, ["plots", "no-plot"]) == grades_by_cell(stock, ["plots", "no-plot"])
    assert grades_by_cell(course, ["plots"])["plots"]["test_open_figure"] == 0.0  # as stock: figure closed
    # the plot cell's figure, and the empty figure plt.gca() opened in the next cell, as in stock nbgrader
    assert png_count(course, "plots") == png_count(stock, "plots") == 2
    assert png_count(course, "no-plot") == png_count(stock, "no-plot")
    generate_course_feedback(course, ASSIGNMENT)
    page = (course / "feedback" / "plots" / ASSIGNMENT / "hw.html").read_text()
    assert "data:image/png;base64," in page  # the formgrader and feedback show the figure


SYMPY_COURSE = [
    new_markdown_cell("# Symbolic maths", metadata=demo_course.cell_meta("intro")),
    new_code_cell("import sympy as sp\nx = sp.Symbol('x')\n", metadata=demo_course.cell_meta("setup")),
    new_code_cell(
        "def slope(expr):\n    ### BEGIN SOLUTION\n    return sp.diff(expr, x)\n    ### END SOLUTION\n",
        metadata=demo_course.cell_meta("slope", solution=True),
    ),
    new_code_cell(
        "assert slope(x**2) == 2*x\n### BEGIN HIDDEN TESTS\nassert slope(sp.sin(x)) == sp.cos(x)\n### END HIDDEN TESTS\n",
        metadata=demo_course.cell_meta("test_slope", grade=True, points=6),
    ),
    new_code_cell(
        "assert sp.__version__.startswith('1.14')\n",
        metadata=demo_course.cell_meta("test_version", grade=True, points=4),
    ),
]


def test_a_course_brings_its_own_packages_through_requirements_txt(tmp_path, docker_client):
    course = make_course(
        tmp_path / "course", SYMPY_COURSE, {"requirements.txt": "# physics helpers\nsympy==1.14.0\n"}
    )
    submit(course, "right", {"slope": "def slope(expr):\n    return sp.diff(expr, x)\n"})
    submit(course, "wrong", {"slope": "def slope(expr):\n    return expr\n"})
    stock = stock_copy(course, tmp_path)
    first = autograde(course, ASSIGNMENT, options=AutogradeOptions(jobs=2))
    assert any("bootcamp-course-" in w and "sympy==1.14.0" in w for w in first.warnings), first.warnings
    assert grades_by_cell(course, ["right", "wrong"]) == grades_by_cell(stock, ["right", "wrong"])
    assert {r.student: r.score for r in first.results} == {"right": 10.0, "wrong": 4.0}
    second = autograde(course, ASSIGNMENT, options=AutogradeOptions(jobs=2))
    assert any("(reused)" in w for w in second.warnings), second.warnings
    built = subprocess.run(
        [str(Path(sys.executable).parent / "bootcamp"), "image", "build", "--course-dir", str(course)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "already built, reused" in built.stdout
    # the same list for the trainees' servers: an image derived from the trainee image
    trainee = subprocess.run(
        [str(Path(sys.executable).parent / "bootcamp"), "image", "build", "--course-dir", str(course),
         "--base", "bootcamp-trainee:latest"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    tag = trainee.stdout.split(":latest", 1)[0] + ":latest"
    probe = "import sympy, getpass; print(sympy.__version__, getpass.getuser())"
    ran = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--entrypoint", "python3", tag, "-c", probe],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert ran.stdout.split() == ["1.14.0", "jovyan"]


def test_a_package_that_cannot_be_installed_stops_before_any_grading(tmp_path, docker_client):
    course = make_course(
        tmp_path / "course",
        SYMPY_COURSE,
        {"requirements.txt": "sympy==1.14.0\nno-such-package-bootcamp==9.9\n"},
    )
    submit(course, "right", {"slope": "def slope(expr):\n    return sp.diff(expr, x)\n"})
    with pytest.raises(UserError, match="cannot be installed"):
        autograde(course, ASSIGNMENT, options=AutogradeOptions(jobs=1))
    assert not (course / "autograded").exists()


def test_an_instructor_cell_failing_for_everyone_is_named_once_with_the_fix(tmp_path, docker_client):
    cells = [
        new_code_cell(
            "import plotnine_is_not_installed_here as p9\n", metadata=demo_course.cell_meta("setup")
        ),
        new_code_cell(
            "def double(v):\n    ### BEGIN SOLUTION\n    return 2 * v\n    ### END SOLUTION\n",
            metadata=demo_course.cell_meta("double", solution=True),
        ),
        new_code_cell(
            "assert double(2) == 4\n", metadata=demo_course.cell_meta("test_double", grade=True, points=10)
        ),
    ]
    course = make_course(tmp_path / "course", cells)
    submit(course, "right", {"double": "def double(v):\n    return 2 * v\n"})
    submit(course, "wrong", {"double": "def double(v):\n    return v\n"})
    report = autograde(course, ASSIGNMENT, options=AutogradeOptions(jobs=2))
    assert [w for w in report.warnings if "every graded submission" in w] == [
        next(w for w in report.warnings if "every graded submission" in w)
    ]
    warning = next(w for w in report.warnings if "every graded submission" in w)
    assert (
        "plotnine_is_not_installed_here" in warning and "requirements.txt" in warning and "'setup'" in warning
    )
    for result in report.results:
        assert result.status == "graded"
        assert any("plotnine_is_not_installed_here" in reason for reason in result.reasons)
    assert exit_code(report) == 0  # the exit code keeps its meaning: grading itself worked
