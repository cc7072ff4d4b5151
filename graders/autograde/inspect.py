"""Explains, per student, what a submission changed in the assignment's locked cells.

nbgrader quietly restores (or cannot restore) deleted, edited, unlocked or retyped test cells; an
instructor wants to know it happened. We compare each submitted notebook with the released one.
"""

from __future__ import annotations

import json
from pathlib import Path


def _by_grade_id(notebook: dict) -> dict[str, dict]:
    cells = {}
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        if isinstance(meta, dict) and meta.get("grade_id"):
            cells[meta["grade_id"]] = cell
    return cells


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def describe_changes(released: Path, submitted: Path, restores_missing: bool) -> list[str]:
    """Plain sentences about locked or test cells that differ from the release; [] when none do."""
    try:
        reference = _by_grade_id(json.loads(released.read_text()))
        theirs = _by_grade_id(json.loads(submitted.read_text()))
    except (OSError, ValueError, AttributeError):
        return []  # unreadable files are reported by the grading step itself
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
