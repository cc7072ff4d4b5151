"""`QueueSandbox`: a Sandbox whose jobs run on grading hosts, reached through the PostgreSQL queue.

`bootcamp autograde --queue URL` and the hub's grading service pass it where they would pass a local
sandbox; nothing else in the pipeline changes. Each `run(job)` uploads the job's data files as a
content-hashed archive (once per content), defers a procrastinate job and blocks until a worker's
result arrives; the result is validated here against the job, exactly like a local sandbox's result,
because this side holds the expected values and the trust boundary. One thread watches every job in
flight with one query per poll, so 200 waiting submissions cost one query, not 200.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field

import psycopg

from graders.gradingqueue import archive, store
from graders.sandbox import Job, Limits, SandboxError, SandboxResult, SandboxUnavailable, validate_result

log = logging.getLogger(__name__)

POLL_S = 0.25
# a job waits this long with no live worker before grading is said to be unavailable
NO_WORKER_S = float(os.environ.get("BOOTCAMP_QUEUE_NO_WORKER_S", "60"))
LIVE_HEARTBEAT_S = 30.0  # a worker whose heartbeat is older than this is gone (see worker.STALL_S)
DATABASE_PATIENCE_S = 180.0  # how long the queue database may be away before waiting jobs give up


@dataclass
class _Waiting:
    procrastinate_id: int
    done: threading.Event = field(default_factory=threading.Event)
    raw: str | None = None
    error: SandboxError | None = None


class QueueSandbox:
    """Runs jobs on `bootcamp grading-worker` hosts; see the module docstring."""

    name = "queue"
    isolation = "strong"

    def __init__(self, url: str, image: str, limits: Limits) -> None:
        self.url = store.check_url(url)
        self.image = image
        self.limits = limits
        store.ensure_schema(self.url)
        self.app = store.make_app(self.url)
        self.app.open()
        self._lock = threading.Lock()
        self._waiting: dict[str, _Waiting] = {}
        self._uploaded: set[str] = set()
        self._closed = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="queue-watch", daemon=True)
        self._watcher.start()

    # -- the Sandbox interface --------------------------------------------------------------------------
    def run(self, job: Job) -> SandboxResult:
        if self._closed.is_set():
            raise SandboxUnavailable("the grading queue was closed")
        key = uuid.uuid4().hex
        sha256, data = archive.pack(job.files)
        try:
            self._upload(sha256, data)
            procrastinate_id = self.app.configure_task(store.TASK, queue=store.QUEUE).defer(
                key=key,
                label=job.label,
                cells=job.cells,
                checks=job.checks,
                probe=job.probe,
                files_sha256=sha256,
                image=self.image,
                limits=asdict(self.limits),
            )
        except (psycopg.Error, OSError) as error:
            raise SandboxUnavailable(f"could not queue the job at {self._where()}: {error}") from None
        waiting = _Waiting(procrastinate_id)
        with self._lock:
            self._waiting[key] = waiting
        try:
            while not waiting.done.wait(1.0):
                if self._closed.is_set():
                    raise SandboxUnavailable("the grading queue was closed while the job waited")
        finally:
            with self._lock:
                self._waiting.pop(key, None)
        if waiting.error is not None:
            self._cancel([procrastinate_id])  # given up on: no host should grade it for nobody
            raise waiting.error
        return self._accept(waiting.raw or "", job)

    def close(self) -> None:
        """Stops waiting; jobs not yet started are cancelled so that no host grades them for nobody."""
        if self._closed.is_set():
            return
        self._closed.set()
        with self._lock:
            ids = [w.procrastinate_id for w in self._waiting.values()]
        self._cancel(ids)
        self._watcher.join(timeout=5)
        self.app.close()

    def __enter__(self) -> QueueSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers ------------------------------------------------------------------------------------------
    def _cancel(self, ids: list[int]) -> None:
        """Takes back jobs no worker has started (a job already running finishes; its result is unread)."""
        if not ids:
            return
        try:
            with store.connect(self.url) as conn:
                conn.execute(
                    "UPDATE procrastinate_jobs SET status = 'cancelled' WHERE id = ANY(%s) AND status = 'todo'",
                    (ids,),
                )
        except psycopg.Error as error:
            log.warning("could not cancel %d queued job(s): %s", len(ids), error)

    def _where(self) -> str:
        return self.url.rsplit("@", 1)[-1]  # never print the password

    def _upload(self, sha256: str, data: bytes) -> None:
        if sha256 in self._uploaded:
            return
        with store.connect(self.url) as conn:
            if not store.has_archive(conn, sha256):
                store.put_archive(conn, sha256, data)
        self._uploaded.add(sha256)

    def _accept(self, raw: str, job: Job) -> SandboxResult:
        """A worker's answer, {"result": ...} or {"sandbox_error": "..."}; the runner's result is
        validated here against the job, as a local sandbox's result is."""
        try:
            answer = json.loads(raw)
        except ValueError:
            raise SandboxError("the grading worker returned invalid JSON") from None
        if isinstance(answer, dict) and isinstance(answer.get("sandbox_error"), str):
            raise SandboxError(answer["sandbox_error"])
        if not isinstance(answer, dict) or "result" not in answer:
            raise SandboxError("the grading worker returned an answer of an unknown shape")
        return validate_result(json.dumps(answer["result"]).encode(), job, self.limits)

    def _watch(self) -> None:
        """One loop for all jobs in flight: results, dead letters, no workers, the database away."""
        conn: psycopg.Connection | None = None
        unreachable_since: float | None = None
        no_worker_since: float | None = None
        while not self._closed.wait(POLL_S):
            with self._lock:
                waiting = dict(self._waiting)
            if not waiting:
                continue
            try:
                if conn is None or conn.closed:
                    conn = store.connect(self.url)
                self._poll(conn, waiting)
                live = conn.execute(
                    "SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - make_interval(secs => %s)",
                    (LIVE_HEARTBEAT_S,),
                ).fetchone()[0]
                unreachable_since = None
            except psycopg.Error as error:
                if conn is not None:
                    conn.close()
                conn = None
                unreachable_since = unreachable_since or time.monotonic()
                if time.monotonic() - unreachable_since > DATABASE_PATIENCE_S:
                    self._fail_all(waiting, SandboxUnavailable(f"the queue database is unreachable: {error}"))
                continue
            no_worker_since = None if live else (no_worker_since or time.monotonic())
            if no_worker_since and time.monotonic() - no_worker_since > NO_WORKER_S:
                self._fail_all(
                    waiting,
                    SandboxUnavailable(
                        f"no grading worker has been connected to the queue at {self._where()} for "
                        f"{NO_WORKER_S:.0f} s: start `bootcamp grading-worker --queue URL` on a grading host"
                    ),
                )
        if conn is not None:
            conn.close()

    def _poll(self, conn: psycopg.Connection, waiting: dict[str, _Waiting]) -> None:
        keys = list(waiting)
        for key, raw in conn.execute(
            "SELECT job_key, result FROM bootcamp_grading_results WHERE job_key = ANY(%s)", (keys,)
        ).fetchall():
            waiting[key].raw = raw
            waiting[key].done.set()
        by_id = {w.procrastinate_id: key for key, w in waiting.items() if not w.done.is_set()}
        if not by_id:
            return
        for job_id, status, attempts in conn.execute(
            "SELECT id, status::text, attempts FROM procrastinate_jobs WHERE id = ANY(%s)", (list(by_id),)
        ).fetchall():
            if status in ("failed", "cancelled", "aborted"):
                key = by_id[job_id]
                if store.has_result(conn, key):
                    continue  # finished between the two queries: the next poll reads it
                why = store.last_failure(conn, key)
                waiting[key].error = SandboxUnavailable(
                    f"grading job {job_id} is in the dead-letter list ({status} after {attempts} "
                    f"deliveries): {why}"
                )
                waiting[key].done.set()

    def _fail_all(self, waiting: dict[str, _Waiting], error: SandboxError) -> None:
        for item in waiting.values():
            if not item.done.is_set():
                item.error = error
                item.done.set()
