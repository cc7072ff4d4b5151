"""`bootcamp curriculum validate`: every check a module must pass before a cohort may use it.

The checks run as a short, visible sequence: the files (schema, prerequisites, tracks, grade ids,
points, versions), then for each assignment nbgrader's own `generate_assignment`, a leak check of the
released notebook, and finally grading in the sandbox: the reference solution must score 100 % and the
blank released notebook at most 20 %, each within the assignment's time budget. The sandbox has no
network, so an assignment that needs the internet fails here. Calibration solutions (a default-model
baseline, a typical mistake) are graded beside them and held to their bounds (see calibration.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from graders.curriculum.calibration import (
    CalibrationSolution,
    autograded_cells,
    calibrated_notebook,
    judge,
    load_calibration,
)
from graders.curriculum.catalogue import load_tracks, module_problems
from graders.curriculum.model import Assignment, Catalogue, Problem
from graders.curriculum.tracks import check_track, unscheduled
from graders.curriculum.versioning import check_versions, is_cache, read_recorded, rewritten_records
from graders.errors import UserError

log = logging.getLogger(__name__)

REFERENCE = "reference"  # the student id under which the source notebook (with solutions) is graded
BLANK = "blank"  # the student id under which the untouched released notebook is graded
BLANK_MAX_FRACTION = 0.2
COURSE_ID = "curriculum-validate"
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


@dataclass
class CheckResult:
    """One line of the validation table."""

    check: str
    subject: str
    ok: bool
    reason: str = ""


@dataclass
class ValidateOptions:
    module: str | None = None  # validate one module (and the catalogue-wide checks it takes part in)
    sandbox: str | None = "docker"  # "docker" | "local" | None to skip grading
    jobs: int = 1  # submissions the grading engine runs at the same time


def _result(check: str, subject: str, problems: list[Any], ok_reason: str = "") -> CheckResult:
    if problems:
        return CheckResult(check, subject, False, "; ".join(str(p) for p in problems))
    return CheckResult(check, subject, True, ok_reason)


def _rows(
    catalogue: Catalogue, check: str, subject: str, problems: list[Problem], ok_reason: str = ""
) -> list[CheckResult]:
    """One failing row per problem (easier to read than a joined paragraph), or one passing row."""
    if not problems:
        return [CheckResult(check, subject, True, ok_reason)]
    rows = []
    for problem in problems:
        where = (
            problem.file.relative_to(catalogue.root)
            if problem.file.is_relative_to(catalogue.root)
            else problem.file
        )
        fix = f" ({problem.fix})" if problem.fix else ""
        rows.append(CheckResult(check, subject, False, f"{where}: {problem.message}{fix}"))
    return rows


# --- checks on the files ----------------------------------------------------------------------------


def check_schema(catalogue: Catalogue, slugs: list[str]) -> list[CheckResult]:
    results = [
        row for slug in slugs for row in _rows(catalogue, "schema", slug, module_problems(catalogue, slug))
    ]
    # Problems of folders that did not load as modules (no module.toml, TOML syntax errors).
    loaded = [catalogue.modules_dir / slug for slug in catalogue.modules]
    for problem in catalogue.problems:
        if not any(problem.file.is_relative_to(folder) for folder in loaded):
            results += _rows(catalogue, "schema", problem.file.parent.name, [problem])
    return results


def find_cycles(catalogue: Catalogue) -> list[list[str]]:
    """Each prerequisite cycle once, as the path that closes it (a -> b -> a)."""
    cycles: list[list[str]] = []
    state: dict[str, str] = {}  # "visiting" while on the current path, "done" after
    path: list[str] = []

    def visit(slug: str) -> None:
        state[slug] = "visiting"
        path.append(slug)
        for prerequisite in catalogue.modules[slug].prerequisites:
            if prerequisite not in catalogue.modules:
                continue
            if state.get(prerequisite) == "visiting":
                cycles.append(path[path.index(prerequisite) :] + [prerequisite])
            elif prerequisite not in state:
                visit(prerequisite)
        path.pop()
        state[slug] = "done"

    for slug in sorted(catalogue.modules):
        if slug not in state:
            visit(slug)
    return cycles


def check_prerequisites(catalogue: Catalogue, slugs: list[str]) -> list[CheckResult]:
    results = []
    for slug in slugs:
        missing = [p for p in catalogue.modules[slug].prerequisites if p not in catalogue.modules]
        results.append(
            _result(
                "prerequisites",
                slug,
                [
                    f"needs {p!r}, which is not in the catalogue (fix the slug or add the module)"
                    for p in missing
                ],
            )
        )
    for cycle in find_cycles(catalogue):
        if any(slug in slugs for slug in cycle):
            results.append(
                CheckResult(
                    "prerequisite cycle", cycle[0], False, " -> ".join(cycle) + " (remove one of these)"
                )
            )
    return results


def check_tracks(catalogue: Catalogue) -> list[CheckResult]:
    problems: list[Problem] = []
    tracks = load_tracks(catalogue, problems)
    results = [row for p in problems for row in _rows(catalogue, "track file", p.file.stem, [p])]
    if not tracks and not problems:
        results.append(
            CheckResult("tracks", str(catalogue.tracks_dir), False, "no track files (add tracks/*.toml)")
        )
    for name, track in tracks.items():
        results += _rows(catalogue, "track", name, check_track(track, catalogue), f"{len(track.weeks)} weeks")
    for slug in unscheduled(catalogue, list(tracks.values())):
        results.append(CheckResult("track coverage", slug, False, "no track schedules this module"))
    return results


def grading_cells(notebook: Any) -> Iterator[tuple[int, dict[str, Any], Any]]:
    """(cell number, nbgrader metadata, cell) for every cell that carries nbgrader metadata."""
    for number, cell in enumerate(notebook.cells, start=1):
        grading = cell.get("metadata", {}).get("nbgrader")
        if grading:
            yield number, grading, cell


def _read_notebook(path: Path) -> Any:
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises several types for broken JSON and schema errors
        raise UserError(f"{path} is not a readable notebook: {error}") from None


def check_grade_ids_and_points(catalogue: Catalogue, slugs: list[str]) -> list[CheckResult]:
    """grade_ids unique across the whole catalogue; grade-cell points add up to module.toml's points."""
    owners: dict[str, list[str]] = {}
    names: dict[str, list[str]] = {}
    notebooks: dict[str, Any] = {}
    for module in catalogue.modules.values():
        for assignment in module.assignments:
            names.setdefault(assignment.name, []).append(module.slug)
            if not assignment.notebook.is_file():
                continue  # the schema check reports it
            try:
                notebooks[assignment.name] = notebook = _read_notebook(assignment.notebook)
            except UserError:
                continue
            for _, grading, _ in grading_cells(notebook):
                grade_id = grading.get("grade_id")
                if grade_id:
                    owners.setdefault(grade_id, []).append(assignment.name)
    results = []
    for slug in slugs:
        for assignment in catalogue.modules[slug].assignments:
            notebook = notebooks.get(assignment.name)
            if notebook is None:
                if assignment.notebook.is_file():
                    try:
                        _read_notebook(assignment.notebook)
                    except UserError as error:
                        results.append(CheckResult("notebook", assignment.name, False, str(error)))
                continue
            ids = [g.get("grade_id") for _, g, _ in grading_cells(notebook) if g.get("grade_id")]
            clashes = sorted(
                {
                    f"{gid!r} also in {', '.join(sorted(set(owners[gid]) - {assignment.name}) or 'this notebook')}"
                    for gid in ids
                    if len(owners[gid]) > 1
                }
            )
            if len(names[assignment.name]) > 1:
                clashes.append(f"assignment name also used by {', '.join(names[assignment.name])}")
            results.append(_result("unique grade_ids", assignment.name, clashes, f"{len(ids)} ids"))
            total = sum(
                float(g.get("points") or 0)
                for _, g, _ in grading_cells(notebook)
                if g.get("grade") or g.get("task")
            )
            problems = []
            if abs(total - assignment.points) > 1e-9:
                problems.append(
                    f"grade cells add up to {total:g} points but module.toml says points = {assignment.points:g}"
                    " (make them equal)"
                )
            results.append(_result("points", assignment.name, problems, f"{total:g} points"))
    return results


def check_module_versions(catalogue: Catalogue, slugs: list[str]) -> list[CheckResult]:
    results = [
        CheckResult(
            "version", status.slug, status.ok, status.message + (f" ({status.fix})" if status.fix else "")
        )
        for status in check_versions(catalogue, slugs)
    ]
    for problem in rewritten_records(catalogue, read_recorded(catalogue)):
        results.append(CheckResult("version record", problem.file.name, False, str(problem)))
    return results


# --- nbgrader and the sandbox -----------------------------------------------------------------------


@functools.cache
def empty_gradebook() -> bytes:
    """An empty nbgrader gradebook, made once per process.

    Creating a gradebook runs alembic in a subprocess (seconds each time), so every throwaway course
    gets a copy of this one instead.
    """
    from nbgrader.api import Gradebook

    with tempfile.TemporaryDirectory(prefix="bootcamp-gradebook-") as folder:
        path = Path(folder) / "gradebook.db"
        with Gradebook(f"sqlite:///{path}", COURSE_ID):
            pass
        return path.read_bytes()


class CourseBuilder:
    """Builds throwaway nbgrader course directories, one per assignment, under a workspace folder,
    so that the gradings of different assignments cannot affect each other."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace

    def course_for(self, assignment: Assignment) -> Path:
        course = self.workspace / assignment.name
        source = course / "source" / assignment.name
        source.mkdir(parents=True)
        for path in sorted(assignment.folder.rglob("*")):
            relative = path.relative_to(assignment.folder)
            if path.is_file() and not is_cache(relative):
                (source / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, source / relative)
        (course / "nbgrader_config.py").write_text(
            f'c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = "{COURSE_ID}"\n', encoding="utf-8"
        )
        (course / "gradebook.db").write_bytes(empty_gradebook())
        return course


def generate_release(course: Path, assignment: str) -> Path:
    """Runs nbgrader's generate_assignment in-process; returns the release folder."""
    from graders.course import Course

    return Course.open(course).generate_assignment(assignment)


def hidden_regions(notebook: Any) -> list[tuple[int, str, list[str]]]:
    """(cell number, kind, lines) for every solution and hidden-test region of a source notebook.

    A solution cell without markers is a solution as a whole (nbgrader replaces all of it).
    """
    regions = []
    for number, grading, cell in grading_cells(notebook):
        lines = cell.source.splitlines()
        found = False
        for begin, end, kind in (
            ("BEGIN SOLUTION", "END SOLUTION", "solution"),
            ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "hidden test"),
        ):
            inside: list[str] | None = None
            for line in lines:
                if begin in line:
                    inside, found = [], True
                elif end in line and inside is not None:
                    regions.append((number, kind, inside))
                    inside = None
                elif inside is not None:
                    inside.append(line)
        if grading.get("solution") and not found:
            regions.append((number, "solution", lines))
    return regions


def _normalised(lines: list[str]) -> list[str]:
    return [line.strip() for line in lines if line.strip()]


def _contains_block(haystack: list[str], block: list[str]) -> bool:
    size = len(block)
    return any(haystack[i : i + size] == block for i in range(len(haystack) - size + 1))


def find_leaks(source: Path, release: Path) -> list[str]:
    """Solution or hidden-test text from the source notebook that is still in the released one."""
    released = _read_notebook(release)
    released_cells = [_normalised(cell.source.splitlines()) for cell in released.cells]
    leaks = []
    for number, kind, lines in hidden_regions(_read_notebook(source)):
        block = _normalised(lines)
        if block and any(_contains_block(cell, block) for cell in released_cells):
            leaks.append(f"{kind} of source cell {number} appears in the release: {block[0][:60]!r}")
    for number, cell in enumerate(released.cells, start=1):
        for marker in MARKERS:
            if marker in cell.source:
                leaks.append(
                    f"released cell {number} still contains '{marker}' (is the cell marked for nbgrader?)"
                )
    return leaks


def _submit(course: Path, assignment: Assignment, release: Path, student: str, notebook: Path | Any) -> None:
    """Places a submission the way nbgrader's exchange would: the released files, then the notebook
    (a path to copy, or a notebook object to write)."""
    files = {str(p.relative_to(release)): p.read_bytes() for p in sorted(release.rglob("*")) if p.is_file()}
    content = notebook.read_bytes() if isinstance(notebook, Path) else nbformat.writes(notebook).encode()
    files[assignment.notebook.name] = content
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
    from graders.course import Course

    Course.open(course).place_submission(assignment.name, student, files, stamp)


def cell_scores(course: Path, assignment: Assignment, student: str) -> dict[str, float]:
    """grade_id -> the points the student's notebook earned in each graded cell, from the gradebook."""
    from nbgrader.api import MissingEntry

    from graders.course import Course

    with Course.open(course).gradebook() as gradebook:
        try:
            notebook = gradebook.find_submission_notebook(assignment.notebook.stem, assignment.name, student)
        except MissingEntry:
            return {}
        return {grade.name: float(grade.score or 0.0) for grade in notebook.grades}


def grade_in_sandbox(
    course: Path,
    assignment: Assignment,
    release: Path,
    options: ValidateOptions,
    solutions: list[CalibrationSolution],
) -> list[CheckResult]:
    """Grades the reference solution, the blank notebook and the calibration solutions; checks each
    one's score against its bound and the time budget."""
    from graders.autograde import AutogradeOptions, autograde

    reference = _read_notebook(assignment.notebook)
    results: list[CheckResult] = []
    _submit(course, assignment, release, REFERENCE, assignment.notebook)
    _submit(course, assignment, release, BLANK, release / assignment.notebook.name)
    for solution in solutions:
        _submit(course, assignment, release, solution.student, calibrated_notebook(reference, solution))
    students = [REFERENCE, BLANK] + [s.student for s in solutions]
    grading = AutogradeOptions(
        sandbox=options.sandbox or "docker", image=f"bootcamp-{assignment.image}:latest", jobs=options.jobs
    )
    report = autograde(course, assignment.name, students=students, options=grading)
    by_student = {result.student: result for result in report.results}
    points = autograded_cells(reference)
    auto_max = sum(points.values())
    by_label = {s.student: s for s in solutions}
    for student in students:
        result = by_student.get(student)
        check = f"sandbox {student}"
        if result is None:
            results.append(CheckResult(check, assignment.name, False, "no grading result came back"))
            continue
        scores = cell_scores(course, assignment, student)
        # manually graded cells (written answers) score nothing here: judge the autograded points only
        score = sum(scores.get(grade_id, 0.0) for grade_id in points)
        problems = []
        if result.status != "graded":
            problems.append(f"status {result.status}: {'; '.join(result.reasons) or 'no reason given'}")
        ok_reason = f"{score:g}/{auto_max:g} autograded points in {result.seconds:.1f} s"
        if student == REFERENCE and (auto_max <= 0 or score < auto_max - 1e-9):
            failed = [g for g, p in points.items() if scores.get(g, 0.0) < p - 1e-9]
            problems.append(
                f"the reference solution scores {score:g}/{auto_max:g}; it must score full points"
                f" (short in {', '.join(failed)})"
            )
        if student == BLANK and score > BLANK_MAX_FRACTION * auto_max:
            problems.append(
                f"the blank notebook scores {score:g}/{auto_max:g}, above {BLANK_MAX_FRACTION:.0%}:"
                " the tests pass without an answer"
            )
        if student in by_label:
            within, sentence = judge(by_label[student], scores, points)
            ok_reason = f"{sentence} in {result.seconds:.1f} s"
            if not within:
                problems.append(sentence)
        if result.seconds >= assignment.time_budget_s:
            problems.append(
                f"grading took {result.seconds:.1f} s, over time_budget_s = {assignment.time_budget_s:g}"
            )
        results.append(_result(check, assignment.name, problems, ok_reason))
    return results


def check_assignment(
    builder: CourseBuilder, assignment: Assignment, options: ValidateOptions
) -> list[CheckResult]:
    """nbgrader generation, the leak check, then (when both pass) grading in the sandbox."""
    course = builder.course_for(assignment)
    try:
        release = generate_release(course, assignment.name)
    except UserError as error:
        return [CheckResult("nbgrader generate", assignment.name, False, str(error))]
    results = [CheckResult("nbgrader generate", assignment.name, True, "release built")]
    leaks = find_leaks(assignment.notebook, release / assignment.notebook.name)
    results.append(_result("no leaks in release", assignment.name, leaks, "no solution or hidden test text"))
    solutions, problems = load_calibration(assignment, _read_notebook(assignment.notebook))
    results.append(_result("calibration file", assignment.name, problems, f"{len(solutions)} solutions"))
    if options.sandbox is None or leaks:
        return results
    try:
        results += grade_in_sandbox(course, assignment, release, options, [] if problems else solutions)
    except UserError as error:
        results.append(CheckResult("sandbox", assignment.name, False, str(error)))
    except Exception as error:  # a crash in grading must become a failed check, not a traceback
        log.debug("grading %s failed", assignment.name, exc_info=True)
        results.append(CheckResult("sandbox", assignment.name, False, f"{type(error).__name__}: {error}"))
    return results


def check_assignments(catalogue: Catalogue, slugs: list[str], options: ValidateOptions) -> list[CheckResult]:
    """One assignment after another; the grading engine runs each one's submissions in parallel."""
    assignments = [a for slug in slugs for a in catalogue.modules[slug].assignments if a.notebook.is_file()]
    if not assignments:
        return []
    results: list[CheckResult] = []
    with tempfile.TemporaryDirectory(prefix="bootcamp-validate-") as workspace:
        builder = CourseBuilder(Path(workspace))
        where = f"the {options.sandbox} sandbox" if options.sandbox else "nbgrader"
        for assignment in _progress(assignments, f"checking assignments in {where}"):
            results += check_assignment(builder, assignment, options)
    return results


def _progress(items: list[Any], description: str) -> Iterator[Any]:
    """Iterates with a progress bar on stderr when a person is watching."""
    if not sys.stderr.isatty():
        yield from items
        return
    from rich.progress import track

    yield from track(items, description=description, transient=True)


# --- the whole run ----------------------------------------------------------------------------------


def validate(catalogue: Catalogue, options: ValidateOptions) -> list[CheckResult]:
    """Every check, in order; the catalogue-wide ones only when no single module is chosen."""
    if options.module is not None:
        if options.module not in catalogue.modules:
            known = ", ".join(sorted(catalogue.modules)) or "none"
            raise UserError(f"no module {options.module!r} under {catalogue.modules_dir} (modules: {known})")
        slugs = [options.module]
    else:
        slugs = sorted(catalogue.modules)
    results = check_schema(catalogue, slugs)
    results += check_prerequisites(catalogue, slugs)
    if options.module is None:
        results += check_tracks(catalogue)
    results += check_grade_ids_and_points(catalogue, slugs)
    results += check_module_versions(catalogue, slugs)
    valid = [slug for slug in slugs if not module_problems(catalogue, slug)]
    results += check_assignments(catalogue, valid, options)
    return results
