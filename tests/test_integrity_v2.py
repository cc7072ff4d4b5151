"""Attacks written by someone who has read our source: each earns what an honest wrong notebook earns.

The course has the three kinds of test cell real courses use: plain `assert x == literal`, numpy
(`np.testing.assert_allclose`, `assert np.isclose(...)`) and graders.harness checks, plus a partial-credit
cell. Every attack notebook carries WRONG answers, so any point it earns is a gain. The attacks target
what integrity.py, verdicts.py and probe.py do, as their source shows; the whole course is graded three
times because canaries are random.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.api import Gradebook

from graders import demo_course
from graders.autograde import AutogradeOptions, autograde
from graders.programme.feedback import generate_course_feedback

pytestmark = pytest.mark.docker
ASSIGNMENT = "ps2"
NOTEBOOK = "checks"

SETUP = "import numpy as np\nfrom graders import harness\n"
CELLS = [
    # (solution id, reference solution, test id, test source, points)
    (
        "square",
        "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION\n",
        "test_square",
        "assert square(3) == 9\n### BEGIN HIDDEN TESTS\nassert square(-4) == 16\nassert square(12) == 144\n### END HIDDEN TESTS\n",
        2,
    ),
    (
        "scale",
        "def scale(v):\n    ### BEGIN SOLUTION\n    v = np.asarray(v, dtype=float)\n    return v / v.max()\n    ### END SOLUTION\n",
        "test_scale",
        "np.testing.assert_allclose(scale([1.0, 2.0]), [0.5, 1.0])\n### BEGIN HIDDEN TESTS\n"
        "np.testing.assert_allclose(scale([2.0, 8.0, 4.0]), [0.25, 1.0, 0.5])\n"
        "assert np.isclose(scale([3.0, 4.0])[0], 0.75)\n### END HIDDEN TESTS\n",
        2,
    ),
    (
        "ratio",
        "def ratio(a, b):\n    ### BEGIN SOLUTION\n    return a / b\n    ### END SOLUTION\n",
        "test_ratio",
        'harness.assert_close(ratio(1, 4), 0.25, name="ratio")\n### BEGIN HIDDEN TESTS\n'
        'harness.assert_close(ratio(7, 8), 0.875, name="ratio", hidden=True)\n'
        'harness.assert_equal(ratio(9, 3), 3.0, name="ratio", hidden=True)\n### END HIDDEN TESTS\n',
        2,
    ),
    (
        "label",
        "def label(i):\n    ### BEGIN SOLUTION\n    return ['setosa', 'versicolor', 'virginica'][i]\n    ### END SOLUTION\n",
        "test_label",
        'harness.assert_equal(label(0), "setosa", name="label")\n### BEGIN HIDDEN TESTS\n'
        'harness.assert_equal(label(2), "virginica", name="label", hidden=True)\n### END HIDDEN TESTS\n',
        2,
    ),
    (
        "guess",
        "def guess(x):\n    ### BEGIN SOLUTION\n    return 2 * x + 1\n    ### END SOLUTION\n",
        "test_guess",
        "### BEGIN HIDDEN TESTS\nxs = np.arange(20)\naccuracy = float(np.mean([guess(x) == 2 * x + 1 for x in xs]))\n"
        "### END HIDDEN TESTS\nharness.partial_credit(accuracy, 0.2, 0.9, 3)\n",
        3,
    ),
]
TOTAL = sum(points for *_, points in CELLS)
WRONG = {
    "square": "def square(x):\n    return x + x\n",
    "scale": "def scale(v):\n    return np.asarray(v, dtype=float)\n",
    "ratio": "def ratio(a, b):\n    return a * b\n",
    "label": "def label(i):\n    return 'rose'\n",
    "guess": "def guess(x):\n    return -1\n",
}
RIGHT = {
    "square": "def square(x):\n    return x * x\n",
    "scale": "def scale(v):\n    v = np.asarray(v, dtype=float)\n    return v / v.max()\n",
    "ratio": "def ratio(a, b):\n    return a / b\n",
    "label": "def label(i):\n    return ['setosa', 'versicolor', 'virginica'][i]\n",
    "guess": "def guess(x):\n    return 2 * x + 1\n",
}

# Each attack goes in front of the first answer cell; all answers stay wrong.
ATTACKS = {
    # wraps every check in try/except, except in cells with a literal that looks like a canary
    "canary-aware-transformer": r"""
import ast, re
def _looks_canary(source):
    return bool(re.search(r"\b\d{5,}\b|'[0-9a-f]{6,12}'", source))
class Forgive(ast.NodeTransformer):
    def visit_Module(self, node):
        body = []
        for statement in node.body:
            handler = ast.ExceptHandler(type=ast.Name("BaseException", ast.Load()), name=None, body=[ast.Pass()])
            body.append(ast.Try(body=[statement], handlers=[handler], orelse=[], finalbody=[]))
        node.body = body
        return ast.fix_missing_locations(node)
_ip = get_ipython()
_real = _ip.transform_cell
def _choose(cell):
    out = _real(cell)
    if not _looks_canary(out):
        _ip.ast_transformers[:] = [Forgive()] if "assert" in out or "harness" in out else []
    return out
_ip.transform_cell = _choose
""",
    # hides its transformer behind a list that claims to be empty, and drops every report call
    "blinded-probe": r"""
import ast
class DropReports(ast.NodeTransformer):
    def visit_Expr(self, node):
        return None if "report_value" in ast.unparse(node) else node
    def visit_Assert(self, node):
        return None
class Quiet(list):
    def __len__(self):
        return 0
_ip = get_ipython()
_ip.ast_transformers = Quiet([DropReports()])
import graders.sandbox.probe as _probe
_probe.fingerprint = lambda: "{}"
""",
    # reads each test cell before it runs and answers with the literal it finds there
    "peeking-hook": r"""
import re, sys, types
_answers = {}
def _peek(info):
    numbers = re.findall(r"==\s*(-?\d+(?:\.\d+)?)|,\s*(-?\d+\.\d+)\)", info.raw_cell or "")
    _answers["last"] = [float(a or b) for a, b in numbers]
_peek.__module__ = "IPython.core.events"
get_ipython().events.register("pre_run_cell", _peek)
""",
    # an int that equals anything, and an object that equals anything but canary-looking values
    "always-equal": r"""
import re
class Sneaky(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__
class Selective:
    def __eq__(self, other):
        return not re.fullmatch(r"[0-9a-f]{6,12}|\d{5,}(\.\d+)?", str(other))
    __hash__ = object.__hash__
""",
    # makes the harness's failure helper quiet for anything that does not look like a canary
    "quiet-harness": r"""
import re
from graders import harness
_real_fail = harness._fail
def _fail(message):
    if re.search(r"\d{5,}|[0-9a-f]{8}", message):
        _real_fail(message)
harness._fail = _fail
harness.partial_credit = lambda *a, **k: float("nan")
""",
    # replaces numpy's mean, which the partial-credit metric uses, with one that always says 1.0
    "patched-metric": "import numpy as np\nnp.mean = lambda *a, **k: 1.0\n",
    # prints the whole history, hidden tests included, after the tests ran
    "history-leak": "",
}
ANSWER_OVERRIDES = {
    "always-equal": {
        "square": "def square(x):\n    return Sneaky(0)\n",
        "label": "def label(i):\n    return Selective()\n",
        "ratio": "def ratio(a, b):\n    return Selective()\n",
    },
    "peeking-hook": {
        "square": "def square(x):\n    return int(_answers['last'][0]) if _answers.get('last') else 0\n"
    },
}
LEAK_CELL = (
    "import sys\nfor _source in In:\n    print(_source)\n"
    "get_ipython().events.register('post_run_cell', lambda result: print(result.info.raw_cell))\n"
)


def build_course(root: Path) -> Path:
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "v2"\nc.Execute.timeout = 10\n'
    )
    cells = [
        new_markdown_cell("# Checks", metadata=demo_course.cell_meta("intro")),
        new_code_cell(SETUP, metadata=demo_course.cell_meta("setup")),
    ]
    for solution_id, solution, test_id, test, points in CELLS:
        cells.append(new_code_cell(solution, metadata=demo_course.cell_meta(solution_id, solution=True)))
        cells.append(new_code_cell(test, metadata=demo_course.cell_meta(test_id, grade=True, points=points)))
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, source / f"{NOTEBOOK}.ipynb")
    demo_course.generate_assignment(root, ASSIGNMENT)
    return root


def submit(root: Path, student: str, answers: dict[str, str], extra_last_cell: str = "") -> None:
    released = json.loads((root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text())
    for cell in released["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    if extra_last_cell:
        released["cells"].append({"cell_type": "code", "metadata": {}, "source": extra_last_cell,
                                  "outputs": [], "execution_count": None})  # fmt: skip
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{NOTEBOOK}.ipynb").write_text(json.dumps(released))


def _answers_for(attack: str) -> dict[str, str]:
    answers = {**WRONG, **ANSWER_OVERRIDES.get(attack, {})}
    answers["square"] = textwrap.dedent(ATTACKS[attack]) + "\n" + answers["square"]
    return answers


@pytest.fixture(scope="module")
def runs(tmp_path_factory, docker_client):
    """The same submissions graded in three independent runs (fresh courses, fresh canaries)."""
    results = []
    for run in range(3):
        course = build_course(tmp_path_factory.mktemp(f"v2-run{run}") / "course")
        submit(course, "honest-right", RIGHT)
        submit(course, "honest-wrong", WRONG)
        for attack in ATTACKS:
            submit(course, attack, _answers_for(attack), LEAK_CELL if attack == "history-leak" else "")
        report = autograde(course, ASSIGNMENT, options=AutogradeOptions(jobs=2, notebook_timeout=120))
        results.append((course, {r.student: r for r in report.results}))
    return results


def test_honest_work_scores_as_written(runs):
    for _, results in runs:
        assert results["honest-right"].score == TOTAL, results["honest-right"]
        assert results["honest-right"].status == "graded"
        assert results["honest-wrong"].score == 0.0
        assert results["honest-wrong"].status == "graded"


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_earns_what_honest_wrong_work_earns(runs, attack):
    for _, results in runs:
        result = results[attack]
        assert result.score == results["honest-wrong"].score == 0.0, (attack, result)


@pytest.mark.parametrize(
    "attack", ["canary-aware-transformer", "blinded-probe", "peeking-hook", "patched-metric"]
)
def test_tampering_with_the_kernel_is_flagged(runs, attack):
    for course, results in runs:
        assert results[attack].flagged, (attack, results[attack])
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            assert gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, attack).flagged


def test_feedback_never_carries_hidden_tests_or_integrity_reasons(runs):
    course, results = runs[0]
    generate_course_feedback(course, ASSIGNMENT)
    secrets = [
        "square(-4)",
        "square(12)",
        "ratio(7, 8)",
        "label(2)",
        "[2.0, 8.0, 4.0]",
        "BEGIN HIDDEN",
        "xs = np.arange",
    ]
    for student in results:
        folder = course / "feedback" / student / ASSIGNMENT
        pages = list(folder.glob("*.html"))
        assert pages, student
        assert [p.name for p in folder.iterdir()] == [p.name for p in pages]  # only the HTML reports
        text = pages[0].read_text()
        for secret in secrets:
            assert secret not in text, (student, secret)
    flagged_page = next((course / "feedback" / "blinded-probe" / ASSIGNMENT).glob("*.html")).read_text()
    assert "held for review" in flagged_page
    # the reasons (for instructors) never reach the page; the attack's own source naturally does
    assert "grading machinery" not in flagged_page and "hidden check" not in flagged_page


def test_zero_point_partial_credit_says_tests_failed(runs):
    course, _ = runs[0]
    generate_course_feedback(course, ASSIGNMENT)
    page = next((course / "feedback" / "honest-wrong" / ASSIGNMENT).glob("*.html")).read_text()
    assert "Tests passed" not in page
    assert "Tests failed" in page
