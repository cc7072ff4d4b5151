"""The one owner of an nbgrader course directory: its configuration, gradebook and nbgrader API, and the
steps every part of bootcamp takes on a course (generate an assignment, place a submission, write
feedback). The autograder, cohorts, the hub and the curriculum gate all go through it, so a course is read
the same way everywhere, and the way `nbgrader` itself reads it when run inside the folder.
"""

from __future__ import annotations

import fnmatch
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from graders.errors import UserError
from graders.untrusted import CopyReport, copy_untrusted_tree

log = logging.getLogger(__name__)

CONFIG_FILE = "nbgrader_config.py"
PRIVATE_DIR = ".bootcamp"  # our working folders inside a course (staging, a private exchange)


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

    def autograded_dir(self, assignment: str, student: str) -> Path:
        coursedir = self.coursedir(assignment, student)
        return Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))

    def feedback_dir(self, assignment: str, student: str) -> Path:
        coursedir = self.coursedir(assignment, student)
        return Path(coursedir.format_path(coursedir.feedback_directory, student, assignment))

    def release_dir(self, assignment: str) -> Path:
        coursedir = self.coursedir(assignment)
        return Path(coursedir.format_path(coursedir.release_directory, ".", assignment))

    def autograded_students(self, assignment: str) -> list[str]:
        """Students with an autograded/<student>/<assignment>/ folder."""
        autograded = Path(self.coursedir().autograded_directory)
        autograded = autograded if autograded.is_absolute() else self.root / autograded
        return sorted(p.parent.name for p in autograded.glob(f"*/{assignment}") if p.is_dir())

    # -- nbgrader's own steps ------------------------------------------------------------------------------
    def nbgrader_api(self, extra: Config | None = None) -> NbGraderAPI:
        """nbgrader's Python API on this course; `extra` adds settings (an exchange, feedback steps).

        The API insists on a writable exchange even for steps that never use one: a course that names
        none gets a private one under .bootcamp/."""
        config = self.config.copy()
        if extra is not None:
            config.merge(extra)
        if "root" not in config.get("Exchange", {}):
            private = self.root / PRIVATE_DIR / "exchange"
            private.mkdir(parents=True, exist_ok=True)
            config.Exchange.root = str(private)
        config.CourseDirectory.root = str(self.root)
        return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def generate_assignment(self, assignment: str, extra: Config | None = None) -> Path:
        """nbgrader generate_assignment (records the assignment in the gradebook); returns release/."""
        result = self.nbgrader_api(extra).generate_assignment(assignment, force=True, create=True)
        text = f"{result.get('log', '')}{result.get('error', '')}"
        if not result["success"] and "because there are submissions associated with it" in text:
            raise UserError(
                f"{assignment} already has submissions in {self.root}, and its notebook now has other cells: "
                "nbgrader cannot change a graded assignment's cells. Release the changed version under a new "
                "assignment name (a new module version), or keep the old one."
            )
        if not result["success"]:
            log.debug("nbgrader log of generate_assignment %s:\n%s", assignment, text)
            raise UserError(
                f"nbgrader generate_assignment failed for {assignment} in {self.root}: {_reason(text)}"
            )
        return self.release_dir(assignment)

    def generate_feedback(self, assignment: str, student: str | None = None) -> dict[str, Path]:
        """Feedback without hidden tests (graders.hidden_tests) for one student or every autograded one.

        Returns student -> their feedback folder, holding only HTML. Stock `nbgrader generate_feedback`
        shows hidden tests to everyone (nbgrader #917); this is the one place we call it, with our steps."""
        from graders.hidden_tests import FEEDBACK_PREPROCESSORS, only_html

        extra = Config()
        extra.GenerateFeedback.preprocessors = FEEDBACK_PREPROCESSORS
        api = self.nbgrader_api(extra)
        result = (
            api.generate_feedback(assignment, student, force=True)
            if student
            else api.generate_feedback(assignment, force=True)
        )
        if not result.get("success"):
            who = f" for {student}" if student else ""
            raise UserError(
                f"nbgrader generate_feedback failed for {assignment}{who}: {result.get('error', '')[-600:]}"
            )
        folders = {}
        for name in [student] if student else self.autograded_students(assignment):
            folder = self.feedback_dir(assignment, name)
            only_html(folder)
            folders[name] = folder
        return folders

    # -- submissions ---------------------------------------------------------------------------------------
    def place_submission(
        self, assignment: str, student: str, files: dict[str, bytes], timestamp: str | None = None
    ) -> Path:
        """Writes a submission we made ourselves (demo, curriculum gate) where nbgrader's collect puts one,
        replacing an earlier one; `files` maps relative paths to contents."""
        target = self.submission_dir(assignment, student)
        if target.exists():
            shutil.rmtree(target)
        for relative, content in files.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        target.mkdir(parents=True, exist_ok=True)
        if timestamp:
            (target / "timestamp.txt").write_text(timestamp, encoding="utf-8")
        return target

    def take_submission(
        self, assignment: str, student: str, source: Path, max_total_bytes: int
    ) -> CopyReport:
        """Copies a trainee's folder (untrusted: links, devices and oversize files stay out) into
        submitted/, replacing an earlier submission; raises UntrustedCopyError to refuse it whole."""
        target = self.submission_dir(assignment, student)
        if target.exists():
            shutil.rmtree(target)
        return copy_untrusted_tree(source, target, max_total_bytes=max_total_bytes)

    def cell_timeout(self) -> float:
        """nbgrader's own per-cell timeout (c.Execute.timeout), 30 s when the course does not set it."""
        value = self.config.Execute.get("timeout", 30) if "Execute" in self.config else 30
        return float(value) if value else 30.0


_GENERIC_NBGRADER_LINES = (
    "There was an error processing",
    "Please see the",
    "Traceback",
    "NbGraderException",
)


def _reason(log_text: str) -> str:
    """The line of nbgrader's log that says what went wrong (its first specific error), not the whole log."""
    lines = [line.strip() for line in log_text.splitlines() if line.strip()]
    specific = [line for line in lines if not any(generic in line for generic in _GENERIC_NBGRADER_LINES)]
    for line in specific:
        if "ERROR" in line:
            return line.split("]", 1)[-1].strip() if line.startswith("[") else line
    errors = [line for line in specific if "Error" in line]
    return (errors or specific or ["no log; run with --verbose"])[-1]
