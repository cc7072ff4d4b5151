"""The queue's own tables beside procrastinate's, and connections that survive a database restart.

procrastinate owns delivery (todo -> doing -> succeeded | failed, leases by worker heartbeat, retries).
Three small tables of ours carry what it does not:
    bootcamp_grading_archives  a job's data files, once per content hash (workers cache them on disk);
    bootcamp_grading_results   one row per job key: the first result wins, a redelivered job's second
                               result is dropped, so a job graded twice is recorded once;
    bootcamp_grading_failures  why a delivery failed (procrastinate keeps no error text): what the
                               dead-letter list shows instructors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import procrastinate
import psycopg
from procrastinate.schema import SchemaManager

from graders.errors import UserError

log = logging.getLogger(__name__)

TASK = "bootcamp.grade"
QUEUE = "grading"
SCHEMA_LOCK = 7_214_003  # pg_advisory_lock key: one process creates the schema, the others wait

OUR_TABLES = """
CREATE TABLE IF NOT EXISTS bootcamp_grading_archives (
    sha256     text PRIMARY KEY,
    content    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS bootcamp_grading_results (
    job_key    text PRIMARY KEY,
    result     text NOT NULL,
    worker     text NOT NULL,
    seconds    real NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS bootcamp_grading_failures (
    id         bigserial PRIMARY KEY,
    job_key    text NOT NULL,
    worker     text NOT NULL,
    error      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS bootcamp_grading_failures_key ON bootcamp_grading_failures (job_key);
"""

T = TypeVar("T")


def check_url(url: str) -> str:
    if not url.startswith(("postgresql://", "postgres://")):
        raise UserError(
            f"--queue must be a PostgreSQL URL such as postgresql://user:password@host:5432/bootcamp, "
            f"not {url!r}"
        )
    return url


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(check_url(url), autocommit=True, connect_timeout=10)


def with_retry(url: str, action: Callable[[psycopg.Connection], T], patience_s: float = 120.0) -> T:
    """Runs `action` on a fresh connection, reconnecting while the database is away (a restart, a
    fail-over) for up to `patience_s`; the queue's writes are idempotent, so repeating one is safe."""
    deadline = time.monotonic() + patience_s
    delay = 0.2
    while True:
        try:
            with connect(url) as conn:
                return action(conn)
        except psycopg.OperationalError as error:
            if time.monotonic() > deadline:
                raise
            log.warning("queue database unreachable (%s); trying again in %.1f s", str(error).strip(), delay)
            time.sleep(delay)
            delay = min(delay * 2, 3.0)


def ensure_schema(url: str) -> None:
    """procrastinate's schema and ours, created once; safe to call from every process at start-up."""

    def create(conn: psycopg.Connection) -> None:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is None:
                conn.execute(SchemaManager.get_schema())
            conn.execute(OUR_TABLES)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))

    with_retry(url, create, patience_s=30.0)


def make_app(url: str) -> procrastinate.App:
    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=check_url(url)))


# -- archives -------------------------------------------------------------------------------------------
def put_archive(conn: psycopg.Connection, sha256: str, content: bytes) -> None:
    conn.execute(
        "INSERT INTO bootcamp_grading_archives (sha256, content) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (sha256, content),
    )


def has_archive(conn: psycopg.Connection, sha256: str) -> bool:
    row = conn.execute("SELECT 1 FROM bootcamp_grading_archives WHERE sha256 = %s", (sha256,)).fetchone()
    return row is not None


def get_archive(conn: psycopg.Connection, sha256: str) -> bytes | None:
    row = conn.execute(
        "SELECT content FROM bootcamp_grading_archives WHERE sha256 = %s", (sha256,)
    ).fetchone()
    return bytes(row[0]) if row else None


# -- results and failures ---------------------------------------------------------------------------------
def put_result(conn: psycopg.Connection, job_key: str, result: str, worker: str, seconds: float) -> bool:
    """Records a job's result; False when an earlier delivery already did (that one stands)."""
    cursor = conn.execute(
        "INSERT INTO bootcamp_grading_results (job_key, result, worker, seconds) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (job_key) DO NOTHING",
        (job_key, result, worker, seconds),
    )
    return cursor.rowcount == 1


def has_result(conn: psycopg.Connection, job_key: str) -> bool:
    row = conn.execute("SELECT 1 FROM bootcamp_grading_results WHERE job_key = %s", (job_key,)).fetchone()
    return row is not None


def put_failure(conn: psycopg.Connection, job_key: str, worker: str, error: str) -> None:
    conn.execute(
        "INSERT INTO bootcamp_grading_failures (job_key, worker, error) VALUES (%s, %s, %s)",
        (job_key, worker, error[:2000]),
    )


def last_failure(conn: psycopg.Connection, job_key: str) -> str:
    row = conn.execute(
        "SELECT worker, error FROM bootcamp_grading_failures WHERE job_key = %s ORDER BY id DESC LIMIT 1",
        (job_key,),
    ).fetchone()
    return f"{row[1]} (on {row[0]})" if row else "no error was recorded (the worker may have been killed)"


# -- housekeeping ---------------------------------------------------------------------------------------------
KEEP_RESULTS_H = 48  # a result is read within seconds of being written; two days covers any outage
KEEP_ARCHIVES_H = 24 * 7  # an archive is reused by every submission of its assignment, then not needed
KEEP_FAILURES_H = 24 * 30  # the dead-letter list shows them; a month is long enough to look


def prune(conn: psycopg.Connection) -> dict[str, int]:
    """Deletes what nobody will read again: old results and failures, archives no waiting job needs.
    Workers call it now and then, so the tables stay the size of the recent workload."""
    removed = {
        "results": conn.execute(
            "DELETE FROM bootcamp_grading_results WHERE created_at < now() - make_interval(hours => %s)",
            (KEEP_RESULTS_H,),
        ).rowcount,
        "failures": conn.execute(
            "DELETE FROM bootcamp_grading_failures WHERE created_at < now() - make_interval(hours => %s)",
            (KEEP_FAILURES_H,),
        ).rowcount,
        "archives": conn.execute(
            "DELETE FROM bootcamp_grading_archives a WHERE created_at < now() - make_interval(hours => %s) "
            "AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.status IN ('todo', 'doing') "
            "AND j.args->>'files_sha256' = a.sha256)",
            (KEEP_ARCHIVES_H,),
        ).rowcount,
    }
    return removed
