"""Grade exports: nbgrader's own gradebook CSV layout, and Moodle's grade import CSV."""

from __future__ import annotations

import csv
import io

from graders.programme import cohorts as cohorts_mod
from graders.programme.grades import read_gradebook
from graders.settings import Settings

# The columns and their order exactly as `nbgrader export` (CsvExportPlugin) writes them.
NBGRADER_COLUMNS = (
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
)
MOODLE_ID_COLUMN = "email"


def _text(value: object) -> str:
    """nbgrader writes str(value), with '' for None."""
    return "" if value is None else str(value)


def grades_csv(settings: Settings, cohort_name: str) -> str:
    """One row per assignment and student, as `nbgrader export` does (missing work scores 0).

    Unlike nbgrader's plugin this quotes fields properly, so a name with a comma cannot shift columns.
    """
    cohort = cohorts_mod.load_cohort(settings, cohort_name)
    snap = read_gradebook(cohort)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NBGRADER_COLUMNS)
    for a in snap.assignments:
        for s in snap.students:
            g = snap.grade(s.id, a.name)
            writer.writerow(
                [
                    a.name,
                    _text(a.duedate),
                    _text(g.timestamp) if g else "",
                    s.id,
                    _text(s.last_name),
                    _text(s.first_name),
                    _text(s.email),
                    _text(g.raw_score) if g else "0.0",
                    _text(g.late_penalty) if g else "0.0",
                    _text(g.score) if g else "0.0",
                    _text(a.max_score),
                ]
            )
    return out.getvalue()


def moodle_csv(settings: Settings, cohort_name: str) -> str:
    """Moodle's grade import: an `email` identifier column, then one column of points per assignment.

    A blank cell means no graded submission; Moodle's import leaves that grade unchanged.
    """
    cohort = cohorts_mod.load_cohort(settings, cohort_name)
    snap = read_gradebook(cohort)
    names = [a.name for a in snap.assignments]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([MOODLE_ID_COLUMN, *names])
    for s in snap.students:
        if not s.email:
            continue
        row = [s.email]
        for name in names:
            g = snap.grade(s.id, name)
            row.append(f"{g.score:.2f}" if g else "")
        writer.writerow(row)
    return out.getvalue()
