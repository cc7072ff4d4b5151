"""Feedback without hidden tests: one nbconvert step shared by every path that makes trainee feedback.

Stock `nbgrader generate_feedback` renders the autograded notebook, where nbgrader has put the hidden
tests back, and their tracebacks and messages can quote expected values. RedactHiddenTests removes the
hidden regions from test cells and replaces those cells' outputs by a pass/fail line (the error's type
only); the cell keeps its points. Used by `bootcamp feedback`, the hub's grade-on-submit and the demo.
"""

from __future__ import annotations

import re

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor, Preprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import GetGrades
from traitlets import Bool

HIDDEN_REGION = re.compile(
    r"^[ \t]*#+[ \t]*BEGIN (ALWAYS )?HIDDEN TESTS.*?^[ \t]*#+[ \t]*END (ALWAYS )?HIDDEN TESTS[^\n]*\n?",
    re.M | re.S,
)
HIDDEN_NOTE = "# (hidden tests are not shown)\n"


class RedactHiddenTests(Preprocessor):
    """Removes hidden test code and the outputs it produced from test cells; keeps the points."""

    # nbconvert preprocessors are off unless enabled; this one must never be skipped.
    enabled = Bool(True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if cell.cell_type != "code" or "HIDDEN TESTS" not in cell.source:
            return cell, resources
        cell.source = HIDDEN_REGION.sub(HIDDEN_NOTE, cell.source)
        if "HIDDEN TESTS" in cell.source:  # an unterminated region: drop everything after it
            cell.source = (
                cell.source[: cell.source.index("HIDDEN TESTS")].rsplit("\n", 1)[0] + "\n" + HIDDEN_NOTE
            )
        errors = [output for output in cell.get("outputs", []) if output.get("output_type") == "error"]
        if errors:
            name = errors[0].get("ename") or "an error"
            text = f"Tests in this cell failed with {name} (details of hidden tests are not shown).\n"
        else:
            text = "Tests passed.\n"
        cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=text)]
        return cell, resources


# nbgrader's GenerateFeedback steps with the redaction between grading and the HTML export
FEEDBACK_PREPROCESSORS = [GetGrades, RedactHiddenTests, CSSHTMLHeaderPreprocessor]
