"""The exchange service: nbgrader's trainee exchange over HTTP, for trainee servers on any host.

With hub setting exchange = "service" no exchange folder is mounted into trainee containers; their
nbgrader (graders/hub/exchange_client.py) calls this hub-managed service instead, with the server's hub
token. Everything is stored in the same host layout as the filesystem exchange (graders/hub/exchange.py),
so the grading service and instructors' stock `nbgrader release_assignment` work unchanged:

    GET  api/assignments                         released assignments of my cohort (fetched? submitted?)
    GET  api/assignments/<a>                     tar.gz of outbound/<a>
    POST api/assignments/<a>/submissions         tar.gz body -> inbound/<me>/<me>+<a>+<timestamp>+<random>/
    GET  api/submissions[?assignment_id=<a>]     my submissions, each notebook with its feedback (if any)
    GET  api/feedback/<hash>.html                one of my feedback pages
    GET  api/lessons                             tar.gz of my cohort's released lessons (at server start)

Who "me" is and which cohort comes from the hub (user name, group nbgrader-<cohort>), never from the
request; every path is built from checked names and stays inside that trainee's own folders.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from nbgrader.utils import notebook_hash
from tornado import web

from graders.hub.exchange import CohortExchange
from graders.hub.exchange_client import SERVER_WRITTEN, ArchiveRefused, md5, pack, unpack
from graders.hub.names import TRAINEE_GROUP, cohorts_of
from graders.hub.settings import HubSettings
from graders.settings import Settings

log = logging.getLogger("graders.hub.exchange_service")

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # cohorts and assignments
TRAINEE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")  # hub user names; never '+' (nbgrader's separator)
FEEDBACK = re.compile(r"[0-9a-f]{32}\.html")  # nbgrader names feedback md5(secret + notebook).html
MAX_FILES = 500  # per submission; an nbgrader assignment is a few notebooks and data files
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's Exchange.timestamp_format, in UTC
FETCHED = ".fetched"  # inbound/<trainee>/.fetched/<assignment>: markers; the grading service skips them


class Refused(web.HTTPError):
    """A request the exchange will not do, with its HTTP status; `message` says what to change."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status)
        self.message = message


def checked(name: str, pattern: re.Pattern, what: str) -> str:
    if not pattern.fullmatch(name or ""):
        raise Refused(
            400,
            f"{what} {name!r} is not allowed: use letters, digits, '.', '_' and '-' only "
            "(no '/', '..', spaces or other characters)",
        )
    return name


@dataclass
class TraineeExchange:
    """What one trainee may do with their cohort's exchange folders; knows nothing of HTTP."""

    exchange: CohortExchange
    trainee: str
    max_bytes: int
    uid: int = 1000

    @classmethod
    def for_user(cls, settings: Settings, hub: HubSettings, user: dict) -> TraineeExchange:
        """The trainee and cohort the hub says this user is (groups nbgrader-<cohort>)."""
        if user.get("kind", "user") != "user":
            raise Refused(403, "the exchange serves trainees; use a trainee's own hub token")
        trainee = checked(user["name"], TRAINEE, "user name")
        cohorts = cohorts_of(list(user.get("groups") or []), TRAINEE_GROUP)
        if not cohorts:
            raise Refused(
                403,
                f"{trainee} is in no cohort on the hub; ask an instructor to add you "
                "(bootcamp cohort add-trainee, then bootcamp hub sync)",
            )
        cohort = checked(cohorts[0], NAME, "cohort")  # one cohort at a time, as the spawner does
        if not settings.is_cohort(cohort):
            raise Refused(404, f"cohort {cohort!r} has no course on the hub; tell your instructor")
        exchange = CohortExchange(root=hub.exchange_root, cohort=cohort)
        return cls(exchange, trainee, int(hub.max_submission_mb * 1e6), hub.container_uid)

    @property
    def inbound(self) -> Path:
        return self.exchange.inbound(self.trainee)

    def _released_dir(self, assignment: str) -> Path:
        folder = self.exchange.outbound / checked(assignment, NAME, "assignment")
        if folder.is_symlink() or not folder.is_dir():
            raise Refused(
                404,
                f"{assignment!r} is not released to cohort {self.exchange.cohort}; "
                "check the name in your assignment list",
            )
        return folder

    # -- released assignments -------------------------------------------------------------------------
    def released(self) -> list[dict]:
        outbound = self.exchange.outbound
        folders = (
            sorted(p for p in outbound.iterdir() if p.is_dir() and not p.is_symlink())
            if outbound.is_dir()
            else []
        )
        counts: dict[str, int] = {}
        for sub in self._own_submissions():
            counts[sub["assignment_id"]] = counts.get(sub["assignment_id"], 0) + 1
        return [
            {
                "assignment_id": folder.name,
                "notebooks": sorted(p.stem for p in folder.glob("*.ipynb") if p.is_file()),
                "fetched": (self.inbound / FETCHED / folder.name).exists(),
                "submissions": counts.get(folder.name, 0),
            }
            for folder in folders
            if NAME.fullmatch(folder.name)
        ]

    def fetch(self, assignment: str) -> bytes:
        """The released folder as tar.gz (links and special files left out); notes that it was fetched."""
        archive = pack(self._released_dir(assignment))
        self.exchange.ensure_trainee(self.trainee, self.uid)
        (self.inbound / FETCHED).mkdir(exist_ok=True)
        (self.inbound / FETCHED / assignment).touch()
        return archive

    def lessons(self) -> bytes:
        """The cohort's released lessons and data as tar.gz: what the filesystem mode mounts read-only at
        /srv/bootcamp/lessons (release's hidden staging folders left out)."""
        folder = self.exchange.lessons
        if not folder.is_dir() or folder.is_symlink():
            folder = Path(tempfile.mkdtemp(prefix="no-lessons-"))  # nothing released yet: an empty archive
        return pack(folder, ignore=lambda _dir, names: [n for n in names if n.startswith(".")])

    # -- submissions ----------------------------------------------------------------------------------
    def submit(self, assignment: str, upload: BinaryIO) -> dict:
        """Writes the upload as nbgrader's submit would, under a name and timestamp the service chooses;
        the folder appears in one rename, complete, so grading never reads half a submission."""
        self._released_dir(assignment)
        self.exchange.ensure_trainee(self.trainee, self.uid)
        stamp = datetime.now(UTC).strftime(TIMESTAMP_FORMAT)
        suffix = base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")
        final = self.inbound / f"{self.trainee}+{assignment}+{stamp}+{suffix}"
        staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=self.inbound))
        try:
            try:
                files = unpack(upload, staging, max_files=MAX_FILES, max_bytes=self.max_bytes)
            except ArchiveRefused as error:
                raise Refused(400, str(error))
            for name in SERVER_WRITTEN:  # a trainee's own copy never counts: the service stamps the time
                stale = staging / name
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink(missing_ok=True)
            (staging / "timestamp.txt").write_text(stamp, encoding="utf-8")
            (staging / "submission_secret.txt").write_text(secrets.token_hex(64), encoding="utf-8")
            for dirpath, _dirs, filenames in os.walk(staging):
                os.chmod(dirpath, 0o755)
                for name in filenames:
                    os.chmod(os.path.join(dirpath, name), 0o644)
            staging.rename(final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        log.info("%s/%s submitted %s (%d files)", self.exchange.cohort, self.trainee, final.name, len(files))
        return {
            "cohort": self.exchange.cohort,
            "assignment_id": assignment,
            "timestamp": stamp,
            "files": sorted(f for f in files if f not in SERVER_WRITTEN),
        }

    def _own_submissions(self) -> list[dict]:
        if not self.inbound.is_dir():
            return []
        found = []
        for folder in sorted(self.inbound.iterdir()):
            parts = folder.name.split("+")
            if len(parts) != 4 or parts[0] != self.trainee or folder.is_symlink() or not folder.is_dir():
                continue
            secret_file = folder / "submission_secret.txt"
            if not secret_file.is_file() or not (folder / "timestamp.txt").is_file():
                continue
            found.append(
                {
                    "assignment_id": parts[1],
                    "timestamp": parts[2],
                    "folder": folder,
                    "secret": secret_file.read_text(encoding="utf-8"),
                }
            )
        return found

    def submissions(self, assignment: str = "") -> list[dict]:
        """My submissions, oldest first; each notebook says whether feedback waits for it (and its md5)."""
        if assignment:
            checked(assignment, NAME, "assignment")
        listing = []
        for sub in self._own_submissions():
            if assignment and sub["assignment_id"] != assignment:
                continue
            notebooks = []
            for path in sorted(sub["folder"].glob("*.ipynb")):
                name = f"{notebook_hash(secret=sub['secret'], notebook_id=path.stem)}.html"
                page = self.exchange.feedback(self.trainee) / name
                ready = page.is_file() and not page.is_symlink()
                notebooks.append(
                    {
                        "notebook_id": path.stem,
                        "feedback": {"name": name, "md5": md5(page.read_bytes())} if ready else None,
                    }
                )
            listing.append(
                {"assignment_id": sub["assignment_id"], "timestamp": sub["timestamp"], "notebooks": notebooks}
            )
        return sorted(listing, key=lambda s: s["timestamp"])

    def feedback(self, name: str) -> bytes:
        """One feedback page from my own feedback folder."""
        checked(name, FEEDBACK, "feedback file")
        path = self.exchange.feedback(self.trainee) / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            raise Refused(
                404, f"no feedback {name} for {self.trainee}; list your submissions for what is ready"
            )
        with os.fdopen(fd, "rb") as handle:
            return handle.read()


def make_app(settings: Settings, hub: HubSettings):  # pragma: no cover - exercised through the hub's tests
    from jupyterhub.services.auth import HubAuthenticated
    from tornado.ioloop import IOLoop

    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/exchange/")
    limit = int(hub.max_submission_mb * 1e6)

    class Api(HubAuthenticated, web.RequestHandler):
        """Token-authenticated JSON API; errors come back as {"error": message}."""

        def prepare(self) -> None:
            user = self.current_user
            if not user:
                raise Refused(
                    403,
                    "this API needs a hub token allowed to use the exchange service "
                    "(Authorization: token ...); in JupyterLab, restart your server from the hub home",
                )
            self.trainee = TraineeExchange.for_user(settings, hub, user)
            course = self.get_query_argument("course_id", "")
            if course and course != self.trainee.exchange.cohort:
                raise Refused(403, f"you are a trainee of {self.trainee.exchange.cohort!r}, not {course!r}")

        def write_error(self, status_code: int, **kwargs) -> None:
            error = kwargs.get("exc_info", (None, None, None))[1]
            if isinstance(error, Refused):
                message = error.message
                log.info("refused %s %s: %s", self.request.method, self.request.path, message)
            elif isinstance(error, web.HTTPError) and error.log_message:
                message = error.log_message
            else:
                message = f"{self._reason}; the exchange service log says more"
            self.finish({"error": message})

    class Released(Api):
        def get(self) -> None:
            self.finish(
                {
                    "cohort": self.trainee.exchange.cohort,
                    "trainee": self.trainee.trainee,
                    "max_submission_mb": hub.max_submission_mb,
                    "assignments": self.trainee.released(),
                }
            )

    class Fetch(Api):
        async def get(self, assignment: str) -> None:
            archive = await IOLoop.current().run_in_executor(None, self.trainee.fetch, assignment)
            self.set_header("Content-Type", "application/gzip")
            self.finish(archive)

    @web.stream_request_body
    class Submit(Api):
        def prepare(self) -> None:
            self.body, self.received = None, 0
            super().prepare()
            # read (and drop) up to twice the limit so the trainee gets our message, not a cut connection
            self.request.connection.set_max_body_size(2 * limit + 1_000_000)
            self.body = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)

        def data_received(self, chunk: bytes) -> None:
            self.received += len(chunk)
            if self.body and self.received <= limit:
                self.body.write(chunk)

        async def post(self, assignment: str) -> None:
            if self.received > limit:
                raise Refused(
                    413,
                    f"the submission is {self.received / 1e6:.1f} MB compressed and the limit "
                    f"is {hub.max_submission_mb:g} MB: remove large files (data, saved models, "
                    "outputs) from the assignment folder and submit again",
                )
            self.body.seek(0)
            answer = await IOLoop.current().run_in_executor(None, self.trainee.submit, assignment, self.body)
            self.set_status(201)
            self.finish(answer)

        def on_finish(self) -> None:
            if self.body:
                self.body.close()

    class Lessons(Api):
        async def get(self) -> None:
            archive = await IOLoop.current().run_in_executor(None, self.trainee.lessons)
            self.set_header("Content-Type", "application/gzip")
            self.finish(archive)

    class Submissions(Api):
        def get(self) -> None:
            assignment = self.get_query_argument("assignment_id", "")
            self.finish(
                {
                    "cohort": self.trainee.exchange.cohort,
                    "trainee": self.trainee.trainee,
                    "submissions": self.trainee.submissions(assignment),
                }
            )

    class Feedback(Api):
        def get(self, name: str) -> None:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(self.trainee.feedback(name))

    return web.Application(
        [
            (rf"{prefix}api/assignments", Released),
            (rf"{prefix}api/assignments/([^/]+)", Fetch),
            (rf"{prefix}api/assignments/([^/]+)/submissions", Submit),
            (rf"{prefix}api/submissions", Submissions),
            (rf"{prefix}api/lessons", Lessons),
            (rf"{prefix}api/feedback/([^/]+)", Feedback),
        ]
    )


def main() -> None:  # pragma: no cover - started by the hub
    from urllib.parse import urlparse

    from tornado.ioloop import IOLoop

    logging.basicConfig(level=logging.INFO, format="[%(levelname).1s %(asctime)s %(name)s] %(message)s")
    url = urlparse(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10104"))
    make_app(Settings.load(), HubSettings.load()).listen(url.port or 80, url.hostname or "127.0.0.1")
    log.info("exchange service on %s", url.geturl())
    IOLoop.current().start()


if __name__ == "__main__":
    main()
