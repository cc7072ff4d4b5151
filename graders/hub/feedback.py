"""Feedback for one graded submission: nbgrader's HTML report, without the hidden tests, in the trainee's folder.

Stock `nbgrader generate_feedback` renders the autograded notebook, where nbgrader has put the hidden tests
back (and their tracebacks show the test code). RedactHiddenTests runs between nbgrader's GetGrades and
the HTML export: a test cell with a hidden region keeps its points but loses that code and its outputs.
The HTML files then go to the trainee's own exchange folder, named as nbgrader's fetch_feedback expects
(md5 of the submission secret and notebook name), so the assignment list shows them.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor, Preprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import GetGrades
from nbgrader.utils import notebook_hash
from traitlets import Bool
from traitlets.config import Config

from graders.errors import UserError
from graders.hub.release import nbgrader_api

log = logging.getLogger(__name__)

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
        failed = any(output.get("output_type") == "error" for output in cell.get("outputs", []))
        text = (
            "Tests in this cell failed (details of hidden tests are not shown).\n"
            if failed
            else "Tests passed.\n"
        )
        cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=text)]
        return cell, resources


def feedback_config() -> Config:
    config = Config()
    config.GenerateFeedback.preprocessors = [GetGrades, RedactHiddenTests, CSSHTMLHeaderPreprocessor]
    return config


def generate(course_dir: Path, cohort: str, assignment: str, trainee: str, exchange_root: Path) -> list[Path]:
    """Runs nbgrader generate_feedback for one trainee; returns the HTML files under course/feedback/."""
    api = nbgrader_api(course_dir, cohort, exchange_root, extra=feedback_config())
    result = api.generate_feedback(assignment, trainee, force=True)
    if not result["success"]:
        raise UserError(f"generate_feedback {assignment} for {trainee} failed:\n{result.get('error', '')}")
    return sorted((course_dir / "feedback" / trainee / assignment).glob("*.html"))


def deliver(html_files: list[Path], secret: str, trainee_feedback_dir: Path) -> list[Path]:
    """Copies feedback into the trainee's exchange folder under the names fetch_feedback looks for."""
    delivered = []
    for path in html_files:
        target = trainee_feedback_dir / f"{notebook_hash(secret=secret, notebook_id=path.stem)}.html"
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(path, tmp)
        tmp.chmod(0o644)
        tmp.replace(target)  # atomic: the trainee never fetches half a file
        delivered.append(target)
    return delivered


def deliver_notice(
    notebook_ids: list[str], secret: str, trainee_feedback_dir: Path, title: str, message: str
) -> None:
    """A short HTML page in place of feedback (submission refused, grading failed), one per notebook."""
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
    for notebook_id in notebook_ids:
        target = trainee_feedback_dir / f"{notebook_hash(secret=secret, notebook_id=notebook_id)}.html"
        target.write_text(page, encoding="utf-8")
        target.chmod(0o644)
