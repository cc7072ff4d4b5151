"""The trainee side of the exchange service: nbgrader's ExchangeFactory plugins that talk HTTP, not disk.

Installed in the trainee image and switched on by its nbgrader_config.py when the spawner sets
BOOTCAMP_EXCHANGE_URL (hub setting exchange = "service", graders/hub/exchange_service.py). nbgrader's own
commands and JupyterLab's assignment list then list, fetch, submit and fetch feedback through the hub's
`exchange` service, authenticated with the server's JUPYTERHUB_API_TOKEN; no exchange folder is mounted.
Release and collect stay nbgrader's filesystem exchange on the hub host. `fetch_lessons` brings the
cohort's released lessons the same way when the server starts.

This module needs nothing beyond nbgrader, requests and the standard library: the image holds no other
part of `graders`. The archive rules (`unpack`) live here so that the service checks uploads with the
very same code.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

import requests
from nbgrader.exchange import abc
from nbgrader.utils import ignore_patterns
from traitlets import Bool, Unicode, default

URL_ENV = "BOOTCAMP_EXCHANGE_URL"
TIMEOUT_S = 120
SERVER_WRITTEN = ("timestamp.txt", "submission_secret.txt")  # the service writes these, never the trainee


class ArchiveRefused(ValueError):
    """A tar.gz that breaks the exchange's rules; the message says what to change."""


def unpack(archive: io.BufferedIOBase, dest: Path, *, max_files: int, max_bytes: int) -> list[str]:
    """Extracts a tar.gz into the empty folder `dest`: regular files and folders only, every name relative
    and inside, at most `max_files` entries and `max_bytes` unpacked. Checks everything before writing
    anything, and writes with O_EXCL|O_NOFOLLOW so that nothing lands outside `dest`. Returns the files."""
    try:
        with tarfile.open(fileobj=archive, mode="r:gz") as tar:
            members = _checked_members(tar, max_files=max_files, max_bytes=max_bytes)
            written = []
            for member, parts in members:
                target = dest.joinpath(*parts)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(source, out)  # type: ignore[arg-type]
                written.append("/".join(parts))
            return written
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ArchiveRefused(f"the upload is not a readable tar.gz archive ({error}); send the folder again")


def _checked_members(tar: tarfile.TarFile, *, max_files: int, max_bytes: int):
    members, total, seen = [], 0, set()
    for member in tar:  # streamed: a bomb of entries stops at max_files, before it is all read
        if len(members) >= max_files:
            raise ArchiveRefused(
                f"the assignment folder holds more than {max_files} files; remove files you do not need "
                "(data copies, outputs, checkpoints) and submit again"
            )
        parts = _member_parts(member.name)
        if not (member.isreg() or member.isdir()):
            kind = "a link" if member.issym() or member.islnk() else "a device, pipe or other special file"
            raise ArchiveRefused(
                f"{member.name!r} is {kind}; the exchange takes regular files and folders only: "
                "replace it with a copy of the file itself"
            )
        key = "/".join(parts)
        if key in seen:
            raise ArchiveRefused(f"{member.name!r} appears twice in the archive; send each file once")
        seen.add(key)
        total += member.size
        if total > max_bytes:
            raise ArchiveRefused(
                f"the files add up to more than {max_bytes / 1e6:g} MB; remove large files "
                "(data, saved models, outputs) from the assignment folder and submit again"
            )
        members.append((member, parts))
    return [(m, p) for m, p in members if p]


def _member_parts(name: str) -> tuple[str, ...]:
    path = PurePosixPath(name)
    if path.is_absolute() or "\\" in name or "\0" in name:
        raise ArchiveRefused(f"{name!r} is an absolute or unusual path; archive the folder's contents only")
    parts = tuple(p for p in path.parts if p != ".")
    if ".." in parts:
        raise ArchiveRefused(f"{name!r} points outside the assignment folder ('..'); remove it")
    return parts


def pack(folder: Path, *, ignore=None, skipped: list[str] | None = None) -> bytes:
    """A tar.gz of a folder's regular files and folders (names relative to it); links and special files are
    left out and named in `skipped`. `ignore` is a shutil.copytree-style filter (nbgrader's)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for dirpath, dirnames, filenames in os.walk(folder):
            here = Path(dirpath)
            ignored = set(ignore(dirpath, dirnames + filenames)) if ignore else set()
            dirnames[:] = sorted(d for d in dirnames if d not in ignored)
            for name in sorted(dirnames) + sorted(n for n in filenames if n not in ignored):
                path = here / name
                info = path.lstat()
                if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                    if skipped is not None:
                        skipped.append(str(path.relative_to(folder)))
                    if name in dirnames:
                        dirnames.remove(name)
                    continue
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buffer.getvalue()


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class ServiceExchange(abc.Exchange):
    """The HTTP client every plugin shares: the service URL, the server's token, readable errors."""

    url = Unicode(help="The exchange service, e.g. http://hub:8000/services/exchange/").tag(config=True)
    token = Unicode(help="A hub token allowed to use the exchange service").tag(config=True)
    path_includes_course = Bool(
        False, help="Fetch into ./<course>/<assignment> instead of ./<assignment>"
    ).tag(config=True)

    @default("url")
    def _url_default(self) -> str:
        return os.environ.get(URL_ENV, "")

    @default("token")
    def _token_default(self) -> str:
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        if not self.url or not self.token:
            self.fail(
                f"the exchange service is not configured ({URL_ENV} or JUPYTERHUB_API_TOKEN is unset); "
                "restart your server from the hub home page"
            )
        url = self.url.rstrip("/") + "/api/" + path
        headers = {**kwargs.pop("headers", {}), "Authorization": f"token {self.token}"}
        try:
            response = requests.request(method, url, headers=headers, timeout=TIMEOUT_S, **kwargs)
        except requests.RequestException as error:
            self.fail(
                f"the exchange service at {self.url} does not answer ({error}); try again in a minute, "
                "then tell your instructor"
            )
        if response.status_code >= 400:
            try:
                message = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:300] or response.reason
            self.fail(f"the exchange refused: {message}")
        return response

    def check_course(self, cohort: str) -> None:
        if self.coursedir.course_id and self.coursedir.course_id != cohort:
            self.fail(
                f"you are a trainee of {cohort!r}, not {self.coursedir.course_id!r}; use --course={cohort}"
            )

    def local_dir(self, course_id: str, assignment_id: str) -> Path:
        root = Path(course_id, assignment_id) if self.path_includes_course else Path(assignment_id)
        return Path(self.assignment_dir, root).absolute()

    def released(self) -> dict:
        return self.api("GET", "assignments").json()

    def submissions(self, assignment_id: str = "") -> dict:
        params = {"assignment_id": assignment_id} if assignment_id else {}
        return self.api("GET", "submissions", params=params).json()

    # nbgrader's Exchange.start() runs these three in turn
    def init_src(self) -> None:
        pass

    def init_dest(self) -> None:
        pass

    def copy_files(self) -> None:
        pass


class ExchangeFetchAssignment(ServiceExchange, abc.ExchangeFetchAssignment):
    """`nbgrader fetch_assignment` / the Fetch button: a tar.gz of the released assignment."""

    def copy_files(self) -> None:
        course, assignment = self.coursedir.course_id, self.coursedir.assignment_id
        if not course:
            self.fail("No course id specified. Re-run with --course flag.")
        dest = self.local_dir(course, assignment)
        if dest.is_dir() and not self.replace_missing_files:
            self.fail(f"You already have a copy of the assignment in this directory: {dest.name}")
        response = self.api("GET", f"assignments/{assignment}", params={"course_id": course})
        with tempfile.TemporaryDirectory(prefix="bootcamp-fetch-") as tmp:
            unpacked = Path(tmp) / assignment
            unpacked.mkdir()
            unpack(io.BytesIO(response.content), unpacked, max_files=10_000, max_bytes=2 * 10**9)
            ignore = shutil.ignore_patterns(*self.coursedir.ignore)
            if dest.is_dir():
                _copy_missing(unpacked, dest, ignore, self.log)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copytree(unpacked, dest, ignore=ignore)
        self.log.info("Fetched as: %s %s", course, assignment)


def _copy_missing(src: Path, dest: Path, ignore, log) -> None:
    names = sorted(os.listdir(src))
    names = [n for n in names if n not in set(ignore(str(src), names))]
    for name in names:
        if not (dest / name).exists():
            log.warning("Replacing missing %s", dest / name)
            if (src / name).is_dir():
                (dest / name).mkdir()
            else:
                shutil.copy(src / name, dest / name)
        if (src / name).is_dir():
            _copy_missing(src / name, dest / name, ignore, log)


class ExchangeSubmit(ServiceExchange, abc.ExchangeSubmit):
    """`nbgrader submit` / the Submit button: uploads the folder; the service names and stamps it."""

    def copy_files(self) -> None:
        course, assignment = self.coursedir.course_id, self.coursedir.assignment_id
        if not course:
            self.fail("No course id specified. Re-run with --course flag.")
        src = self.local_dir(course, assignment)
        if not src.is_dir():
            self.fail(f"Assignment not found at: {src}; fetch it first")
        listing = self.released()
        self.check_course(listing["cohort"])
        released = {a["assignment_id"]: a for a in listing["assignments"]}
        self.check_filename_diff(src, released.get(assignment, {}).get("notebooks", []))
        skipped: list[str] = []
        ignore = ignore_patterns(
            exclude=self.coursedir.ignore,
            include=self.coursedir.include,
            max_file_size=self.coursedir.max_file_size,
            log=self.log,
        )
        body = pack(src, ignore=ignore, skipped=skipped)
        for name in skipped:
            self.log.warning("Not submitted (a link or special file, not a regular file): %s", name)
        limit_mb = min(listing["max_submission_mb"], self.coursedir.max_dir_size / 1000)
        if len(body) > limit_mb * 1e6:
            self.fail(
                f"the submission is {len(body) / 1e6:.1f} MB compressed and the limit is {limit_mb:g} MB: "
                "remove large files (data, saved models, outputs) from the assignment folder"
            )
        answer = self.api(
            "POST",
            f"assignments/{assignment}/submissions",
            params={"course_id": course},
            data=body,
            headers={"Content-Type": "application/gzip"},
        ).json()
        self.log.info("Submitted as: %s %s %s", answer["cohort"], assignment, answer["timestamp"])

    def check_filename_diff(self, src: Path, released: list[str]) -> None:
        submitted = {p.stem for p in src.glob("*.ipynb")}
        missing = sorted(set(released) - submitted)
        if missing and self.strict:
            self.fail(
                f"Assignment {src.name} not submitted. There are missing notebooks: {', '.join(missing)}"
            )
        if missing:
            self.log.warning("Notebooks missing from the submission: %s", ", ".join(missing))


class ExchangeFetchFeedback(ServiceExchange, abc.ExchangeFetchFeedback):
    """`nbgrader fetch_feedback`: each graded submission's HTML into <assignment>/feedback/<timestamp>/."""

    def copy_files(self) -> None:
        course, assignment = self.coursedir.course_id, self.coursedir.assignment_id
        if not course:
            self.fail("No course id specified. Re-run with --course flag.")
        listing = self.submissions(assignment)
        self.check_course(listing["cohort"])
        for sub in listing["submissions"]:
            folder = self.local_dir(course, sub["assignment_id"]) / "feedback" / sub["timestamp"]
            for notebook in sub["notebooks"]:
                if not notebook["feedback"]:
                    self.log.warning(
                        "No feedback yet for %s/%s submitted at %s",
                        sub["assignment_id"],
                        notebook["notebook_id"],
                        sub["timestamp"],
                    )
                    continue
                html = self.api("GET", f"feedback/{notebook['feedback']['name']}").content
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{notebook['notebook_id']}.html").write_bytes(html)
                self.log.info("Fetched feedback: %s", folder / f"{notebook['notebook_id']}.html")


class ExchangeList(ServiceExchange, abc.ExchangeList):
    """`nbgrader list` and JupyterLab's assignment list: released assignments (released or fetched here),
    and with `cached` the trainee's own submissions with their feedback state, in nbgrader's shapes."""

    def list_files(self) -> list[dict]:
        if self.inbound:
            self.fail("Listing inbound submissions is for instructors, on the hub host (nbgrader collect).")
        return self._submitted() if self.cached else self._released()

    def remove_files(self) -> list[dict]:
        self.fail("Released assignments are removed by instructors on the hub host.")
        return []

    def _released(self) -> list[dict]:
        listing = self.released()
        course = listing["cohort"]
        if self.coursedir.course_id and self.coursedir.course_id != course:
            return []
        wanted = self.coursedir.assignment_id
        found = []
        for entry in listing["assignments"]:
            assignment = entry["assignment_id"]
            if wanted and assignment != wanted:
                continue
            local = self.local_dir(course, assignment)
            info = {"course_id": course, "assignment_id": assignment}
            if local.is_dir():
                info.update(status="fetched", path=str(local))
                notebooks = [{"notebook_id": p.stem, "path": str(p)} for p in sorted(local.glob("*.ipynb"))]
            else:
                remote = f"{self.url.rstrip('/')}/api/assignments/{assignment}"
                info.update(status="released", path=remote)
                notebooks = [{"notebook_id": nb, "path": f"{remote}/{nb}.ipynb"} for nb in entry["notebooks"]]
            info["notebooks"] = notebooks
            self.log.info("%s %s%s", course, assignment, " (already downloaded)" if local.is_dir() else "")
            found.append(info)
        return found

    def _submitted(self) -> list[dict]:
        listing = self.submissions(self.coursedir.assignment_id)
        course, student = listing["cohort"], listing["trainee"]
        if self.coursedir.course_id and self.coursedir.course_id != course:
            return []
        grouped: dict[str, list[dict]] = {}
        for sub in listing["submissions"]:
            grouped.setdefault(sub["assignment_id"], []).append(self._submission(course, student, sub))
        result = []
        for assignment, subs in sorted(grouped.items()):
            subs.sort(key=lambda s: s["timestamp"])
            result.append(
                {
                    "course_id": course,
                    "student_id": student,
                    "assignment_id": assignment,
                    "status": "submitted",
                    "submissions": subs,
                }
            )
        return result

    def _submission(self, course: str, student: str, sub: dict) -> dict:
        local_dir = self.local_dir(course, sub["assignment_id"]) / "feedback" / sub["timestamp"]
        notebooks = []
        for nb in sub["notebooks"]:
            local = local_dir / f"{nb['notebook_id']}.html"
            remote = nb["feedback"]
            notebooks.append(
                {
                    "notebook_id": nb["notebook_id"],
                    "path": nb["notebook_id"] + ".ipynb",
                    "has_local_feedback": local.is_file(),
                    "has_exchange_feedback": bool(remote),
                    "local_feedback_path": str(local) if local.is_file() else None,
                    "feedback_updated": bool(remote)
                    and local.is_file()
                    and md5(local.read_bytes()) != remote["md5"],
                }
            )
        has_local = bool(notebooks) and all(n["has_local_feedback"] for n in notebooks)
        info = {
            "course_id": course,
            "student_id": student,
            "assignment_id": sub["assignment_id"],
            "timestamp": sub["timestamp"],
            "status": "submitted",
            "path": f"{self.url}#{sub['timestamp']}",
            "notebooks": notebooks,
            "has_local_feedback": has_local,
            "has_exchange_feedback": bool(notebooks) and all(n["has_exchange_feedback"] for n in notebooks),
            "feedback_updated": any(n["feedback_updated"] for n in notebooks),
            "local_feedback_path": str(local_dir) if has_local else None,
        }
        state = (
            "feedback already fetched"
            if has_local and not info["feedback_updated"]
            else (
                "feedback ready to be fetched" if info["has_exchange_feedback"] else "no feedback available"
            )
        )
        self.log.info("%s %s %s %s (%s)", course, student, sub["assignment_id"], sub["timestamp"], state)
        return info


def fetch_lessons(dest: Path) -> int:
    """Replaces the contents of `dest` with the cohort's released lessons from the service; the spawner
    runs this (`python -m graders.hub.exchange_client lessons DEST`) before JupyterLab starts, then copies
    what is new into ~/lessons as the filesystem mode does. Returns the number of files."""
    url, token = os.environ.get(URL_ENV, ""), os.environ.get("JUPYTERHUB_API_TOKEN", "")
    response = requests.get(
        url.rstrip("/") + "/api/lessons", headers={"Authorization": f"token {token}"}, timeout=TIMEOUT_S
    )
    response.raise_for_status()
    dest.mkdir(parents=True, exist_ok=True)
    for child in dest.iterdir():
        shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    return len(unpack(io.BytesIO(response.content), dest, max_files=100_000, max_bytes=5 * 10**9))


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "lessons":
        sys.exit("usage: python -m graders.hub.exchange_client lessons DEST")
    try:
        print(f"{fetch_lessons(Path(sys.argv[2]))} lesson files from the exchange service", file=sys.stderr)
    except (requests.RequestException, ArchiveRefused) as error:
        sys.exit(f"lessons not fetched from the exchange service: {error}")
