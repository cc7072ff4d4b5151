"""Explains, per student, what a submission changed in the assignment's locked cells.

nbgrader quietly restores (or cannot restore) deleted, edited, unlocked or retyped test cells; an
instructor wants to know it happened. We compare each submitted notebook with the released one.
"""

from __future__ import annotations

import json
from pathlib import Path


def _by_grade_id(notebook: dict) -> dict[str, dict]:
    cells = {}
    found = notebook.get("cells", []) if isinstance(notebook, dict) else []
    for cell in found if isinstance(found, list) else []:
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str) and meta["grade_id"]:
            cells[meta["grade_id"]] = cell
    return cells


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def describe_changes(released: Path, submitted: Path, restores_missing: bool) -> list[str]:
    """Plain sentences about locked or test cells that differ from the release; [] when none do."""
    try:
        return _describe(released, submitted, restores_missing)
    except (OSError, ValueError, AttributeError, TypeError, RecursionError):
        # a malformed notebook ("cells": 5, a list as grade_id, JSON nested 100,000 deep) is reported by
        # the grading step itself; describing it must not turn the trainee's `failed` into our `error`
        return []


def _describe(released: Path, submitted: Path, restores_missing: bool) -> list[str]:
    reference = _by_grade_id(json.loads(released.read_text()))
    theirs = _by_grade_id(json.loads(submitted.read_text()))
    name = submitted.name
    notes = []
    for grade_id, cell in reference.items():
        meta = cell.get("metadata", {}).get("nbgrader", {})
        is_test = meta.get("grade") and not meta.get("solution")
        if grade_id not in theirs:
            if is_test:
                fate = "nbgrader put it back and ran it" if restores_missing else "it scores 0 until restored"
                notes.append(f"{name}: test cell {grade_id!r} was deleted ({fate})")
            continue
        mine = theirs[grade_id]
        if mine.get("cell_type") != cell.get("cell_type"):
            notes.append(
                f"{name}: cell {grade_id!r} was changed from {cell.get('cell_type')} to {mine.get('cell_type')} "
                "(nbgrader restores the original type)"
            )
        if meta.get("locked") and not mine.get("metadata", {}).get("nbgrader", {}).get("locked", False):
            notes.append(f"{name}: locked cell {grade_id!r} was unlocked (nbgrader re-locks it)")
        if meta.get("locked") and _source(mine) != _source(cell):
            notes.append(
                f"{name}: locked cell {grade_id!r} was edited (nbgrader restores the original and runs that)"
            )
    return notes
