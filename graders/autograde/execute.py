"""nbgrader preprocessors that move execution into the sandbox and flag tampered submissions.

They replace nbgrader's `Execute` step inside nbgrader's own Autograde converter, so sanitizing, scoring,
late penalties and the gradebook stay nbgrader's. The sandbox and the per-student outcome reach them
through a thread-local context set by graders.autograde.pipeline.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from graders import integrity, verdicts
from graders.sandbox import Job, SandboxError, SandboxUnavailable

_context = threading.local()


@dataclass
class NotebookOutcome:
    """What happened to one notebook, beyond its scores: events and reasons shown to instructors."""

    notebook: str
    flagged: bool = False
    reasons: list[str] = field(default_factory=list)
    setup_failures: list[str] = field(default_factory=list)  # instructor cells that failed (see below)
    events: list[str] = field(default_factory=list)
    executed: bool = False
    seconds: float = 0.0


@dataclass
class GradingContext:
    sandbox: Any  # runs a Job; the pipeline's wrapper lets go of the host lock meanwhile
    probe: bool = True
    outcomes: dict[str, NotebookOutcome] = field(default_factory=dict)
    # set when grading itself failed (no sandbox, run cancelled): the submission is retried, not scored
    infrastructure_error: str | None = None


def set_context(context: GradingContext | None) -> None:
    _context.value = context


def current_context() -> GradingContext:
    context = getattr(_context, "value", None)
    if context is None:
        raise RuntimeError("SandboxExecute runs only inside graders.autograde (no grading context)")
    return context


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _output_node(output: dict[str, Any]) -> NotebookNode:
    node = NotebookNode(output)
    if node.output_type in ("display_data", "execute_result"):
        node.data = NotebookNode(node.get("data", {}))
        node.metadata = NotebookNode(node.get("metadata", {}))
    return node


# Errors in a cell the trainee cannot edit that point at the course's set-up, not at the trainee's work.
SETUP_ERRORS = ("ModuleNotFoundError", "ImportError", "FileNotFoundError")


def setup_failure(cell: NotebookNode, output: NotebookNode) -> str:
    """One sentence for an instructor: which locked cell failed, with what, and what to do about it."""
    grade_id = (cell.metadata.get("nbgrader") or {}).get("grade_id", "?")
    error = f"{output.ename}: {str(output.get('evalue', ''))[:200]}"
    if output.ename == "FileNotFoundError":
        fix = "put the file beside the notebook in source/ and release the assignment again"
    else:
        fix = (
            "the grading image lacks this package: list it in the course's requirements.txt beside "
            "nbgrader_config.py (see the README, 'Course packages')"
        )
    return f"instructor cell {grade_id!r} failed with {error}; {fix}"


def _setup_failures(code_cells: list[tuple[int, NotebookNode]]) -> list[str]:
    found = []
    for _, cell in code_cells:
        if not (utils.is_locked(cell) or (utils.is_grade(cell) and not utils.is_solution(cell))):
            continue
        for output in cell.outputs:
            if output.output_type == "error" and output.get("ename") in SETUP_ERRORS:
                found.append(setup_failure(cell, output))
                break
    return found


def _invalid_partial_credit(code_cells: list[tuple[int, NotebookNode]], test_ids: list[str]) -> list[str]:
    """Displayed partial credit that no honest check makes: not a number, not finite, negative or over
    the cell's points. nbgrader would give such a value FULL points (or crash), so the cell scores 0
    here and the submission is held for review."""
    reasons = []
    for index, cell in code_cells:
        if f"c{index}" not in test_ids or "partial_credit(" not in cell.source:
            continue
        for output in cell.outputs:
            if output.output_type == "error":
                break
            if output.output_type != "execute_result":
                continue
            text = output.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            points = float(cell.metadata.get("nbgrader", {}).get("points") or 0)
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not (math.isfinite(value) and 0 <= value <= points):
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "?")
                reasons.append(
                    f"cell {grade_id!r} displayed {text[:40]!r} as its partial credit (0..{points:g})"
                )
                cell.outputs = [_error("IntegrityError", "invalid partial credit: held for review")]
            break
    return reasons


_EVENT_TEXT = {
    "cell_timeout": "a cell ran past its time limit",
    "notebook_timeout": "the notebook ran past its time limit",
    "output_limit": "a cell printed more output than allowed",
    "kernel_died": "the kernel died",
    "memory_limit": "a cell ran out of memory (the sandbox's memory limit)",
    "kernel_killed": "the kernel ignored an interrupt and was stopped",
}


class SandboxExecute(NbGraderPreprocessor):
    """Executes the sanitized notebook in a fresh sandbox, with canaries mixed into its test cells."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        context = current_context()
        notebook_id = resources["nbgrader"]["notebook"]
        outcome = context.outcomes.setdefault(notebook_id, NotebookOutcome(notebook=notebook_id))
        outcome.executed = True

        code_cells = [(index, cell) for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
        test_ids = [
            f"c{index}" for index, cell in code_cells if utils.is_grade(cell) and not utils.is_solution(cell)
        ]
        cells, checks = [], []
        for index, cell in code_cells:
            source = cell.source
            if f"c{index}" in test_ids:
                # checks with literal expected values are judged by the runner, outside the kernel
                source, moved = verdicts.extract_checks(f"c{index}", source)
                checks.extend(check.for_runner() for check in moved)
            cells.append({"id": f"c{index}", "source": source})
        plan = integrity.plan_canaries(cells, test_ids, rng=random.SystemRandom())
        job_dir = Path(resources["metadata"]["path"])

        result: dict[str, Any] | None = None
        failure = ""
        try:
            job = Job(cells=plan.cells, files=Job.collect_files(job_dir), probe=context.probe, checks=checks)
            result = context.sandbox.run(job)
        except SandboxUnavailable as error:
            context.infrastructure_error = f"no sandbox could be started: {error}"
            raise  # grading itself failed: nbgrader discards this submission's partial output
        except SandboxError as error:
            failure = str(error)

        if result is None:
            outcome.reasons.append(f"not graded: {failure}")
            for _, cell in code_cells:
                cell.outputs = [_error("SandboxError", f"this notebook could not be graded: {failure}")]
                cell.execution_count = None
            return nb, resources

        outcome.seconds = float(result.get("seconds", 0.0))
        by_id = {cell["id"]: cell for cell in result["cells"]}
        count = 0
        for index, cell in code_cells:
            executed = by_id[f"c{index}"]
            cell.outputs = [_output_node(o) for o in executed.get("outputs", [])]
            if executed["status"] == "not_run":
                cell.outputs.append(
                    _error("NotRunError", f"this cell did not run: {executed.get('reason', '')}")
                )
                cell.execution_count = None
            else:
                count += 1
                cell.execution_count = count
                for output in cell.outputs:
                    if output.output_type == "execute_result":
                        output.execution_count = count
        for event in result.get("events", []):
            text = _EVENT_TEXT.get(event.get("kind"), str(event.get("kind")))
            if event.get("reason"):
                text = f"{text}: {event['reason']}"
            if text not in outcome.events:
                outcome.events.append(text)

        bad_credit = _invalid_partial_credit(code_cells, test_ids)
        outcome.setup_failures = _setup_failures(code_cells)
        outcome.reasons.extend(outcome.setup_failures)
        tampering = integrity.judge(plan, result) + bad_credit
        if tampering:
            outcome.flagged = True
            outcome.reasons.extend(tampering)
            withheld = "autograded points withheld for manual review: " + "; ".join(tampering)
            for index, cell in code_cells:
                if f"c{index}" in test_ids:
                    # first, so nbgrader scores 0 before it meets any partial-credit value
                    cell.outputs.insert(0, _error("IntegrityError", withheld))
        return nb, resources


class FlagForReview(NbGraderPreprocessor):
    """Marks tampered notebooks as flagged in the gradebook, where the formgrader shows them, and
    unflags a notebook whose regrade found nothing."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        context = current_context()
        info = resources["nbgrader"]
        outcome = context.outcomes.get(info["notebook"])
        if outcome is not None and outcome.executed:
            # a clean regrade clears an earlier flag: the flag says what this grading found
            with Gradebook(info["db_url"]) as gb:
                notebook = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
                if notebook.flagged != outcome.flagged:
                    notebook.flagged = outcome.flagged
                    gb.db.commit()
        return nb, resources
