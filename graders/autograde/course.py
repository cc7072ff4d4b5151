"""The one place that opens an nbgrader course directory, its configuration and its gradebook."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from graders.errors import UserError

CONFIG_FILE = "nbgrader_config.py"


@dataclass
class Course:
    """A stock nbgrader course directory, read the way `nbgrader` reads it when run inside it."""

    root: Path
    config: Config

    @classmethod
    def open(cls, root: Path | str) -> Course:
        root = Path(root).expanduser().resolve()
        if not root.is_dir():
            raise UserError(
                f"course directory {root} does not exist (pass --course-dir of an nbgrader course)"
            )
        config = Config()
        if (root / CONFIG_FILE).exists():
            try:
                config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
            except Exception as error:  # noqa: BLE001 - any error in the user's config file
                raise UserError(f"{root / CONFIG_FILE} could not be loaded: {error}") from None
        config.CourseDirectory.root = str(root)
        course = cls(root=root, config=config)
        if not (root / CONFIG_FILE).exists() and not course.gradebook_path().exists():
            raise UserError(
                f"{root} is not an nbgrader course directory: it has neither {CONFIG_FILE} nor a gradebook. "
                "Create one with `nbgrader quickstart` or `bootcamp cohort create`."
            )
        return course

    def coursedir(self, assignment: str = "", student: str = "*") -> CourseDirectory:
        coursedir = CourseDirectory(config=self.config)
        coursedir.assignment_id = assignment
        coursedir.student_id = student
        return coursedir

    @property
    def db_url(self) -> str:
        return self.coursedir().db_url

    @property
    def course_id(self) -> str:
        return self.coursedir().course_id

    def gradebook_path(self) -> Path:
        url = self.db_url
        prefix = "sqlite:///"
        return Path(url[len(prefix) :]) if url.startswith(prefix) else Path("<not sqlite>")

    def gradebook(self) -> Gradebook:
        if self.db_url.startswith("sqlite:///") and not self.gradebook_path().exists():
            raise UserError(
                f"no gradebook at {self.gradebook_path()}: run `nbgrader generate_assignment ASSIGNMENT` in "
                f"{self.root} first (it creates the gradebook and records the assignment)"
            )
        return Gradebook(self.db_url, self.course_id)

    def check_assignment(self, assignment: str) -> None:
        with self.gradebook() as gb:
            try:
                gb.find_assignment(assignment)
            except MissingEntry:
                known = ", ".join(sorted(a.name for a in gb.assignments)) or "none"
                raise UserError(
                    f"assignment {assignment!r} is not in the gradebook (known: {known}); "
                    f"run `nbgrader generate_assignment {assignment}` first"
                ) from None

    def submitted_students(self, assignment: str, patterns: list[str] | None = None) -> list[str]:
        """Students with a submitted/<student>/<assignment>/ folder, filtered by ids or glob patterns."""
        submitted = Path(self.coursedir().submitted_directory)
        if not submitted.is_absolute():
            submitted = self.root / submitted
        students = sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir())
        if patterns:
            students = [s for s in students if any(fnmatch.fnmatchcase(s, pattern) for pattern in patterns)]
        return students

    def submission_dir(self, assignment: str, student: str) -> Path:
        """submitted/<student>/<assignment>, where nbgrader's collect (or our exchange) puts a submission."""
        coursedir = self.coursedir(assignment, student)
        return Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))

    def cell_timeout(self) -> float:
        """nbgrader's own per-cell timeout (c.Execute.timeout), 30 s when the course does not set it."""
        value = self.config.Execute.get("timeout", 30) if "Execute" in self.config else 30
        return float(value) if value else 30.0
