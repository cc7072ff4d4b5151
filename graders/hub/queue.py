"""The grading queue: one SQLite table, so a restart neither loses a submission nor grades one twice.

A submission's id is <cohort>/<trainee>+<assignment>+<timestamp>; adding it again is a no-op. Jobs move
queued -> running -> done | failed, or straight to rejected (over the resubmission limit, malformed).
A job left `running` by a crash is put back to `queued` at start-up: it never finished, so grading it
again is the first complete grading, not a second one.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id          TEXT PRIMARY KEY,
    cohort      TEXT NOT NULL,
    trainee     TEXT NOT NULL,
    assignment  TEXT NOT NULL,
    timestamp   TEXT NOT NULL,
    path        TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    score       REAL,
    max_score   REAL,
    message     TEXT NOT NULL DEFAULT '',
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    not_before  REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS submissions_by_status ON submissions (status, created_at);
"""

# "error": grading itself failed after every retry (the dead letter an instructor must look at); it
# still counts as accepted, since the trainee's submission is not at fault.
ACCEPTED = ("queued", "running", "done", "failed", "error")


@dataclass
class Submission:
    id: str
    cohort: str
    trainee: str
    assignment: str
    timestamp: str
    path: str
    status: str
    attempts: int = 0
    score: float | None = None
    max_score: float | None = None
    message: str = ""

    @staticmethod
    def make_id(cohort: str, trainee: str, assignment: str, timestamp: str) -> str:
        return f"{cohort}/{trainee}+{assignment}+{timestamp}"


class SubmissionQueue:
    """Durable queue of submissions; each call opens a short transaction (safe across processes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(SCHEMA)
            columns = {row["name"] for row in conn.execute("PRAGMA table_info(submissions)")}
            if "not_before" not in columns:  # a queue made by an earlier version
                conn.execute("ALTER TABLE submissions ADD COLUMN not_before REAL NOT NULL DEFAULT 0")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        try:
            yield conn
        finally:
            conn.close()

    def known(self, submission_id: str) -> bool:
        with self._connect() as conn:
            return (
                conn.execute("SELECT 1 FROM submissions WHERE id = ?", (submission_id,)).fetchone()
                is not None
            )

    def accepted_count(self, cohort: str, trainee: str, assignment: str) -> int:
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT COUNT(*) FROM submissions WHERE cohort=? AND trainee=? AND assignment=? "
                f"AND status IN ({','.join('?' * len(ACCEPTED))})",
                (cohort, trainee, assignment, *ACCEPTED),
            ).fetchone()
            return int(row[0])

    def add(self, sub: Submission) -> bool:
        """Records a submission; False when it was already known (idempotent)."""
        now = time.time()
        with self._connect() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO submissions (id, cohort, trainee, assignment, timestamp, path, status, "
                "message, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sub.id,
                    sub.cohort,
                    sub.trainee,
                    sub.assignment,
                    sub.timestamp,
                    sub.path,
                    sub.status,
                    sub.message,
                    now,
                    now,
                ),
            )
            return cursor.rowcount == 1

    def recover(self) -> int:
        """Puts jobs a crash interrupted back in the queue; returns how many."""
        with self._connect() as conn:
            return conn.execute(
                "UPDATE submissions SET status='queued', updated_at=? WHERE status='running'", (time.time(),)
            ).rowcount

    def claim(self) -> Submission | None:
        """Takes the oldest queued job and marks it running (one transaction, so two workers never share one)."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "SELECT * FROM submissions WHERE status='queued' AND not_before <= ? "
                "ORDER BY created_at, id LIMIT 1",
                (time.time(),),
            ).fetchone()
            if row is None:
                conn.execute("COMMIT")
                return None
            conn.execute(
                "UPDATE submissions SET status='running', attempts=attempts+1, updated_at=? WHERE id=?",
                (time.time(), row["id"]),
            )
            conn.execute("COMMIT")
        return self._row(row, status="running")

    def finish(
        self, submission_id: str, status: str, score: float | None, max_score: float | None, message: str
    ) -> None:
        with self._connect() as conn:
            conn.execute(
                "UPDATE submissions SET status=?, score=?, max_score=?, message=?, updated_at=? WHERE id=?",
                (status, score, max_score, message, time.time(), submission_id),
            )

    def retry_later(self, submission_id: str, delay_s: float, message: str) -> None:
        """Back in the queue, not before `delay_s` from now (a failure of grading itself, not the trainee's)."""
        with self._connect() as conn:
            conn.execute(
                "UPDATE submissions SET status='queued', not_before=?, message=?, updated_at=? WHERE id=?",
                (time.time() + delay_s, message, time.time(), submission_id),
            )

    def get(self, submission_id: str) -> Submission | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM submissions WHERE id=?", (submission_id,)).fetchone()
        return self._row(row) if row else None

    def all(self) -> list[Submission]:
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM submissions ORDER BY created_at, id").fetchall()
        return [self._row(r) for r in rows]

    @staticmethod
    def _row(row: sqlite3.Row, status: str | None = None) -> Submission:
        return Submission(
            id=row["id"], cohort=row["cohort"], trainee=row["trainee"], assignment=row["assignment"],
            timestamp=row["timestamp"], path=row["path"], status=status or row["status"],
            attempts=row["attempts"] + (1 if status == "running" else 0), score=row["score"],
            max_score=row["max_score"], message=row["message"],
        )  # fmt: skip
