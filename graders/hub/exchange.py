"""The isolated nbgrader exchange: per-trainee folders on the host, mounted one trainee at a time.

nbgrader's file exchange assumes Unix users keep students apart; every trainee container runs as the
same uid, so a shared exchange would let anyone read everyone's submissions and feedback. nbgrader 0.9.6
has no per-student exchange paths, so instead each container sees the stock layout
/srv/nbgrader/exchange/<cohort>/{outbound,inbound,feedback} built only from its own folders:

    host  <state>/exchange/<cohort>/outbound/             -> container .../<cohort>/outbound  (read-only)
    host  <state>/exchange/<cohort>/inbound/<trainee>/    -> container .../<cohort>/inbound   (read-write)
    host  <state>/exchange/<cohort>/feedback/<trainee>/   -> container .../<cohort>/feedback  (read-only)
    host  <state>/exchange/<cohort>/lessons/              -> container /srv/bootcamp/lessons  (read-only)
The lessons are the released modules' originals; each server start copies what is new into the
trainee's own ~/lessons (LESSON_SYNC), never over a file the trainee already has.

Instructors release into outbound/ with stock nbgrader (Exchange.root = <state>/exchange); the grading
service reads each trainee's inbound folder and writes feedback into that trainee's feedback folder.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from graders.errors import UserError

log = logging.getLogger(__name__)

CONTAINER_EXCHANGE_ROOT = "/srv/nbgrader/exchange"
CONTAINER_LESSONS = "/srv/bootcamp/lessons"
# Run by the trainee's container before JupyterLab starts (see BootcampSpawner): copies released lessons
# into the home volume without overwriting (cp -n), so a re-release adds new files and keeps the
# trainee's edited copies; the read-only originals stay at CONTAINER_LESSONS for a fresh look.
LESSON_SYNC = (
    f'if [ -d {CONTAINER_LESSONS} ]; then mkdir -p "$HOME/lessons" '
    f'&& cp -rn {CONTAINER_LESSONS}/. "$HOME/lessons/" 2>/dev/null; fi; exec "$@"'
)


@dataclass(frozen=True)
class CohortExchange:
    """The host folders of one cohort's exchange."""

    root: Path  # <state>/exchange
    cohort: str

    @property
    def course_path(self) -> Path:
        return self.root / self.cohort

    @property
    def outbound(self) -> Path:
        return self.course_path / "outbound"

    @property
    def inbound_root(self) -> Path:
        return self.course_path / "inbound"

    @property
    def feedback_root(self) -> Path:
        return self.course_path / "feedback"

    @property
    def lessons(self) -> Path:
        return self.course_path / "lessons"

    def inbound(self, trainee: str) -> Path:
        return self.inbound_root / _safe_name(trainee)

    def feedback(self, trainee: str) -> Path:
        return self.feedback_root / _safe_name(trainee)

    def ensure(self) -> None:
        """Creates the cohort's folders: readable released assignments, private inbound/feedback roots."""
        self.outbound.mkdir(parents=True, exist_ok=True)
        self.lessons.mkdir(exist_ok=True)
        for path in (self.root, self.course_path, self.outbound, self.lessons):
            path.chmod(0o755)
        for path in (self.inbound_root, self.feedback_root):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o700)  # only the host (hub, grading service) lists who submitted

    def ensure_trainee(self, trainee: str, uid: int) -> None:
        """Creates a trainee's own folders; the container's user owns the inbound one so it can submit."""
        self.ensure()
        inbound, feedback = self.inbound(trainee), self.feedback(trainee)
        inbound.mkdir(exist_ok=True)
        feedback.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(inbound, uid, uid)
        inbound.chmod(0o700)
        feedback.chmod(0o755)  # mounted read-only: the trainee reads, only the grader writes

    def mounts(self, trainee: str) -> dict[str, dict[str, str]]:
        """DockerSpawner `volumes` entries (host path -> bind and mode) for one trainee's container."""
        inside = f"{CONTAINER_EXCHANGE_ROOT}/{self.cohort}"
        return {
            str(self.outbound): {"bind": f"{inside}/outbound", "mode": "ro"},
            str(self.inbound(trainee)): {"bind": f"{inside}/inbound", "mode": "rw"},
            str(self.feedback(trainee)): {"bind": f"{inside}/feedback", "mode": "ro"},
            str(self.lessons): {"bind": CONTAINER_LESSONS, "mode": "ro"},
        }

    def trainees_with_inbound(self) -> list[str]:
        if not self.inbound_root.is_dir():
            return []
        return sorted(p.name for p in self.inbound_root.iterdir() if p.is_dir() and not p.is_symlink())


def _safe_name(name: str) -> str:
    if not name or "/" in name or name in (".", "..") or "\0" in name:
        raise UserError(f"{name!r} cannot be used as a folder name in the exchange")
    return name
