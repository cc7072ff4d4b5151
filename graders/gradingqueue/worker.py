"""`bootcamp grading-worker`: runs queued grading jobs in this host's sandboxes.

Each grading host runs one worker with today's Docker backend and warm pool (or gVisor). procrastinate
hands out jobs with `FOR UPDATE SKIP LOCKED`, so two workers never take the same job, and records a
heartbeat for every worker. Jobs of a worker whose heartbeat stops (killed, host lost) are redelivered
by the other workers' recovery loop, at most MAX_DELIVERIES times in all; a job that fails that often
is left `failed`: the dead letter instructors see in `bootcamp grading-queue status`. A result is
written once per job key, so a job graded twice is recorded once. When the database goes away the
worker finishes what it runs, then reconnects.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import procrastinate
import psycopg
from procrastinate import RetryStrategy

from graders.gradingqueue import archive, store
from graders.sandbox import Job, Limits, LongLivedSandboxes, SandboxError, SandboxUnavailable

log = logging.getLogger(__name__)

HEARTBEAT_S = 2.0  # how often a worker says it is alive
STALL_S = 10.0  # a worker silent this long is gone; its jobs are redelivered
RECOVERY_EVERY_S = 3.0
MAX_DELIVERIES = 3  # a job is tried this often (worker errors and lost workers together), then dead-lettered
RECONNECT_S = 2.0
PRUNE_EVERY_S = 600.0
KEEP_JOBS_H = 24 * 7  # finished jobs (not dead letters) are kept a week for `grading-queue status`


@dataclass
class WorkerOptions:
    url: str
    sandbox: str = "docker"  # a name in graders.sandbox.BACKENDS: docker, gvisor (or local, for development)
    concurrency: int = 2  # jobs at once on this host (one per core is a good start)
    name: str = ""  # shown in results and failures; default host:pid
    cache_dir: Path | None = None  # where fetched file archives are kept
    # images this host will run (glob patterns): whoever can write to the queue database cannot make a
    # grading host start an arbitrary image; course images are bootcamp-course-<hash>
    allowed_images: tuple[str, ...] = ("bootcamp-grader*", "bootcamp-course-*")


class GradingWorker:
    """One host's worker: the procrastinate task, the recovery loop and the reconnect loop."""

    def __init__(self, options: WorkerOptions) -> None:
        self.options = options
        self.url = store.check_url(options.url)
        self.name = options.name or f"{socket.gethostname()}:{os.getpid()}"
        cache = options.cache_dir or Path.home() / ".cache" / "bootcamp" / "grading-archives"
        self.archives = archive.ArchiveCache(cache)
        # one warm pool per (image, limits), kept for the worker's lifetime, as the hub keeps its own
        self.sandboxes = LongLivedSandboxes(pool_size=options.concurrency)
        self._sandboxes_lock = threading.Lock()
        self.app = store.make_app(self.url)
        self.app.task(
            name=store.TASK,
            queue=store.QUEUE,
            pass_context=True,
            retry=RetryStrategy(max_attempts=MAX_DELIVERIES - 1, wait=1),
        )(self.grade)
        self._stop = asyncio.Event()

    # -- the task ------------------------------------------------------------------------------------------
    def grade(self, context: procrastinate.JobContext, *, key: str, label: str, cells: list, checks: list,
              probe: bool, files_sha256: str, image: str, limits: dict) -> None:  # fmt: skip
        """Runs one job and stores its result. A sandbox that cannot start here is retried (perhaps on
        another host); a sandbox error caused by the notebook is that notebook's result, not retried."""
        started = time.monotonic()
        if store.with_retry(self.url, lambda conn: store.has_result(conn, key)):
            log.info("%s (%s) was already graded by an earlier delivery", key, label)
            return
        limits_ = Limits(**limits)
        try:
            if not any(fnmatch.fnmatchcase(image, pattern) for pattern in self.options.allowed_images):
                raise SandboxUnavailable(
                    f"image {image!r} is not one this grading host runs (allowed: "
                    f"{', '.join(self.options.allowed_images)}; start the worker with --allow-image to add one)"
                )
            files = self._files(files_sha256)
            job = Job(cells=cells, files=files, probe=probe, checks=checks, label=label)
            with self._sandboxes_lock:  # jobs run in procrastinate's threads; one warm pool per kind
                sandbox = self.sandboxes.get(self.options.sandbox, image, limits_)
            try:
                raw = json.dumps({"result": sandbox.run(job)})
            except SandboxUnavailable:
                with self._sandboxes_lock:
                    self.sandboxes.discard(self.options.sandbox, image, limits_)  # a fresh one for the retry
                raise
            except SandboxError as error:  # the notebook broke its sandbox: its result, not ours to retry
                raw = json.dumps({"sandbox_error": str(error)})
        except SandboxUnavailable as error:
            self._record_failure(key, str(error))
            log.warning("%s (%s): no sandbox on this host: %s", key, label, error)
            raise
        except Exception as error:
            self._record_failure(key, f"{type(error).__name__}: {error}")
            raise
        seconds = round(time.monotonic() - started, 2)
        first = store.with_retry(self.url, lambda conn: store.put_result(conn, key, raw, self.name, seconds))
        log.info("%s (%s) graded in %.1f s%s", key, label, seconds, "" if first else " (duplicate dropped)")

    def _record_failure(self, key: str, error: str) -> None:
        store.with_retry(self.url, lambda conn: store.put_failure(conn, key, self.name, error))

    def _files(self, sha256: str) -> dict[str, bytes]:
        data = self.archives.get(sha256)
        if data is None:
            data = store.with_retry(self.url, lambda conn: store.get_archive(conn, sha256))
            if data is None:
                raise SandboxError(f"the job's file archive {sha256[:12]} is not in the queue database")
            self.archives.put(sha256, data)
        return archive.unpack(sha256, data)

    # -- redelivery of lost workers' jobs --------------------------------------------------------------------
    async def recover_stalled(self) -> int:
        """Puts the jobs of workers that stopped sending heartbeats back in the queue, or into the dead
        letters once they were delivered MAX_DELIVERIES times. Every worker runs this; the row update
        is conditional on the job still being `doing`, so two workers recovering at once do no harm."""
        moved = 0
        manager = self.app.job_manager
        for job in await manager.get_stalled_jobs(queue=store.QUEUE, seconds_since_heartbeat=STALL_S):
            key = job.task_kwargs.get("key", "?")
            if (job.attempts or 0) + 1 >= MAX_DELIVERIES:
                await self.app.connector.execute_query_async(
                    "UPDATE procrastinate_jobs SET status = 'failed', attempts = attempts + 1 "
                    "WHERE id = %(id)s AND status = 'doing'",
                    id=job.id,
                )
                log.error("job %s (%s) lost its worker %d times: dead-lettered", job.id, key, MAX_DELIVERIES)
            else:
                await manager.retry_job(job)
                log.warning("job %s (%s) lost its worker (no heartbeat for %.0f s): redelivered", job.id, key,
                            STALL_S)  # fmt: skip
            await asyncio.to_thread(
                store.with_retry, self.url,
                lambda conn, key=key: store.put_failure(conn, key, "(lost worker)", "the worker grading it stopped "
                                                        "sending heartbeats (killed, or its host was lost)"),
            )  # fmt: skip
            moved += 1
        return moved

    async def prune(self) -> None:
        """Old finished jobs (procrastinate's own housekeeping; dead letters stay) and our old rows."""
        await self.app.job_manager.delete_old_jobs(
            nb_hours=KEEP_JOBS_H, queue=store.QUEUE, include_cancelled=True
        )
        removed = await asyncio.to_thread(store.with_retry, self.url, store.prune)
        if any(removed.values()):
            log.info("pruned the queue: %s", removed)

    async def _recovery_loop(self) -> None:
        next_prune = 0.0
        while not self._stop.is_set():
            try:
                await self.recover_stalled()
                if time.monotonic() >= next_prune:
                    await self.prune()
                    next_prune = time.monotonic() + PRUNE_EVERY_S
            except (psycopg.Error, OSError) as error:
                log.warning("could not check for lost workers: %s", error)
            try:
                await asyncio.wait_for(self._stop.wait(), RECOVERY_EVERY_S)
            except TimeoutError:
                pass

    # -- the loop --------------------------------------------------------------------------------------------
    async def serve(self) -> None:
        """Works until SIGTERM/SIGINT; a lost database connection is a pause, not an exit."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stop.set)
        await asyncio.to_thread(store.ensure_schema, self.url)
        log.info("grading worker %s: sandbox %s, %d at once, queue %s", self.name, self.options.sandbox,
                 self.options.concurrency, self.url.rsplit("@", 1)[-1])  # fmt: skip
        try:
            while not self._stop.is_set():
                try:
                    await self._serve_connected()
                except (psycopg.Error, OSError, procrastinate.exceptions.ProcrastinateException) as error:
                    log.warning("queue database unreachable (%s); reconnecting in %.0f s", error, RECONNECT_S)
                if not self._stop.is_set():
                    try:
                        await asyncio.wait_for(self._stop.wait(), RECONNECT_S)
                    except TimeoutError:
                        pass
        finally:
            await asyncio.to_thread(self.sandboxes.close)

    async def _serve_connected(self) -> None:
        async with self.app.open_async():
            worker = asyncio.create_task(
                self.app.run_worker_async(
                    queues=[store.QUEUE],
                    name=self.name,
                    concurrency=self.options.concurrency,
                    install_signal_handlers=False,
                    update_heartbeat_interval=HEARTBEAT_S,
                    stalled_worker_timeout=STALL_S,
                    fetch_job_polling_interval=1.0,
                )
            )
            recovery = asyncio.create_task(self._recovery_loop())
            stop = asyncio.create_task(self._stop.wait())
            try:
                await asyncio.wait({worker, stop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not worker.done():
                    worker.cancel()  # procrastinate then stops taking jobs and waits for those it runs
                recovery.cancel()
                stop.cancel()
                results = await asyncio.gather(worker, recovery, stop, return_exceptions=True)
            error = results[0]
            if isinstance(error, BaseException) and not isinstance(error, asyncio.CancelledError):
                raise error
            if not self._stop.is_set():
                log.warning("the worker loop ended (the database went away?); starting it again")


def run_worker(options: WorkerOptions) -> None:
    asyncio.run(GradingWorker(options).serve())
