"""Sandboxed, nbgrader-compatible autograding: `autograde(course_dir, assignment, ...)`."""

from graders.autograde.pipeline import AutogradeOptions, AutogradeReport, SubmissionResult, autograde

__all__ = ["AutogradeOptions", "AutogradeReport", "SubmissionResult", "autograde"]
