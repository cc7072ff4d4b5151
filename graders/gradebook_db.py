"""Where gradebooks live when they are not SQLite files: one PostgreSQL database, one schema per course.

nbgrader's FAQ asks for PostgreSQL when several graders share a gradebook. `BOOTCAMP_GRADEBOOK_URL`
(postgresql://user:password@host/db) names the database; each cohort's gradebook is a schema in it
(`gradebook_<cohort>`), reached through a connection option that sets the search path, so nbgrader's
own tables keep their names and every nbgrader tool (formgrader, export, autograde) works unchanged
from the `c.CourseDirectory.db_url` that `bootcamp cohort create` writes.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from graders.errors import UserError


def sqlalchemy_url(url: str) -> str:
    """SQLAlchemy's name for a PostgreSQL URL with the psycopg 3 driver we install (it would otherwise
    look for psycopg2); other URLs pass unchanged."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def schema_name(course_id: str) -> str:
    return "gradebook_" + re.sub(r"[^a-z0-9_]", "_", course_id.lower())[:50]


def postgres_gradebook_url(base_url: str, course_id: str) -> str:
    """The gradebook URL of one course in the PostgreSQL database `base_url`; creates its schema."""
    import psycopg

    if not base_url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        raise UserError(
            f"BOOTCAMP_GRADEBOOK_URL must be a PostgreSQL URL (postgresql://user:password@host/db), not {base_url!r}"
        )
    if "?" in base_url:
        raise UserError(
            "BOOTCAMP_GRADEBOOK_URL must not carry options (?...): each course sets its own search path"
        )
    schema = schema_name(course_id)
    try:
        with psycopg.connect(libpq_url(base_url), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    except psycopg.Error as error:
        raise UserError(f"could not create the gradebook schema {schema}: {error}") from None
    return sqlalchemy_url(base_url) + "?options=" + quote(f"-csearch_path={schema}", safe="")
