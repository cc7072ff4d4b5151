"""A read-only snapshot of a cohort's nbgrader gradebook as plain records, for reports and exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from nbgrader.api import MissingEntry

from graders.programme.cohorts import Cohort


@dataclass(frozen=True)
class GradebookAssignment:
    name: str
    duedate: datetime | None
    max_score: float


@dataclass(frozen=True)
class GradebookStudent:
    id: str
    first_name: str | None
    last_name: str | None
    email: str | None


@dataclass(frozen=True)
class Grade:
    """One graded submission: the score after any late penalty, as nbgrader's own export computes it."""

    assignment: str
    student: str
    timestamp: datetime | None
    raw_score: float
    late_penalty: float
    max_score: float

    @property
    def score(self) -> float:
        return max(0.0, self.raw_score - self.late_penalty)

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0


@dataclass
class GradebookSnapshot:
    assignments: list[GradebookAssignment] = field(default_factory=list)
    students: list[GradebookStudent] = field(default_factory=list)
    grades: dict[tuple[str, str], Grade] = field(default_factory=dict)

    def grade(self, student: str, assignment: str) -> Grade | None:
        return self.grades.get((student, assignment))

    def assignment(self, name: str) -> GradebookAssignment | None:
        return next((a for a in self.assignments if a.name == name), None)


def read_gradebook(cohort: Cohort) -> GradebookSnapshot:
    """Copies what the reports need out of gradebook.db in one pass, then closes it."""
    snap = GradebookSnapshot()
    with cohort.gradebook() as gb:
        for a in gb.assignments:
            snap.assignments.append(GradebookAssignment(a.name, a.duedate, float(a.max_score or 0)))
        for s in gb.students:
            snap.students.append(GradebookStudent(s.id, s.first_name, s.last_name, s.email))
        for a in gb.assignments:
            for s in gb.students:
                try:
                    sub = gb.find_submission(a.name, s.id)
                except MissingEntry:
                    continue
                snap.grades[(s.id, a.name)] = Grade(
                    assignment=a.name,
                    student=s.id,
                    timestamp=sub.timestamp,
                    raw_score=float(sub.score or 0),
                    late_penalty=float(sub.late_submission_penalty or 0),
                    max_score=float(sub.max_score or a.max_score or 0),
                )
    return snap


def submitted(cohort: Cohort, student: str, assignment: str) -> bool:
    """A submission counts once nbgrader collected it into submitted/ (graded or not)."""
    return (cohort.course_dir / "submitted" / student / assignment).is_dir()
