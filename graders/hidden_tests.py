"""Feedback without hidden tests: one nbconvert step shared by every path that makes trainee feedback.

Stock `nbgrader generate_feedback` renders the autograded notebook, where nbgrader has put the hidden
tests back, and their tracebacks and messages can quote expected values (nbgrader issue #917). Student
code that runs after a hidden test can also print it back from the kernel's history. RedactHiddenTests
removes all of that (see its docstring). Used by `bootcamp feedback`, the hub's grade-on-submit and the
demo; `only_html` then keeps instructor files out of the feedback folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor, Preprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import GetGrades
from traitlets import Bool

HIDDEN_REGION = re.compile(
    r"^[ \t]*#+[ \t]*BEGIN (ALWAYS )?HIDDEN TESTS.*?^[ \t]*#+[ \t]*END (ALWAYS )?HIDDEN TESTS[^\n]*\n?",
    re.M | re.S,
)
HIDDEN_NOTE = "# (hidden tests are not shown)\n"


HELD_FOR_REVIEW = "This cell's result is held for review by an instructor.\n"
AFTER_HIDDEN_NOTE = (
    "(Output not shown in feedback: this cell ran after the hidden tests had started, so its output could "
    "repeat them.)\n"
)


def _has_hidden_tests(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and "HIDDEN TESTS" in cell.source


def _is_test_cell(cell: NotebookNode) -> bool:
    grading = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(grading.get("grade")) and not grading.get("solution")


def _verdict(cell: NotebookNode) -> str:
    """The one line a trainee sees for a test cell: passed, partly passed, failed, or held for review."""
    outputs = cell.get("outputs", [])
    errors = [output for output in outputs if output.get("output_type") == "error"]
    if any(error.get("ename") == "IntegrityError" for error in errors):
        return HELD_FOR_REVIEW  # why is for instructors only: the reason would teach a cheater what tripped
    grading = cell.get("metadata", {}).get("nbgrader", {})
    score, points = grading.get("score"), grading.get("points")
    if errors:
        name = errors[0].get("ename") or "an error"
        return f"Tests failed with {name} (details of hidden tests are not shown).\n"
    if isinstance(score, int | float) and isinstance(points, int | float) and points > 0:
        if score <= 0:
            return f"Tests failed: 0 of {points:g} points.\n"
        if score < points:
            return f"Tests partly passed: {score:g} of {points:g} points.\n"
    return "Tests passed.\n"


def redact_cell(cell: NotebookNode) -> NotebookNode:
    """A test cell without its hidden regions, its outputs replaced by the verdict line."""
    if _has_hidden_tests(cell):
        cell.source = HIDDEN_REGION.sub(HIDDEN_NOTE, cell.source)
        if "HIDDEN TESTS" in cell.source:  # an unterminated region: drop everything after it
            cell.source = (
                cell.source[: cell.source.index("HIDDEN TESTS")].rsplit("\n", 1)[0] + "\n" + HIDDEN_NOTE
            )
    cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=_verdict(cell))]
    return cell


class RedactHiddenTests(Preprocessor):
    """Feedback a trainee may see: no hidden test source, no expected value, no integrity reason.

    - test cells (and any cell holding a hidden region) lose their hidden regions, and their outputs
      become one verdict line; the cell keeps its points;
    - every other code cell that ran after the first hidden test loses its outputs: student code there
      could print the hidden tests back (`In`, `_ih`, a `post_run_cell` hook, a traceback);
    - an integrity finding shows as "held for review", never its reason.
    """

    # nbconvert preprocessors are off unless enabled; this one must never be skipped.
    enabled = Bool(True)

    def preprocess(self, nb: NotebookNode, resources: dict):
        first_hidden = next((i for i, cell in enumerate(nb.cells) if _has_hidden_tests(cell)), len(nb.cells))
        for index, cell in enumerate(nb.cells):
            if _is_test_cell(cell) or _has_hidden_tests(cell):
                redact_cell(cell)
            elif cell.cell_type == "code" and index > first_hidden and cell.get("outputs"):
                cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=AFTER_HIDDEN_NOTE)]
        return nb, resources

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if _is_test_cell(cell) or _has_hidden_tests(cell):
            redact_cell(cell)
        return cell, resources


def only_html(feedback_dir: Path) -> list[Path]:
    """Removes everything but the HTML reports from a feedback folder and returns what it removed.

    nbgrader copies every file of the autograded folder into feedback/, which includes the data files
    the instructor placed beside the notebook in source/ (and anything a submission added)."""
    removed = []
    if not feedback_dir.is_dir():
        return removed
    for path in sorted(feedback_dir.rglob("*"), reverse=True):
        if path.is_symlink() or (path.is_file() and path.suffix != ".html"):
            path.unlink()
            removed.append(path)
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return removed


# nbgrader's GenerateFeedback steps with the redaction between grading and the HTML export
FEEDBACK_PREPROCESSORS = [GetGrades, RedactHiddenTests, CSSHTMLHeaderPreprocessor]
