"""What the grading queue holds, for instructors: live workers, jobs by state, the dead letters."""

from __future__ import annotations

from dataclasses import dataclass, field

from graders.errors import UserError
from graders.gradingqueue import store
from graders.gradingqueue.worker import STALL_S


@dataclass
class DeadLetter:
    job_id: int
    label: str  # assignment/student
    deliveries: int  # procrastinate counts a finished delivery as an attempt
    error: str


@dataclass
class QueueStatus:
    live_workers: int
    counts: dict[str, int] = field(default_factory=dict)
    dead_letters: list[DeadLetter] = field(default_factory=list)


def queue_status(url: str, limit: int = 20) -> QueueStatus:
    store.ensure_schema(url)
    with store.connect(url) as conn:
        live = conn.execute(
            "SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - make_interval(secs => %s)",
            (STALL_S,),
        ).fetchone()[0]
        counts = dict(
            conn.execute(
                "SELECT status::text, count(*) FROM procrastinate_jobs WHERE queue_name = %s GROUP BY 1 ORDER BY 1",
                (store.QUEUE,),
            ).fetchall()
        )
        rows = conn.execute(
            "SELECT id, args->>'key', args->>'label', attempts FROM procrastinate_jobs "
            "WHERE queue_name = %s AND status = 'failed' ORDER BY id DESC LIMIT %s",
            (store.QUEUE, limit),
        ).fetchall()
        letters = [
            DeadLetter(job_id, label or "?", attempts, store.last_failure(conn, key or ""))
            for job_id, key, label, attempts in rows
        ]
    return QueueStatus(live_workers=live, counts=counts, dead_letters=letters)


def retry_dead_letter(url: str, job_id: int) -> None:
    with store.connect(url) as conn:
        updated = conn.execute(
            "UPDATE procrastinate_jobs SET status = 'todo', attempts = 0, scheduled_at = NULL "
            "WHERE id = %s AND status = 'failed'",
            (job_id,),
        ).rowcount
    if not updated:
        raise UserError(f"job {job_id} is not in the dead-letter list (see `bootcamp grading-queue status`)")
