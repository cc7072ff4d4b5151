"""Grade on submit: the hub-managed service that turns a trainee's submission into feedback.

One loop, four steps a reader can follow:
1. scan    every cohort's per-trainee inbound folders; each complete submission becomes a queue row;
2. collect the oldest queued submission into the course's submitted/<trainee>/<assignment>/;
3. grade   with graders.autograde (sandboxed) for that one trainee;
4. feedback nbgrader generate_feedback without hidden tests, delivered to the trainee's feedback folder.
Instructors see the grades in the cohort's gradebook through the formgrader.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from nbgrader.utils import notebook_hash

from graders.course import Course
from graders.hub import feedback
from graders.hub.exchange import CohortExchange
from graders.hub.queue import Submission, SubmissionQueue
from graders.hub.settings import HubSettings
from graders.sandbox import LongLivedSandboxes
from graders.settings import Settings
from graders.untrusted import UntrustedCopyError

log = logging.getLogger("graders.hub.grading")

SETTLE_S = 0.25  # a submission folder must be this still before we read it (nbgrader writes in steps)
MAX_ATTEMPTS = 3  # a failure of grading itself (no sandbox, engine gone) is retried this often
RETRY_BASE_S = 5.0  # then after 5 s, 10 s, ... before it becomes an instructor's "error"

# What a grading result means for the queue. "error" is grading itself failing: retried, never the
# trainee's failure.
QUEUE_STATUS = {"graded": "done", "flagged": "done", "skipped": "done", "failed": "failed", "error": "retry"}


@dataclass
class Outcome:
    status: str  # done | failed | rejected | retry (grading itself failed; try again later)
    score: float | None = None
    max_score: float | None = None
    message: str = ""


def parse_submission_name(name: str) -> tuple[str, str, str] | None:
    """nbgrader names a submission <student>+<assignment>+<timestamp>[+<random>]."""
    parts = name.split("+")
    if len(parts) not in (3, 4) or not all(parts[:3]):
        return None
    return parts[0], parts[1], parts[2]


class GradingService:
    """Owns the queue and the loop; `run_once` is one scan plus at most one grading (tests call it)."""

    def __init__(self, settings: Settings, hub: HubSettings) -> None:
        self.settings = settings
        self.hub = hub
        self.queue = SubmissionQueue(hub.grading_db)
        self.stopping = False
        # one sandbox (and its warm pool) per image and limits for the service's lifetime; with a
        # grading queue, one QueueSandbox per image and limits instead (jobs run on worker hosts)
        self.sandboxes = LongLivedSandboxes(pool_size=2)
        self.queue_sandboxes: dict[tuple, object] = {}
        self.concurrency = hub.grading_concurrency or (16 if hub.queue_url else 1)
        self._lock = threading.Lock()  # guards the two dicts above and course_locks
        # nbgrader's steps for one course (take, score, record, feedback) run one at a time
        self.course_locks: dict[str, threading.Lock] = {}

    # -- 1. scan -------------------------------------------------------------------------------------
    def scan(self) -> int:
        added = 0
        root = self.hub.exchange_root
        if not root.is_dir():
            return 0
        for cohort_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            if not self.settings.is_cohort(cohort_dir.name):
                continue
            exchange = CohortExchange(root=root, cohort=cohort_dir.name)
            for trainee in exchange.trainees_with_inbound():
                for folder in sorted(exchange.inbound(trainee).iterdir()):
                    added += self._consider(exchange, trainee, folder)
        return added

    def _consider(self, exchange: CohortExchange, trainee: str, folder: Path) -> int:
        parsed = parse_submission_name(folder.name)
        if parsed is None or folder.is_symlink() or not folder.is_dir():
            return 0
        named_for, assignment, timestamp = parsed
        sub_id = Submission.make_id(exchange.cohort, trainee, assignment, timestamp)
        if self.queue.known(sub_id):
            return 0
        secret_file = folder / "submission_secret.txt"
        if not (folder / "timestamp.txt").is_file() or not secret_file.is_file():
            return 0  # nbgrader is still writing it
        if time.time() - secret_file.stat().st_mtime < SETTLE_S:
            return 0
        sub = Submission(sub_id, exchange.cohort, trainee, assignment, timestamp, str(folder), "queued")
        # The folder, not the name inside it, says whose submission this is.
        if named_for != trainee:
            sub.status, sub.message = "rejected", f"submitted as {named_for!r} from {trainee!r}'s folder"
        elif not (self.settings.course_dir(exchange.cohort) / "release" / assignment).is_dir():
            sub.status, sub.message = "rejected", f"{assignment!r} is not an assignment of this cohort"
        elif self.queue.accepted_count(exchange.cohort, trainee, assignment) >= self.hub.submission_limit(
            assignment
        ):
            limit = self.hub.submission_limit(assignment)
            sub.status, sub.message = (
                "rejected",
                f"the limit of {limit} submissions for {assignment} is reached",
            )
        if not self.queue.add(sub):
            return 0
        if sub.status == "rejected":
            log.warning("refused %s: %s", sub.id, sub.message)
            self._notice(
                sub, "Submission not graded", sub.message + ". Ask your instructor if this is wrong."
            )
        else:
            log.info("queued %s", sub.id)
        return 1

    # -- 2-4. collect, grade, feedback ---------------------------------------------------------------------
    def grade_next(self) -> Submission | None:
        job = self.queue.claim()
        if job is None:
            return None
        return self.grade_claimed(job)

    def grade_claimed(self, job: Submission) -> Submission | None:
        started = time.monotonic()
        try:
            outcome = self._grade(job)
        except Exception as error:  # noqa: BLE001 - infrastructure, not the trainee: retried below
            log.exception("grading %s failed", job.id)
            if self.concurrency == 1:
                self.sandboxes.close()  # a broken engine connection must not serve the retry
            outcome = Outcome("retry", message=f"{type(error).__name__}: {error}")
        if outcome.status == "retry":
            if job.attempts < MAX_ATTEMPTS:
                delay = RETRY_BASE_S * 2 ** (job.attempts - 1)
                log.warning(
                    "%s: grading failed (%s); retry %d in %.0f s",
                    job.id,
                    outcome.message,
                    job.attempts,
                    delay,
                )
                self.queue.retry_later(job.id, delay, outcome.message)
                return self.queue.get(job.id)
            # the dead letter: instructors see it in `bootcamp hub status`; the trainee is told it is ours
            outcome = Outcome("error", message=f"grading failed {job.attempts} times: {outcome.message}")
            self._notice(job, "Grading delayed", "Your submission arrived, but grading it failed because of a "
                         "problem on our side, not in your work. Your instructor has been told.")  # fmt: skip
        if outcome.status == "failed":
            self._notice(job, "Grading failed", "Your submission could not be graded automatically; "
                         "your instructor will look at it. " + outcome.message[:500])  # fmt: skip
        self.queue.finish(job.id, outcome.status, outcome.score, outcome.max_score, outcome.message)
        log.info("%s %s in %.1f s (score %s/%s)", job.id, outcome.status, time.monotonic() - started,
                 outcome.score, outcome.max_score)  # fmt: skip
        return self.queue.get(job.id)

    def _grade(self, job: Submission) -> Outcome:
        course = Course.open(self.settings.course_dir(job.cohort))
        exchange = CohortExchange(root=self.hub.exchange_root, cohort=job.cohort)
        source = Path(job.path)
        if not source.is_dir():
            return Outcome("failed", message="the submission folder disappeared before grading")
        course_lock = self._course_lock(job.cohort)
        try:
            with course_lock:
                copied = course.take_submission(
                    job.assignment, job.trainee, source, max_total_bytes=int(self.hub.max_submission_mb * 1e6)
                )
        except UntrustedCopyError as error:
            return Outcome("failed", message=f"submission refused: {error}")
        for why in copied.refused:
            log.warning("%s: left out of the submission: %s", job.id, why)
        result = self._autograde(course, job, course_lock)
        status = QUEUE_STATUS.get(result.status, "retry")
        if status != "done":
            return Outcome(status, result.score, result.max_score, "; ".join(result.reasons))
        with course_lock:
            folder = course.generate_feedback(job.assignment, job.trainee)[job.trainee]
        html_files = sorted(folder.glob("*.html"))
        secret = (source / "submission_secret.txt").read_text(encoding="utf-8")
        feedback.deliver(html_files, secret, exchange.feedback(job.trainee))
        message = "flagged: " + "; ".join(result.reasons) if result.flagged else ""
        return Outcome("done", result.score, result.max_score, message)

    def _autograde(self, course: Course, job: Submission, course_lock: threading.Lock):
        """One submission through graders.autograde.grade_one, in the long-lived sandbox for this
        course's image and limits (one per kind, kept warm between submissions), or through the
        grading queue when one is configured."""
        from graders.autograde import AutogradeOptions, choose_sandbox, grade_one

        options = AutogradeOptions(sandbox=self.hub.sandbox, jobs=1, force=True)
        choice = choose_sandbox(course, options)
        with self._lock:
            if self.hub.queue_url:
                from graders.gradingqueue.remote import QueueSandbox

                key = (choice.image, choice.limits)
                if key not in self.queue_sandboxes:
                    image = choice.image or "bootcamp-grader:latest"
                    self.queue_sandboxes[key] = QueueSandbox(self.hub.queue_url, image, choice.limits)
                sandbox = self.queue_sandboxes[key]
            else:
                sandbox = self.sandboxes.get(self.hub.sandbox, choice.image, choice.limits)
        return grade_one(course, job.assignment, job.trainee, sandbox, options, host_lock=course_lock)

    def _course_lock(self, cohort: str) -> threading.Lock:
        with self._lock:
            return self.course_locks.setdefault(cohort, threading.Lock())

    def _notice(self, sub: Submission, title: str, message: str) -> None:
        folder = Path(sub.path)
        try:
            secret = (folder / "submission_secret.txt").read_text(encoding="utf-8")
            notebooks = [p.stem for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink()]
            target = CohortExchange(root=self.hub.exchange_root, cohort=sub.cohort).feedback(sub.trainee)
            feedback.deliver_notice(notebooks, secret, target, title, message)
        except OSError as error:
            log.warning("could not leave a notice for %s: %s", sub.id, error)

    # -- feedback released by hand ----------------------------------------------------------------------------
    def route_released_feedback(self) -> int:
        """Moves feedback an instructor released from the formgrader into each trainee's own folder.

        Stock `release_feedback` writes every trainee's feedback/<hash>.html into one shared folder, which
        no container mounts; the hash is md5(submission secret + notebook name), so the submitted copies in
        the course say whose each file is.
        """
        moved = 0
        root = self.hub.exchange_root
        for cohort_dir in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
            exchange = CohortExchange(root=root, cohort=cohort_dir.name)
            loose = [p for p in exchange.feedback_root.glob("*.html") if p.is_file() and not p.is_symlink()]
            if not loose:
                continue
            owners: dict[str, str] = {}
            submitted = self.settings.course_dir(cohort_dir.name) / "submitted"
            for secret_file in submitted.glob("*/*/submission_secret.txt"):
                trainee, secret = secret_file.parent.parent.name, secret_file.read_text(encoding="utf-8")
                for notebook in secret_file.parent.glob("*.ipynb"):
                    owners[notebook_hash(secret=secret, notebook_id=notebook.stem)] = trainee
            for path in loose:
                trainee = owners.get(path.stem)
                if trainee is None:
                    log.warning("released feedback %s matches no submission; left in place", path)
                    continue
                exchange.ensure_trainee(trainee, self.hub.container_uid)
                path.chmod(0o644)
                path.replace(exchange.feedback(trainee) / path.name)
                moved += 1
        return moved

    # -- the loop ----------------------------------------------------------------------------------------
    def run_once(self) -> Submission | None:
        self.scan()
        self.route_released_feedback()
        return self.grade_next()

    def run_forever(self) -> None:
        recovered = self.queue.recover()
        if recovered:
            log.info("re-queued %d submission(s) interrupted by the last stop", recovered)
        where = (
            f"the grading queue at {self.hub.queue_url.rsplit('@', 1)[-1]}" if self.hub.queue_url else "here"
        )
        log.info("watching %s every %.1f s; grading %d at once %s", self.hub.exchange_root,
                 self.hub.poll_interval_s, self.concurrency, where)  # fmt: skip
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="grade")
        in_flight: set[Future] = set()
        try:
            while not self.stopping:
                try:
                    self.scan()
                    self.route_released_feedback()
                    in_flight = {future for future in in_flight if not future.done()}
                    while len(in_flight) < self.concurrency and not self.stopping:
                        job = self.queue.claim()
                        if job is None:
                            break
                        in_flight.add(pool.submit(self.grade_claimed, job))
                except Exception:  # noqa: BLE001 - keep watching; the log says what broke
                    log.exception("grading loop error")
                if in_flight:  # wake as soon as a slot frees up, or at the next poll
                    wait(in_flight, timeout=self.hub.poll_interval_s, return_when=FIRST_COMPLETED)
                else:
                    time.sleep(self.hub.poll_interval_s)
        finally:
            pool.shutdown(wait=True)  # the submissions in flight finish; nothing new starts
            self.sandboxes.close()
            for sandbox in self.queue_sandboxes.values():
                sandbox.close()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="[%(levelname).1s %(asctime)s %(name)s] %(message)s")
    service = GradingService(Settings.load(), HubSettings.load())

    def stop(signum, _frame):
        log.info("stopping on signal %s after the current submission", signum)
        service.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    service.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
