"""`bootcamp curriculum stats`: how much the course holds, per module and per week of each track.

Counting is mechanical, so that the numbers can be checked and compared between versions:
- lesson words are the words of a lesson notebook's markdown cells;
- a practice exercise is a lesson cell tagged `self-check` (the trainee's check of an exercise);
- graded cells are nbgrader grade cells (autograded tests and hand-graded written answers), with points.

"Material hours" estimate how long the material takes a full-time trainee who already programs. The
rates are deliberately plain, written here once, and shown by `--json`:
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from graders.curriculum.model import Catalogue, Module, Track

# hours of trainee work per unit of material (see the module docstring)
HOURS_PER_1000_LESSON_WORDS = 1.0  # reading and running the worked examples
HOURS_PER_PRACTICE_EXERCISE = 0.4
HOURS_PER_GRADED_CELL = 0.75  # a graded step: write, test, debug
EXTRA_HOURS_BY_KIND = {"exercises": 0.0, "applied": 3.0, "mini-project": 6.0, "project": 20.0}
HOURS_PER_DELIVERABLE = 3.0  # career and project work handed in and checked, unless it declares `hours`

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")


@dataclass
class ModuleStats:
    slug: str
    kind: str
    hours: float  # what module.toml allots
    lessons: int = 0
    words: int = 0
    exercises: int = 0
    assignments: int = 0
    graded_cells: int = 0
    points: float = 0.0
    deliverables: int = 0
    datasets: list[str] = field(default_factory=list)
    material_hours: float = 0.0


@dataclass
class WeekStats:
    week: int
    modules: list[str]
    hours: float = 0.0  # scheduled: each module's hours spread evenly over its weeks
    material_hours: float = 0.0  # the part of the scheduled hours that material fills
    lessons: float = 0.0
    words: float = 0.0
    exercises: float = 0.0
    assignments: float = 0.0
    graded_cells: float = 0.0
    points: float = 0.0


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _read(path: Path) -> Any | None:
    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # a broken notebook is validate's to report; here it simply counts nothing
        return None


def lesson_counts(path: Path) -> tuple[int, int]:
    """(markdown words, practice exercises) of one lesson notebook."""
    notebook = _read(path)
    if notebook is None:
        return 0, 0
    words = sum(_words(cell.source) for cell in notebook.cells if cell.cell_type == "markdown")
    exercises = sum("self-check" in cell.get("metadata", {}).get("tags", []) for cell in notebook.cells)
    return words, exercises


def graded_cells(path: Path) -> tuple[int, float]:
    """(grade cells, their points) of one nbgrader source notebook."""
    notebook = _read(path)
    if notebook is None:
        return 0, 0.0
    cells = [
        cell.metadata["nbgrader"]
        for cell in notebook.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade")
    ]
    return len(cells), sum(float(grading.get("points") or 0) for grading in cells)


def module_stats(module: Module) -> ModuleStats:
    stats = ModuleStats(module.slug, module.kind, float(module.hours))
    for lesson in sorted((module.path / "lessons").glob("*.ipynb")):
        words, exercises = lesson_counts(lesson)
        stats.lessons += 1
        stats.words += words
        stats.exercises += exercises
    material = (
        stats.words / 1000 * HOURS_PER_1000_LESSON_WORDS + stats.exercises * HOURS_PER_PRACTICE_EXERCISE
    )
    for assignment in module.assignments:
        cells, points = graded_cells(assignment.notebook)
        stats.assignments += 1
        stats.graded_cells += cells
        stats.points += points
        material += cells * HOURS_PER_GRADED_CELL + EXTRA_HOURS_BY_KIND.get(assignment.kind, 0.0)
    stats.deliverables = len(module.deliverables)
    material += sum(deliverable.hours or HOURS_PER_DELIVERABLE for deliverable in module.deliverables)
    stats.datasets = [dataset.name for dataset in module.datasets]
    stats.material_hours = round(material, 1)
    return stats


def week_stats(track: Track, modules: dict[str, ModuleStats]) -> list[WeekStats]:
    """Each module's hours and material shared over the weeks that list it, as the track plans them."""
    weeks = []
    for week in track.weeks:
        row = WeekStats(week.number, list(week.modules))
        for slug in week.modules:
            stats = modules.get(slug)
            if stats is None or stats.hours <= 0:
                continue
            share = track.hours_in_week(slug, week.number, stats.hours) / stats.hours
            row.hours += stats.hours * share
            row.material_hours += min(stats.material_hours, stats.hours) * share
            for name in ("lessons", "words", "exercises", "assignments", "graded_cells", "points"):
                setattr(row, name, getattr(row, name) + getattr(stats, name) * share)
        weeks.append(row)
    return weeks


def track_totals(weeks: list[WeekStats]) -> dict[str, float]:
    names = (
        "hours",
        "material_hours",
        "lessons",
        "words",
        "exercises",
        "assignments",
        "graded_cells",
        "points",
    )
    totals = {name: round(sum(getattr(week, name) for week in weeks), 1) for name in names}
    totals["weeks"] = len(weeks)
    return totals


def collect(catalogue: Catalogue, tracks: dict[str, Track]) -> dict[str, Any]:
    """Everything `stats` prints, as plain data (the --json output)."""
    modules = {slug: module_stats(module) for slug, module in sorted(catalogue.modules.items())}
    data: dict[str, Any] = {
        "rates": {
            "hours_per_1000_lesson_words": HOURS_PER_1000_LESSON_WORDS,
            "hours_per_practice_exercise": HOURS_PER_PRACTICE_EXERCISE,
            "hours_per_graded_cell": HOURS_PER_GRADED_CELL,
            "extra_hours_by_assignment_kind": EXTRA_HOURS_BY_KIND,
            "hours_per_deliverable": HOURS_PER_DELIVERABLE,
        },
        "modules": {slug: asdict(stats) for slug, stats in modules.items()},
        "tracks": {},
    }
    for name, track in tracks.items():
        weeks = week_stats(track, modules)
        slugs = set(track.slugs)
        datasets = sorted({d for slug in slugs if slug in modules for d in modules[slug].datasets})
        data["tracks"][name] = {
            "weeks": [
                {k: (round(v, 1) if isinstance(v, float) else v) for k, v in asdict(w).items()} for w in weeks
            ],
            "totals": track_totals(weeks) | {"datasets": len(datasets)},
        }
    return data


def plot_graded_work(data: dict[str, Any], path: Path) -> Path:
    """A bar chart of graded cells per week, one panel per track, saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tracks = data["tracks"]
    figure, axes = plt.subplots(len(tracks), 1, figsize=(11, 3.2 * max(1, len(tracks))), squeeze=False)
    for axis, (name, track) in zip(axes[:, 0], tracks.items(), strict=True):
        weeks = [w["week"] for w in track["weeks"]]
        axis.bar(weeks, [w["graded_cells"] for w in track["weeks"]], color="#3b6ea5", label="graded cells")
        axis.plot(
            weeks, [w["exercises"] for w in track["weeks"]], "o-", color="#e07b39", label="practice exercises"
        )
        axis.set_title(f"{name}: graded work per week")
        axis.set_xlabel("week")
        axis.set_xticks(weeks)
        axis.legend(loc="upper right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2)
