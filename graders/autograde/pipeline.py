"""The host-side grading pipeline: nbgrader's Autograde converter with execution moved into a sandbox.

Each submission is graded by nbgrader's own converter in a worker thread. All nbgrader work (sanitize,
score, record) runs under one lock, so the gradebook sees one writer at a time; the lock is released
only while a sandbox executes, which is where the time goes, so submissions execute in parallel.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from nbconvert.preprocessors import ExecutePreprocessor
from nbgrader.api import MissingEntry
from nbgrader.converters import Autograde, BaseConverter
from nbgrader.utils import capture_log

from graders.autograde.engines import shared_engines
from graders.autograde.execute import FlagForReview, GradingContext, SandboxExecute, set_context
from graders.autograde.inspect import describe_changes
from graders.course import Course
from graders.course_image import course_image
from graders.sandbox import (
    DEFAULT_BACKEND,
    Limits,
    Sandbox,
    SandboxError,
    backend,
    open_sandbox,
)
from graders.untrusted import UntrustedCopyError, copy_untrusted_tree

log = logging.getLogger(__name__)
# nbgrader 0.9 with SQLAlchemy 2 warns about its own session use on every submission; it is harmless.
warnings.filterwarnings("ignore", message=r".*not in session.*", module=r"nbgrader\..*")


@dataclass
class AutogradeOptions:
    sandbox: str = DEFAULT_BACKEND  # a name in graders.sandbox.BACKENDS
    image: str | None = None  # default: bootcamp-grader:latest
    jobs: int | None = None  # default: number of cores
    cell_timeout: float | None = None  # default: the course's c.Execute.timeout, else 30 s
    notebook_timeout: float | None = None  # default: 600 s
    memory_mb: int = 1536
    force: bool = True  # regrade even when autograded/ is up to date (nbgrader's --force)
    probe: bool = True  # kernel-state tripwire between cells
    queue_url: str | None = None  # PostgreSQL grading queue: jobs run on `bootcamp grading-worker` hosts


QUEUE_JOBS = 32  # submissions in flight at once through a queue: they wait on remote hosts, not on cores


def open_grading_sandbox(
    options: AutogradeOptions, image: str | None, limits: Limits, pool_size: int
) -> Sandbox:
    """This machine's sandbox, or with `queue_url` the queue whose workers run jobs on grading hosts."""
    if options.queue_url:
        from graders.gradingqueue.remote import QueueSandbox

        return QueueSandbox(options.queue_url, image or "bootcamp-grader:latest", limits)
    return open_sandbox(options.sandbox, image=image, limits=limits, pool_size=pool_size)


class GradeStatus(StrEnum):
    """How grading one submission ended (a str, so JSON and comparisons with plain names keep working)."""

    GRADED = "graded"
    FLAGGED = "flagged"  # tampering found: autograded points withheld for review
    FAILED = "failed"  # the submission cannot be graded: the trainee's problem, with a reason
    ERROR = "error"  # grading itself failed (no sandbox, interrupted): nothing recorded, retried
    SKIPPED = "skipped"  # already autograded and unchanged


@dataclass
class SubmissionResult:
    student: str
    status: GradeStatus
    score: float | None = None
    max_score: float | None = None
    late_penalty: float = 0.0
    flagged: bool = False
    reasons: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    setup_failures: list[str] = field(default_factory=list)  # instructor cells that failed
    seconds: float = 0.0


@dataclass
class AutogradeReport:
    assignment: str
    course_dir: str
    sandbox: str
    image: str
    limits: dict
    results: list[SubmissionResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


class SandboxedAutograde(Autograde):
    """nbgrader's Autograde converter, minus its process-wide NBGRADER_EXECUTION toggle.

    nbgrader sets and deletes that variable in os.environ around execution, which races when several
    submissions are in flight. The flag belongs to the kernel, and the sandbox's runner sets it there.
    """

    def convert_single_notebook(self, notebook_filename: str) -> None:
        self.log.info("Sanitizing %s", notebook_filename)
        self._sanitizing = True
        self._init_preprocessors()
        BaseConverter.convert_single_notebook(self, notebook_filename)
        built = os.path.join(self.writer.build_directory, os.path.basename(notebook_filename))
        self.log.info("Autograding %s", built)
        self._sanitizing = False
        self._init_preprocessors()
        try:
            BaseConverter.convert_single_notebook(self, built)
        finally:
            self._sanitizing = True


STAGING = Path(".bootcamp") / "staging"  # private copies of submissions, inside the course directory


class GradingCancelled(Exception):
    """Raised inside a worker when the run was interrupted: nothing half-graded is recorded."""


def _autograde_config(course: Course, force: bool):
    """The course's own configuration, with nbgrader's Execute step swapped for the sandboxed one."""
    config = copy.deepcopy(course.config)
    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    if "Autograde" in config and "autograde_preprocessors" in config.Autograde:
        steps = list(config.Autograde.autograde_preprocessors)
    swapped = []
    for step in steps:
        is_execute = isinstance(step, type) and issubclass(step, ExecutePreprocessor)
        is_execute = is_execute or (isinstance(step, str) and step.rsplit(".", 1)[-1] == "Execute")
        swapped.append(SandboxExecute if is_execute else step)
    if SandboxExecute not in swapped:
        swapped.insert(0, SandboxExecute)
    config.Autograde.autograde_preprocessors = [*swapped, FlagForReview]
    config.Autograde.force = force
    config.Autograde.create_student = True
    return config


_FAILURE_PATTERNS = [
    (
        re.compile(r"Unsupported nbformat version (\d+)"),
        "{nb} uses notebook format version {detail}, which nbgrader cannot read; ask the trainee to resubmit it",
    ),
    (
        re.compile(r"NotJSONError|does not appear to be JSON|JSONDecodeError|Expecting value"),
        "{nb} is not a valid notebook (damaged, empty or not JSON); ask the trainee to resubmit it",
    ),
    (
        re.compile(r"UnicodeDecodeError"),
        "{nb} is a binary file, not a notebook; ask the trainee to resubmit it",
    ),
    (
        re.compile(r"nbgrader metadata may be corrupted|MetadataValidator|ValidationError"),
        "{nb} has damaged nbgrader cell metadata (grade ids or cell types were changed); fix the cells "
        "or ask the trainee to fetch the assignment again and copy their answers over",
    ),
    (
        re.compile(r"SchemaTooOld|SchemaTooNew|metadata format"),
        "{nb} uses another version of nbgrader's metadata format",
    ),
    (
        re.compile(r"No notebooks found|No notebooks were matched"),
        "the submission has no notebook of this assignment (was the notebook renamed or deleted?); "
        "ask the trainee to submit it again",
    ),
]


def _explain_failure(log_text: str) -> str:
    """Turns nbgrader's log of a failed submission into one sentence an instructor can act on."""
    notebook = "the submitted notebook"
    match = re.findall(r"(?:Sanitizing|Autograding|Converting notebook) (\S+\.ipynb)", log_text)
    if match:
        notebook = Path(match[-1]).name
    for pattern, message in _FAILURE_PATTERNS:
        found = pattern.search(log_text)
        if found:
            detail = found.group(1)[:300] if found.groups() else ""
            return message.format(nb=notebook, detail=detail)
    errors = [
        line.strip()
        for line in log_text.splitlines()
        if re.match(r"\s*[\w.]+(Error|Exception|Exit|Interrupt)\b", line)
    ]
    return f"grading {notebook} failed: {errors[-1][:300] if errors else 'unknown error (run with -v for the log)'}"


class _RecordHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "Traceback" not in message and len(message) < 400 and message not in self.messages:
            self.messages.append(message)


class _Grader:
    """Grades one student's submission with nbgrader's converter; one instance per worker call."""

    def __init__(
        self, course: Course, assignment: str, config, sandbox, host_lock, probe: bool, cancelled
    ) -> None:
        self.course = course
        self.assignment = assignment
        self.config = config
        self.sandbox = sandbox
        self.host_lock = host_lock
        self.probe = probe
        self.cancelled = cancelled

    def grade(self, student: str) -> SubmissionResult:
        started = time.monotonic()
        logger = logging.getLogger(f"graders.autograde.nbgrader.{threading.get_ident()}")
        logger.propagate = log.isEnabledFor(logging.DEBUG)
        logger.setLevel(logging.INFO)
        records = _RecordHandler()
        logger.addHandler(records)
        sandbox = _SubmissionSandbox(
            self.sandbox, self.host_lock, self.cancelled, f"{self.assignment}/{student}"
        )
        context = GradingContext(sandbox=sandbox, probe=self.probe)
        self._begin(student)
        staging = self.course.root / STAGING
        staging.mkdir(parents=True, exist_ok=True)
        private = Path(tempfile.mkdtemp(prefix="grading-", dir=staging))  # 0700: ours alone
        try:
            staged = private / student / self.assignment
            try:
                copied = copy_untrusted_tree(self.course.submission_dir(self.assignment, student), staged)
            except UntrustedCopyError as error:
                result = SubmissionResult(
                    student=student, status=GradeStatus.FAILED, reasons=[f"submission refused: {error}"]
                )
                result.seconds = round(time.monotonic() - started, 2)
                self._save(result)
                return result
            coursedir = self.course.coursedir(self.assignment, student)
            # nbgrader reads the private copy: a link in submitted/ can no longer point it elsewhere
            coursedir.submitted_directory = str(private.relative_to(self.course.root))
            with self.host_lock:
                if self.cancelled.is_set():
                    raise GradingCancelled
                set_context(context)
                try:
                    converter = SandboxedAutograde(coursedir=coursedir, config=self.config, log=logger)
                    outcome = capture_log(converter)
                finally:
                    set_context(None)
                result = self._result(student, outcome, context)
            result.reasons[:0] = [f"left out of the submission: {why}" for why in copied.refused]
            notes = self._cell_changes(staged)
        finally:
            logger.removeHandler(records)
            shutil.rmtree(private, ignore_errors=True)
        noise = ("There was an error processing", "Attribute 'checksum'", "Removing failed", "Please see the")
        result.messages = notes + [m for m in records.messages if not m.startswith(noise)][:20]
        result.seconds = round(time.monotonic() - started, 2)
        self._save(result)
        return result

    def _cell_changes(self, submitted: Path) -> list[str]:
        coursedir = self.course.coursedir(self.assignment)
        released = Path(coursedir.format_path(coursedir.release_directory, ".", self.assignment))
        restores = bool(self.config.get("OverwriteCells", {}).get("add_missing_cells", False))
        notes: list[str] = []
        for notebook in sorted(submitted.glob("*.ipynb")):
            if (released / notebook.name).exists():
                notes.extend(describe_changes(released / notebook.name, notebook, restores))
        return notes

    def _result(self, student: str, outcome: dict, context: GradingContext) -> SubmissionResult:
        result = SubmissionResult(student=student, status=GradeStatus.GRADED)
        for notebook in context.outcomes.values():
            result.reasons.extend(notebook.reasons)
            result.setup_failures.extend(notebook.setup_failures)
            result.events.extend(f"{notebook.notebook}: {event}" for event in notebook.events)
            result.flagged = result.flagged or notebook.flagged
        if not outcome.get("success") and self.cancelled.is_set():
            context.infrastructure_error = "grading was interrupted before this submission finished"
        if context.infrastructure_error:  # typed, set where it happened; never read from the log
            result.status = GradeStatus.ERROR
            result.reasons.insert(0, context.infrastructure_error)
            return result
        if not outcome.get("success"):
            # nbgrader's own failures (a notebook it cannot read) reach us only as its log
            result.status = GradeStatus.FAILED
            result.reasons.insert(0, _explain_failure(outcome.get("log", "") + outcome.get("error", "")))
            return result
        if not context.outcomes:
            result.status = GradeStatus.SKIPPED
            result.reasons.append("already autograded and unchanged (use --force to regrade)")
        with self.course.gradebook() as gb:
            try:
                submission = gb.find_submission(self.assignment, student)
            except MissingEntry:
                return result
            result.max_score = float(submission.max_score)
            result.late_penalty = float(submission.late_submission_penalty or 0.0)
            result.score = round(max(0.0, float(submission.score) - result.late_penalty), 2)
            result.flagged = result.flagged or any(nb.flagged for nb in submission.notebooks)
        if result.flagged:
            result.status = GradeStatus.FLAGGED
        return result

    def _records(self) -> Path:
        folder = self.course.root / ".bootcamp" / "autograde" / self.assignment
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _begin(self, student: str) -> None:
        """Marks the submission as in flight. A run killed mid-grading (SIGKILL, power loss) leaves the
        mark behind, and nbgrader's half-written autograded/ folder would make the next run skip the
        submission as "unchanged" with a 0 in the gradebook; so a marked submission's folder is removed
        first and it is graded again, whatever --force says."""
        pending = self._records() / f"{student}.pending"
        if pending.exists():
            coursedir = self.course.coursedir(self.assignment, student)
            autograded = Path(coursedir.format_path(coursedir.autograded_directory, student, self.assignment))
            shutil.rmtree(autograded, ignore_errors=True)
        pending.touch()

    def _save(self, result: SubmissionResult) -> None:
        """Keeps the reasons beside the course (not in autograded/, which feedback is made from), and
        only then clears the in-flight mark: a submission counts as graded once this is written."""
        folder = self._records()
        record = folder / f"{result.student}.json"
        partial = record.with_suffix(".json.tmp")
        partial.write_text(json.dumps(asdict(result), indent=2))
        partial.replace(record)
        if result.status != GradeStatus.ERROR:  # an infrastructure error is retried on the next run
            (folder / f"{result.student}.pending").unlink(missing_ok=True)


class _SubmissionSandbox:
    """The sandbox as one submission's grading sees it. It lets go of the host lock while a job runs
    (nbgrader's steps before and after stay serialised; executions overlap), and it refuses new work once
    the run is interrupted, so that no zero is recorded for an unfinished job."""

    def __init__(self, sandbox, host_lock: threading.Lock, cancelled: threading.Event, label: str) -> None:
        self.sandbox = sandbox
        self.host_lock = host_lock
        self.cancelled = cancelled
        self.label = label

    def run(self, job):
        if self.cancelled.is_set():
            raise GradingCancelled
        job.label = job.label or self.label
        self.host_lock.release()  # taken by _Grader.grade around nbgrader's converter
        try:
            return self.sandbox.run(job)
        except SandboxError:
            if self.cancelled.is_set():
                raise GradingCancelled from None
            raise
        finally:
            self.host_lock.acquire()


def shared_setup_failures(results: list[SubmissionResult]) -> list[str]:
    """Instructor-cell failures met by every executed submission: the course's set-up is at fault, not
    the trainees, so the run says it once, loudly, instead of recording silent zeros."""
    executed = [r for r in results if r.status in (GradeStatus.GRADED, GradeStatus.FLAGGED)]
    if not executed:
        return []
    common = set(executed[0].setup_failures)
    for result in executed[1:]:
        common &= set(result.setup_failures)
    return [
        f"every graded submission failed in the same instructor cell, so the course's set-up is at fault, "
        f"not the trainees; fix it and grade again with --force: {failure}"
        for failure in sorted(common)
    ]


@dataclass
class SandboxChoice:
    """Where a course's submissions run: the image (a course image when it has requirements.txt) and the
    limits, with what the instructor should be told about that choice."""

    image: str | None
    limits: Limits
    warnings: list[str]


def choose_sandbox(course: Course, options: AutogradeOptions) -> SandboxChoice:
    """The image and limits for grading this course; shared by `bootcamp autograde` and the hub."""
    chosen = backend(options.sandbox)
    image = options.image or chosen.default_image
    warnings: list[str] = []
    extras = None
    if chosen.default_image is not None and options.image is None:
        extras = course_image(course.root, image)  # the course's requirements.txt, if it has one
        if extras is not None:
            image = extras.tag
    if extras is not None:
        what = "built" if extras.built else "reused"
        warnings.append(
            f"grading in {extras.tag} ({what}): {extras.base} plus the course's requirements.txt"
            f" ({', '.join(extras.requirements)})"
        )
    elif chosen.default_image is None and (course.root / "requirements.txt").is_file():
        warnings.append(
            f"the course's requirements.txt is not installed by --sandbox {chosen.name}: the packages must be "
            "in this Python environment"
        )
    if chosen.warning:
        warnings.append(chosen.warning)
    limits = Limits(
        cell_timeout=options.cell_timeout or course.cell_timeout(),
        notebook_timeout=options.notebook_timeout or 600.0,
        memory_mb=options.memory_mb,
    )
    return SandboxChoice(image=image, limits=limits, warnings=warnings)


def grade_one(
    course: Course,
    assignment: str,
    student: str,
    sandbox: Sandbox,
    options: AutogradeOptions | None = None,
    host_lock: threading.Lock | None = None,
) -> SubmissionResult:
    """Grades one submission in a sandbox the caller owns (the hub keeps one open for every submission).

    The same path each worker of `autograde` takes (staging, nbgrader's converter with the sandboxed
    execute step, the result record), without the batch's set-up; it never raises for the trainee's
    notebook: a broken one is this student's `failed`, and grading itself failing is `error`. Callers that
    grade several submissions of one course at once pass the same `host_lock` to each call."""
    options = options or AutogradeOptions(force=True)
    course.check_assignment(assignment)
    config = _autograde_config(course, options.force)
    lock = host_lock or threading.Lock()
    grader = _Grader(course, assignment, config, sandbox, lock, options.probe, threading.Event())
    with shared_engines():
        return grader.grade(student)


def autograde(
    course_dir: Path | str,
    assignment: str,
    students: list[str] | None = None,
    options: AutogradeOptions | None = None,
    progress: Callable[[SubmissionResult], None] | None = None,
    on_start: Callable[[list[str]], None] | None = None,
) -> AutogradeReport:
    """Grades every matching submission of `assignment` in the sandbox; see docs/contracts.md."""
    options = options or AutogradeOptions()
    chosen = backend(options.sandbox)
    course = Course.open(course_dir)
    course.check_assignment(assignment)
    names = course.submitted_students(assignment, students)
    choice = choose_sandbox(course, options)
    image, limits = choice.image, choice.limits
    report = AutogradeReport(
        assignment=assignment,
        course_dir=str(course.root),
        sandbox=f"queue ({options.queue_url.rsplit('@', 1)[-1]})" if options.queue_url else options.sandbox,
        image=image if chosen.default_image is not None else f"({chosen.name}: no image)",
        limits=asdict(limits),
    )
    report.warnings.extend(choice.warnings)
    if chosen.warning:
        log.warning(chosen.warning)
    if not names:
        wanted = f" matching {', '.join(students)}" if students else ""
        report.warnings.append(f"no submissions of {assignment!r}{wanted} under {course.root / 'submitted'}")
        return report
    if on_start:
        on_start(names)
    default_jobs = QUEUE_JOBS if options.queue_url else os.cpu_count() or 1
    jobs = max(1, min(options.jobs or default_jobs, len(names)))
    config = _autograde_config(course, options.force)
    started = time.monotonic()
    cancelled = threading.Event()
    host_lock = threading.Lock()
    # one container more than workers boots while the others execute, unless there is nothing left to grade
    pool_size = max(jobs, min(jobs + 1, len(names)))
    with shared_engines():
        sandbox = open_grading_sandbox(options, image, limits, pool_size)
        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
        try:
            grader = _Grader(course, assignment, config, sandbox, host_lock, options.probe, cancelled)
            futures = {pool.submit(grader.grade, name): name for name in names}
            for future in as_completed(futures):
                try:
                    result = future.result()
                except Exception as error:  # noqa: BLE001 - a failure of grading itself, reported per student
                    log.exception("grading %s failed", futures[future])
                    result = SubmissionResult(
                        student=futures[future],
                        status=GradeStatus.ERROR,
                        reasons=[f"internal error: {error}"],
                    )
                report.results.append(result)
                if progress:
                    progress(result)
        except BaseException:
            cancelled.set()
            raise
        finally:
            # on an interrupt, closing the sandbox first ends the workers' waits at once
            pool.shutdown(wait=not cancelled.is_set(), cancel_futures=True)
            sandbox.close()
            if cancelled.is_set():
                pool.shutdown(wait=True)
    report.results.sort(key=lambda r: r.student)
    report.warnings.extend(shared_setup_failures(report.results))
    report.seconds = round(time.monotonic() - started, 2)
    return report
