"""Calibration of an assignment's assessment: does it tell strong work from default work?

Each assignment may ship `calibration/<assignment>.toml` in its module: solutions other than the
reference, each written as replacements for some of the reference's solution cells. `validate` grades
them in the sandbox beside the reference and the blank release and holds them to their bound:

- a **baseline** (the obvious default: estimator defaults, no feature work) earns at most half of the
  points of the test cells it targets, so full marks need the skill the module teaches;
- a **wrong** solution (the typical mistake: leakage, a banned loop, the wrong model family) earns
  nothing on the cells it targets.

A test cell graded on a model's quality (`partial_credit` in its source) must be the target of a
baseline, otherwise nobody has checked that the default falls short.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.curriculum.model import Assignment

KINDS = {"baseline": 0.5, "wrong": 0.0}  # kind -> the largest share of the targets' points it may earn
SOLUTION_KEYS = {"label", "kind", "why", "targets", "cells"}
LABEL = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
STUDENT_PREFIX = "calibration-"


@dataclass(frozen=True)
class CalibrationSolution:
    """One non-reference answer to an assignment and the bound its score must respect."""

    label: str
    kind: str
    why: str
    targets: tuple[str, ...]
    cells: dict[str, str] = field(hash=False)

    @property
    def student(self) -> str:
        return STUDENT_PREFIX + self.label

    @property
    def max_fraction(self) -> float:
        return KINDS[self.kind]


def calibration_file(assignment: Assignment) -> Path:
    """modules/<slug>/calibration/<assignment>.toml: beside the module, never inside the released folder."""
    return assignment.folder.parent.parent / "calibration" / f"{assignment.name}.toml"


def _cells_by_id(notebook: Any) -> dict[str, dict[str, Any]]:
    found = {}
    for cell in notebook.cells:
        grading = cell.get("metadata", {}).get("nbgrader") or {}
        if grading.get("grade_id"):
            found[grading["grade_id"]] = grading
    return found


def autograded_cells(notebook: Any) -> dict[str, float]:
    """grade_id -> points of every test cell (graded and not a solution cell, i.e. not marked by hand)."""
    points = {}
    for cell in notebook.cells:
        grading = cell.get("metadata", {}).get("nbgrader") or {}
        if grading.get("grade") and not grading.get("solution") and grading.get("grade_id"):
            points[grading["grade_id"]] = float(grading.get("points") or 0)
    return points


def quality_graded_cells(notebook: Any) -> list[str]:
    """Test cells scored on a model's quality, recognised by `partial_credit(` in their source."""
    found = []
    for cell in notebook.cells:
        grading = cell.get("metadata", {}).get("nbgrader") or {}
        if grading.get("grade") and not grading.get("solution") and "partial_credit(" in cell.source:
            found.append(grading["grade_id"])
    return found


def load_calibration(assignment: Assignment, notebook: Any) -> tuple[list[CalibrationSolution], list[str]]:
    """The assignment's calibration solutions, and every problem with the file (empty when all is well)."""
    path = calibration_file(assignment)
    problems: list[str] = []
    solutions: list[CalibrationSolution] = []
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            return [], [f"{path.name} is not valid TOML: {error}"]
        cells = _cells_by_id(notebook)
        tested = autograded_cells(notebook)
        entries = data.get("solutions", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            return [], [f"{path.name}: write each solution as a [[solutions]] table"]
        for number, entry in enumerate(entries):
            where = f"{path.name}: solutions[{number}]"
            unknown = sorted(set(entry) - SOLUTION_KEYS)
            if unknown:
                problems.append(f"{where} has unknown fields {unknown} (known: {sorted(SOLUTION_KEYS)})")
            label, kind = entry.get("label", ""), entry.get("kind", "")
            targets, replaced = entry.get("targets", []), entry.get("cells", {})
            if not isinstance(label, str) or not LABEL.match(label):
                problems.append(f"{where}: label must be lower-case words joined by hyphens, got {label!r}")
                continue
            if kind not in KINDS:
                problems.append(f"{where} ({label}): kind must be one of {sorted(KINDS)}, got {kind!r}")
                continue
            if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
                problems.append(
                    f"{where} ({label}): targets must list the grade_ids of the test cells it is judged on"
                )
                continue
            problems += [
                f"{where} ({label}): target {t!r} is not an autograded test cell of {assignment.name}"
                for t in targets
                if t not in tested
            ]
            if not isinstance(replaced, dict) or not replaced:
                problems.append(
                    f"{where} ({label}): [solutions.cells] must replace at least one solution cell"
                )
                continue
            for grade_id, source in replaced.items():
                if not cells.get(grade_id, {}).get("solution"):
                    problems.append(
                        f"{where} ({label}): {grade_id!r} is not a solution cell of {assignment.name}"
                    )
                elif not isinstance(source, str):
                    problems.append(f"{where} ({label}): the replacement of {grade_id!r} must be text")
            solutions.append(
                CalibrationSolution(label, kind, str(entry.get("why", "")), tuple(targets), dict(replaced))
            )
        labels = [s.label for s in solutions]
        problems += [
            f"{path.name}: label {label!r} is used twice"
            for label in sorted(set(labels))
            if labels.count(label) > 1
        ]
    covered = {t for s in solutions if s.kind == "baseline" for t in s.targets}
    for grade_id in quality_graded_cells(notebook):
        if grade_id not in covered:
            problems.append(
                f"test cell {grade_id!r} scores a model's quality but no baseline targets it"
                f' (add a [[solutions]] with kind = "baseline" to {path.relative_to(assignment.folder.parent.parent)})'
            )
    return solutions, problems


def calibrated_notebook(reference: Any, solution: CalibrationSolution) -> Any:
    """The reference notebook with the solution's cells put in place of the reference answers."""
    notebook = copy.deepcopy(reference)
    for cell in notebook.cells:
        grade_id = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        if grade_id in solution.cells:
            cell.source = solution.cells[grade_id].strip("\n") + "\n"
    return notebook


def judge(
    solution: CalibrationSolution, scores: dict[str, float], points: dict[str, float]
) -> tuple[bool, str]:
    """Whether the solution stayed within its bound on its targets, and the sentence that says so."""
    earned = sum(scores.get(t, 0.0) for t in solution.targets)
    possible = sum(points.get(t, 0.0) for t in solution.targets)
    bound = solution.max_fraction * possible
    summary = f"{solution.kind} '{solution.label}' earns {earned:g}/{possible:g} on its targets"
    if earned > bound + 1e-9:
        limit = "nothing" if solution.kind == "wrong" else f"at most {bound:g}"
        return (
            False,
            f"{summary}, but may earn {limit} ({solution.why or 'no reason given'}): the tests do not tell it apart",
        )
    return True, summary
