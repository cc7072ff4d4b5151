"""Grades each torch assignment's reference solution several times, each in a fresh grading sandbox, and
checks that every graded cell scores the same every time and within the assignment's time budget.

Why: a model-quality score that moves between runs (an unseeded shuffle, a thread-count race) would give
two trainees with the same notebook different grades. Run by scripts/check_reproducible; exits 1 when a
cell's score differs between runs, the reference misses full marks, or a run exceeds its budget.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from graders.autograde import AutogradeOptions, autograde
from graders.curriculum.calibration import autograded_cells
from graders.curriculum.catalogue import load_catalogue
from graders.curriculum.validate import CourseBuilder, _read_notebook, _submit, cell_scores, generate_release


def check(assignment, runs: int, jobs: int, workspace: Path) -> list[str]:
    """Problems found for one assignment ([] when its reference is full marks, stable and in budget)."""
    course = CourseBuilder(workspace).course_for(assignment)
    release = generate_release(course, assignment.name)
    students = [f"run{number}" for number in range(1, runs + 1)]
    for student in students:
        _submit(course, assignment, release, student, assignment.notebook)
    options = AutogradeOptions(sandbox="docker", image=f"bootcamp-{assignment.image}:latest", jobs=jobs)
    report = autograde(course, assignment.name, students=students, options=options)
    points = autograded_cells(_read_notebook(assignment.notebook))
    problems, seen = [], []
    for result in sorted(report.results, key=lambda r: r.student):
        scores = {
            grade_id: cell_scores(course, assignment, result.student).get(grade_id, 0.0)
            for grade_id in points
        }
        seen.append(scores)
        total = sum(scores.values())
        print(
            f"  {assignment.name} {result.student}: {total:g}/{sum(points.values()):g} in {result.seconds:.1f} s"
        )
        if result.status != "graded":
            problems.append(f"{result.student}: status {result.status}: {'; '.join(result.reasons)}")
        if total < sum(points.values()) - 1e-9:
            problems.append(f"{result.student}: reference scores {total:g}, not full marks")
        if result.seconds >= assignment.time_budget_s:
            problems.append(
                f"{result.student}: {result.seconds:.1f} s, over time_budget_s {assignment.time_budget_s:g}"
            )
    if any(scores != seen[0] for scores in seen[1:]):
        problems.append(f"cell scores differ between runs: {seen}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", default="grader-dl", help="check the assignments graded in this image")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="runs graded at the same time (1: no contention)")
    args = parser.parse_args(argv)
    catalogue = load_catalogue(None)
    assignments = [
        a
        for m in catalogue.modules.values()
        for a in m.assignments
        if a.image == args.image and a.notebook.is_file()
    ]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="reproducible-") as workspace:
        for assignment in sorted(assignments, key=lambda a: a.name):
            problems = check(assignment, args.runs, args.jobs, Path(workspace))
            failed += bool(problems)
            for problem in problems:
                print(f"FAIL {assignment.name}: {problem}")
    print(f"{len(assignments)} assignments in bootcamp-{args.image}, {args.runs} runs each, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
