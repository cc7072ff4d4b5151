"""programme.db: the SQLite store of trainees, instructors and outcomes, with explicit schema migrations."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from graders.errors import UserError
from graders.settings import Settings

log = logging.getLogger(__name__)

GENDERS = ("woman", "man", "non-binary", "prefer not to say")
EMPLOYMENT_STATUSES = ("employed", "studying", "seeking", "unknown")
EMPLOYER_KINDS = ("private", "public", "non-profit", "self-employed", "other")
FOLLOWUP_STAGES = ("completion", "3m", "6m")
EVENT_KINDS = ("company-event", "interview")

# A trainee id is their JupyterHub user name and nbgrader student id, so it must be safe in paths and URLs.
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

# Each migration moves the schema from version N-1 to N; PRAGMA user_version records where a database is.
# Append new steps, never edit old ones: a database made by an older release must still upgrade.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE trainees (
        id TEXT PRIMARY KEY,
        cohort TEXT NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        gender TEXT,
        enrolled_on TEXT,
        started_on TEXT,
        completed_on TEXT,
        dropped_on TEXT,
        drop_reason TEXT
    );
    CREATE INDEX trainees_cohort ON trainees(cohort);
    CREATE TABLE instructors (
        id TEXT NOT NULL,
        cohort TEXT NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        PRIMARY KEY (id, cohort)
    );
    CREATE TABLE milestones (
        trainee_id TEXT NOT NULL REFERENCES trainees(id) ON DELETE CASCADE,
        milestone TEXT NOT NULL,
        done_on TEXT,
        PRIMARY KEY (trainee_id, milestone)
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        trainee_id TEXT NOT NULL REFERENCES trainees(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        company TEXT NOT NULL,
        on_date TEXT
    );
    CREATE TABLE followups (
        trainee_id TEXT NOT NULL REFERENCES trainees(id) ON DELETE CASCADE,
        stage TEXT NOT NULL,
        status TEXT NOT NULL,
        employer_kind TEXT,
        role TEXT,
        uses_ai_ml INTEGER,
        PRIMARY KEY (trainee_id, stage)
    );
    """,
)


@dataclass
class Trainee:
    """One person's programme record (the gradebook holds their scores)."""

    id: str
    cohort: str
    name: str
    email: str
    gender: str | None = None
    enrolled_on: date | None = None
    started_on: date | None = None
    completed_on: date | None = None
    dropped_on: date | None = None
    drop_reason: str | None = None

    @property
    def status(self) -> str:
        """enrolled, active, completed or dropped: what the reports group people by."""
        if self.completed_on:
            return "completed"
        if self.dropped_on:
            return "dropped"
        if self.started_on:
            return "active"
        return "enrolled"

    @property
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0]

    @property
    def last_name(self) -> str:
        parts = self.name.split(" ", 1)
        return parts[1] if len(parts) > 1 else ""


@dataclass
class Instructor:
    id: str
    cohort: str
    name: str
    email: str


@dataclass
class FollowUp:
    """Where a trainee stood at completion, 3 or 6 months later."""

    stage: str
    status: str
    employer_kind: str | None = None
    role: str | None = None
    uses_ai_ml: bool | None = None


@dataclass
class Event:
    kind: str
    company: str
    on_date: date | None = None


@dataclass
class TraineeOutcomes:
    """Everything the outcome report needs about one trainee."""

    trainee: Trainee
    milestones: dict[str, date | None] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    followups: dict[str, FollowUp] = field(default_factory=dict)

    @property
    def interviews(self) -> int:
        return sum(1 for e in self.events if e.kind == "interview")

    @property
    def company_events(self) -> int:
        return sum(1 for e in self.events if e.kind == "company-event")


def check_id(value: str, what: str = "trainee id") -> str:
    """Refuses ids that would break paths, hub user names or nbgrader student ids."""
    if not _ID_PATTERN.match(value):
        raise UserError(
            f"{what} {value!r} is not valid: use 1-64 lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (e.g. 'amina.h')"
        )
    return value


def parse_date(value: str | date | None, what: str = "date") -> date | None:
    """Accepts YYYY-MM-DD (or a date); empty means not set."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{what} {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-09-01")


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def migrate(conn: sqlite3.Connection) -> None:
    """Brings the schema up to the newest version, one numbered step at a time."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    for version, script in enumerate(MIGRATIONS, start=1):
        if version <= current:
            continue
        log.info("migrating programme.db to schema version %d", version)
        with conn:
            conn.executescript(script)
            conn.execute(f"PRAGMA user_version = {version}")


@contextmanager
def connect(settings: Settings) -> Iterator[sqlite3.Connection]:
    """Opens programme.db (creating and migrating it when needed) and commits on success."""
    path = Path(settings.programme_db)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    # secure_delete overwrites deleted rows, so `trainee forget` leaves no bytes behind in free pages.
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")
    try:
        migrate(conn)
        yield conn
        conn.commit()
    finally:
        conn.close()


def _trainee_from_row(row: sqlite3.Row) -> Trainee:
    return Trainee(
        id=row["id"],
        cohort=row["cohort"],
        name=row["name"],
        email=row["email"],
        gender=row["gender"],
        enrolled_on=parse_date(row["enrolled_on"]),
        started_on=parse_date(row["started_on"]),
        completed_on=parse_date(row["completed_on"]),
        dropped_on=parse_date(row["dropped_on"]),
        drop_reason=row["drop_reason"],
    )


def save_trainee(conn: sqlite3.Connection, trainee: Trainee) -> None:
    """Inserts or updates a trainee's record."""
    conn.execute(
        """INSERT INTO trainees (id, cohort, name, email, gender, enrolled_on, started_on, completed_on,
                                 dropped_on, drop_reason)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET cohort=excluded.cohort, name=excluded.name, email=excluded.email,
               gender=excluded.gender, enrolled_on=excluded.enrolled_on, started_on=excluded.started_on,
               completed_on=excluded.completed_on, dropped_on=excluded.dropped_on,
               drop_reason=excluded.drop_reason""",
        (
            trainee.id,
            trainee.cohort,
            trainee.name,
            trainee.email,
            trainee.gender,
            _iso(trainee.enrolled_on),
            _iso(trainee.started_on),
            _iso(trainee.completed_on),
            _iso(trainee.dropped_on),
            trainee.drop_reason,
        ),
    )


def find_trainee(conn: sqlite3.Connection, trainee_id: str) -> Trainee | None:
    row = conn.execute("SELECT * FROM trainees WHERE id = ?", (trainee_id,)).fetchone()
    return _trainee_from_row(row) if row else None


def get_trainee(conn: sqlite3.Connection, trainee_id: str) -> Trainee:
    """Like find_trainee, but a missing trainee is the user's mistake."""
    trainee = find_trainee(conn, trainee_id)
    if trainee is None:
        raise UserError(
            f"no trainee {trainee_id!r} in programme.db: check the id, or add them with "
            "`bootcamp cohort add-trainee COHORT ID --name ... --email ...`"
        )
    return trainee


def cohort_trainees(conn: sqlite3.Connection, cohort: str) -> list[Trainee]:
    rows = conn.execute("SELECT * FROM trainees WHERE cohort = ? ORDER BY id", (cohort,)).fetchall()
    return [_trainee_from_row(r) for r in rows]


def save_instructor(conn: sqlite3.Connection, instructor: Instructor) -> None:
    conn.execute(
        """INSERT INTO instructors (id, cohort, name, email) VALUES (?, ?, ?, ?)
           ON CONFLICT(id, cohort) DO UPDATE SET name=excluded.name, email=excluded.email""",
        (instructor.id, instructor.cohort, instructor.name, instructor.email),
    )


def cohort_instructors(conn: sqlite3.Connection, cohort: str) -> list[Instructor]:
    rows = conn.execute("SELECT * FROM instructors WHERE cohort = ? ORDER BY id", (cohort,)).fetchall()
    return [Instructor(r["id"], r["cohort"], r["name"], r["email"]) for r in rows]


def set_milestone(conn: sqlite3.Connection, trainee_id: str, milestone: str, done_on: date | None) -> None:
    conn.execute(
        """INSERT INTO milestones (trainee_id, milestone, done_on) VALUES (?, ?, ?)
           ON CONFLICT(trainee_id, milestone) DO UPDATE SET done_on=excluded.done_on""",
        (trainee_id, milestone, _iso(done_on)),
    )


def add_event(conn: sqlite3.Connection, trainee_id: str, event: Event) -> None:
    if event.kind not in EVENT_KINDS:
        raise UserError(f"event kind {event.kind!r} is unknown: use one of {', '.join(EVENT_KINDS)}")
    conn.execute(
        "INSERT INTO events (trainee_id, kind, company, on_date) VALUES (?, ?, ?, ?)",
        (trainee_id, event.kind, event.company, _iso(event.on_date)),
    )


def set_followup(conn: sqlite3.Connection, trainee_id: str, followup: FollowUp) -> None:
    """Records one follow-up, checking each field against the values the reports count."""
    if followup.stage not in FOLLOWUP_STAGES:
        raise UserError(f"follow-up {followup.stage!r} is unknown: use one of {', '.join(FOLLOWUP_STAGES)}")
    if followup.status not in EMPLOYMENT_STATUSES:
        raise UserError(
            f"employment status {followup.status!r} is unknown: use one of {', '.join(EMPLOYMENT_STATUSES)}"
        )
    if followup.employer_kind and followup.employer_kind not in EMPLOYER_KINDS:
        raise UserError(
            f"employer kind {followup.employer_kind!r} is unknown: use one of {', '.join(EMPLOYER_KINDS)}"
        )
    uses = None if followup.uses_ai_ml is None else int(followup.uses_ai_ml)
    conn.execute(
        """INSERT INTO followups (trainee_id, stage, status, employer_kind, role, uses_ai_ml)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(trainee_id, stage) DO UPDATE SET status=excluded.status,
               employer_kind=excluded.employer_kind, role=excluded.role, uses_ai_ml=excluded.uses_ai_ml""",
        (trainee_id, followup.stage, followup.status, followup.employer_kind, followup.role, uses),
    )


def load_outcomes(conn: sqlite3.Connection, trainee: Trainee) -> TraineeOutcomes:
    """Gathers a trainee's milestones, events and follow-ups."""
    out = TraineeOutcomes(trainee=trainee)
    for r in conn.execute("SELECT * FROM milestones WHERE trainee_id = ? ORDER BY milestone", (trainee.id,)):
        out.milestones[r["milestone"]] = parse_date(r["done_on"])
    for r in conn.execute("SELECT * FROM events WHERE trainee_id = ? ORDER BY id", (trainee.id,)):
        out.events.append(Event(r["kind"], r["company"], parse_date(r["on_date"])))
    for r in conn.execute("SELECT * FROM followups WHERE trainee_id = ?", (trainee.id,)):
        uses = None if r["uses_ai_ml"] is None else bool(r["uses_ai_ml"])
        out.followups[r["stage"]] = FollowUp(r["stage"], r["status"], r["employer_kind"], r["role"], uses)
    return out


def delete_trainee(conn: sqlite3.Connection, trainee_id: str) -> int:
    """Removes a trainee and (by cascade) their milestones, events and follow-ups; returns rows removed."""
    removed = 0
    for table in ("milestones", "events", "followups"):
        removed += conn.execute(f"DELETE FROM {table} WHERE trainee_id = ?", (trainee_id,)).rowcount  # noqa: S608
    removed += conn.execute("DELETE FROM trainees WHERE id = ?", (trainee_id,)).rowcount
    removed += conn.execute("DELETE FROM instructors WHERE id = ?", (trainee_id,)).rowcount
    return removed
