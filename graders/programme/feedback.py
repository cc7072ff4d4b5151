"""Feedback for one assignment: nbgrader generate_feedback with hidden tests stripped, and who got none.

nbgrader's stock feedback shows hidden tests: its documentation says they "will be visible at the
grading stage and in the feedback", because autograded notebooks carry the full test cells. We add
graders.hidden_tests' redaction to the feedback converter so a trainee never sees them, nor the traceback
lines that would quote them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from graders.course import Course
from graders.errors import UserError
from graders.programme import cohorts as cohorts_mod
from graders.programme.cohorts import Cohort
from graders.programme.grades import read_gradebook, submitted
from graders.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class FeedbackResult:
    assignment: str
    delivered: dict[str, Path] = field(default_factory=dict)  # trainee id -> their feedback folder
    missing: dict[str, str] = field(default_factory=dict)  # trainee id -> why they have none
    log: str = ""


def feedback_area(cohort: Cohort, trainee_id: str, assignment: str) -> Path:
    """Where a trainee's feedback lives; the hub side mounts course/feedback/<id>/ into their server."""
    return cohort.course.feedback_dir(assignment, trainee_id)


def generate_feedback(settings: Settings, cohort_name: str, assignment: str) -> FeedbackResult:
    """Generates feedback for every graded submission and says, per trainee, who has none and why."""
    cohort = cohorts_mod.load_cohort(settings, cohort_name)
    snap = read_gradebook(cohort)
    if snap.assignment(assignment) is None:
        known = ", ".join(a.name for a in snap.assignments) or "none graded yet"
        raise UserError(
            f"assignment {assignment!r} is not in cohort {cohort.name}'s gradebook (known: {known}); "
            "autograde it first with `bootcamp autograde`"
        )
    result = FeedbackResult(assignment=assignment)
    if cohort.course.autograded_students(assignment):
        cohort.course.generate_feedback(assignment)
    for trainee in cohorts_mod.trainees(settings, cohort):
        if trainee.status == "dropped":
            continue
        area = feedback_area(cohort, trainee.id, assignment)
        graded = snap.grade(trainee.id, assignment) is not None
        if area.is_dir() and any(area.glob("*.html")):
            result.delivered[trainee.id] = area
        elif not graded and not submitted(cohort, trainee.id, assignment):
            result.missing[trainee.id] = "not submitted"
        elif not graded or not cohort.course.autograded_dir(assignment, trainee.id).is_dir():
            result.missing[trainee.id] = "submitted, not graded yet"
        else:
            result.missing[trainee.id] = "graded, but feedback was not generated (see the nbgrader log)"
    log.info(
        "feedback for %s: %d delivered, %d without", assignment, len(result.delivered), len(result.missing)
    )
    return result


def generate_course_feedback(course_dir: Path | str, assignment: str) -> FeedbackResult:
    """Feedback for a plain nbgrader course directory (no cohort), with the same redaction.

    Use it instead of `nbgrader generate_feedback` for courses with hidden tests: stock feedback shows
    them (nbgrader #917)."""
    course = Course.open(course_dir)
    course.check_assignment(assignment)
    result = FeedbackResult(assignment=assignment)
    if not course.autograded_students(assignment):
        raise UserError(
            f"no autograded submissions of {assignment!r} in {course.root}: run `bootcamp autograde` first"
        )
    for student, folder in course.generate_feedback(assignment).items():
        if folder.is_dir() and any(folder.glob("*.html")):
            result.delivered[student] = folder
        else:
            result.missing[student] = "autograded, but no feedback was written (see the nbgrader log)"
    return result
