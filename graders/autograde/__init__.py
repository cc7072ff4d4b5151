"""Sandboxed, nbgrader-compatible autograding.

`autograde(course_dir, assignment, ...)` grades a batch in a worker pool; `grade_one(course, assignment,
student, sandbox)` grades one submission in a sandbox the caller keeps open (the hub). Both take the same
path: stage the submission, run nbgrader's converter with the sandboxed execute step, record the result.
"""

from graders.autograde.pipeline import (
    AutogradeOptions,
    AutogradeReport,
    GradeStatus,
    SandboxChoice,
    SubmissionResult,
    autograde,
    choose_sandbox,
    grade_one,
)

__all__ = [
    "AutogradeOptions",
    "AutogradeReport",
    "GradeStatus",
    "SandboxChoice",
    "SubmissionResult",
    "autograde",
    "choose_sandbox",
    "grade_one",
]
