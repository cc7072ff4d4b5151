"""Cohorts on the course side: the cohort folder, its nbgrader course and gradebook, and who is in it.

This is the Python API the hub side builds on (hub users and groups `nbgrader-<cohort>` and
`formgrade-<cohort>` are added by graders.hub around these calls).
"""

from __future__ import annotations

import csv
import functools
import importlib
import json
import logging
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from nbgrader.api import Gradebook

from graders.course import Course
from graders.errors import UserError
from graders.gradebook_db import postgres_gradebook_url
from graders.programme import records
from graders.programme.records import Instructor, Trainee
from graders.settings import Settings

log = logging.getLogger(__name__)

TRACKS = ("six-month", "nine-month")
_COHORT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
COURSE_SUBDIRS = ("source", "release", "submitted", "autograded", "feedback")

NBGRADER_CONFIG = """\
# nbgrader configuration for cohort {name!r}, written by `bootcamp cohort create`.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {name!r}
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = {db_url!r}
"""


@dataclass(frozen=True)
class Cohort:
    """A group of trainees on one track, starting on one date, with its own nbgrader course."""

    name: str
    track: str
    start: date
    path: Path

    @property
    def course_dir(self) -> Path:
        return self.path / "course"

    @functools.cached_property
    def course(self) -> Course:
        """The cohort's nbgrader course (its nbgrader_config.py names the course id and gradebook)."""
        return Course.open(self.course_dir)

    @property
    def gradebook_path(self) -> Path:
        return self.course_dir / "gradebook.db"

    @property
    def db_url(self) -> str:
        """The gradebook its nbgrader_config.py names (SQLite in the course, or PostgreSQL)."""
        if (self.course_dir / "nbgrader_config.py").is_file():
            return self.course.db_url
        return f"sqlite:///{self.gradebook_path}"

    @property
    def activity_file(self) -> Path:
        return self.path / "activity.json"

    @property
    def reports_dir(self) -> Path:
        return self.path / "reports"

    def gradebook(self) -> Gradebook:
        """Opens the cohort's nbgrader gradebook; use it as a context manager so it is closed."""
        return Gradebook(self.db_url, course_id=self.name)


def check_cohort_name(name: str) -> str:
    if not _COHORT_NAME.match(name):
        raise UserError(
            f"cohort name {name!r} is not valid: use lowercase letters, digits and '-', "
            "e.g. 'autumn-2026' (it becomes the nbgrader course id and part of hub group names)"
        )
    return name


def _write_cohort_toml(cohort: Cohort, lock: Path | None) -> None:
    lines = [
        "# Written by `bootcamp cohort create`; see docs/contracts.md.",
        f"name = {json.dumps(cohort.name)}",
        f"track = {json.dumps(cohort.track)}",
        f"start = {cohort.start.isoformat()}",
    ]
    if lock is not None:
        lines.append(f"curriculum_lock = {json.dumps(lock.name)}")
    (cohort.path / "cohort.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_curriculum_lock(cohort: Cohort, curriculum_dir: Path | None) -> Path | None:
    """Pins the track's module versions and hashes with the curriculum part's `pin_track`.

    When the curriculum cannot be pinned (no track file yet, a module changed without a version bump)
    the cohort is still created, with a warning: `bootcamp curriculum lock` can add the pin later.
    """
    try:
        catalogue_mod = importlib.import_module("graders.curriculum.catalogue")
        versioning = importlib.import_module("graders.curriculum.versioning")
    except ImportError as error:
        log.warning("curriculum tools unavailable (%s): cohort created without curriculum.lock.toml", error)
        return None
    try:
        catalogue = catalogue_mod.load_catalogue(curriculum_dir)
        track = catalogue_mod.get_track(catalogue, cohort.track)
        text = versioning.pin_track(catalogue, track)
    except UserError as error:
        log.warning("cohort created without curriculum.lock.toml: %s", error)
        return None
    path = cohort.path / "curriculum.lock.toml"
    path.write_text(text, encoding="utf-8")
    return path


def create_cohort(
    settings: Settings, name: str, track: str, start: date, curriculum_dir: Path | None = None
) -> Cohort:
    """Makes cohorts/<name>/ with cohort.toml, the nbgrader course (config and empty gradebook) and a lock."""
    check_cohort_name(name)
    if track not in TRACKS:
        raise UserError(f"track {track!r} is unknown: use one of {', '.join(TRACKS)}")
    path = settings.cohort_dir(name)
    if settings.is_cohort(name):
        raise UserError(f"cohort {name!r} already exists at {path}: pick another name or use it as it is")
    cohort = Cohort(name=name, track=track, start=start, path=path)
    for sub in COURSE_SUBDIRS:
        (cohort.course_dir / sub).mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{cohort.gradebook_path}"
    if settings.gradebook_url:
        db_url = postgres_gradebook_url(settings.gradebook_url, name)
    (cohort.course_dir / "nbgrader_config.py").write_text(
        NBGRADER_CONFIG.format(name=name, root=str(cohort.course_dir), db_url=db_url), encoding="utf-8"
    )
    # Opening a Gradebook creates its tables, so the formgrader and autograder find a ready database.
    with cohort.gradebook():
        pass
    lock = _write_curriculum_lock(cohort, curriculum_dir)
    _write_cohort_toml(cohort, lock)
    log.info("created cohort %s (%s track, starting %s)", name, track, start)
    return cohort


def load_cohort(settings: Settings, name: str) -> Cohort:
    """Reads cohorts/<name>/cohort.toml."""
    path = settings.cohort_dir(name)
    toml_path = path / "cohort.toml"
    if not settings.is_cohort(name):
        known = ", ".join(c.name for c in list_cohorts(settings)) or "none yet"
        raise UserError(
            f"no cohort {name!r} (looked for {toml_path}); known cohorts: {known}. "
            "Create it with `bootcamp cohort create NAME --track six-month --start YYYY-MM-DD`"
        )
    try:
        doc = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        start = doc["start"]
        start = start if isinstance(start, date) else date.fromisoformat(str(start))
        return Cohort(name=str(doc.get("name", name)), track=str(doc["track"]), start=start, path=path)
    except (KeyError, ValueError, tomllib.TOMLDecodeError) as error:
        raise UserError(f"{toml_path} is damaged ({error}): it needs name, track and start = YYYY-MM-DD")


def list_cohorts(settings: Settings) -> list[Cohort]:
    """Every cohort under BOOTCAMP_HOME, oldest start first."""
    if not settings.cohorts_dir.exists():
        return []
    cohorts = [
        load_cohort(settings, p.name)
        for p in sorted(settings.cohorts_dir.iterdir())
        if (p / "cohort.toml").exists()
    ]
    return sorted(cohorts, key=lambda c: (c.start, c.name))


def add_trainee(
    settings: Settings,
    cohort: Cohort | str,
    trainee_id: str,
    name: str,
    email: str,
    gender: str | None = None,
    enrolled_on: date | None = None,
) -> Trainee:
    """Enrols a trainee: a row in programme.db and an nbgrader student in the cohort's gradebook."""
    cohort = cohort if isinstance(cohort, Cohort) else load_cohort(settings, cohort)
    records.check_id(trainee_id)
    if not name.strip():
        raise UserError(f"trainee {trainee_id!r} has no name: pass --name 'First Last'")
    if "@" not in email:
        raise UserError(f"email {email!r} of trainee {trainee_id!r} is not an email address")
    if gender is not None and gender not in records.GENDERS:
        raise UserError(f"gender {gender!r} is not one of: {', '.join(records.GENDERS)} (or leave it out)")
    with records.connect(settings) as conn:
        existing = records.find_trainee(conn, trainee_id)
        if existing and existing.cohort != cohort.name:
            raise UserError(
                f"trainee {trainee_id!r} is already in cohort {existing.cohort!r}: "
                "ids are unique across cohorts, pick another id"
            )
        trainee = existing or Trainee(id=trainee_id, cohort=cohort.name, name=name, email=email)
        trainee.name, trainee.email = name.strip(), email.strip()
        trainee.gender = gender if gender is not None else trainee.gender
        trainee.enrolled_on = trainee.enrolled_on or enrolled_on or date.today()
        records.save_trainee(conn, trainee)
    with cohort.gradebook() as gb:
        gb.update_or_create_student(
            trainee_id, first_name=trainee.first_name, last_name=trainee.last_name, email=trainee.email
        )
    log.info("enrolled one trainee in cohort %s", cohort.name)
    return trainee


def add_trainees_from_csv(settings: Settings, cohort: Cohort | str, csv_path: Path) -> list[Trainee]:
    """Enrols every row of a roster CSV with columns id, name, email and optionally gender."""
    if not csv_path.exists():
        raise UserError(f"roster {csv_path} does not exist")
    with csv_path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"id", "name", "email"} - set(reader.fieldnames or [])
        if missing:
            raise UserError(
                f"roster {csv_path} lacks column(s) {', '.join(sorted(missing))}: "
                "the header must be id,name,email[,gender]"
            )
        rows = list(reader)
    added = []
    for line, row in enumerate(rows, start=2):
        try:
            added.append(
                add_trainee(
                    settings,
                    cohort,
                    row["id"].strip(),
                    row["name"],
                    row["email"],
                    (row.get("gender") or "").strip() or None,
                )
            )
        except UserError as error:
            raise UserError(f"{csv_path} line {line}: {error}")
    return added


def add_instructor(
    settings: Settings, cohort: Cohort | str, instructor_id: str, name: str, email: str
) -> Instructor:
    """Records an instructor of the cohort (the hub side gives them the formgrade-<cohort> group)."""
    cohort = cohort if isinstance(cohort, Cohort) else load_cohort(settings, cohort)
    records.check_id(instructor_id, "instructor id")
    instructor = Instructor(id=instructor_id, cohort=cohort.name, name=name.strip(), email=email.strip())
    with records.connect(settings) as conn:
        records.save_instructor(conn, instructor)
    return instructor


def trainees(settings: Settings, cohort: Cohort | str) -> list[Trainee]:
    name = cohort.name if isinstance(cohort, Cohort) else cohort
    with records.connect(settings) as conn:
        return records.cohort_trainees(conn, name)


def instructors(settings: Settings, cohort: Cohort | str) -> list[Instructor]:
    name = cohort.name if isinstance(cohort, Cohort) else cohort
    with records.connect(settings) as conn:
        return records.cohort_instructors(conn, name)
