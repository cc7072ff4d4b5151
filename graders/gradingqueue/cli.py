"""`bootcamp grading-worker` (run jobs on this host) and `bootcamp grading-queue` (what the queue holds)."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

from graders.sandbox import BACKENDS, DEFAULT_BACKEND

QUEUE_HELP = (
    "the PostgreSQL grading queue, postgresql://user:password@host:5432/db (default: $BOOTCAMP_QUEUE_URL)"
)


def _queue_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--queue", metavar="URL", default=os.environ.get("BOOTCAMP_QUEUE_URL"), help=QUEUE_HELP
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    worker = subparsers.add_parser(
        "grading-worker",
        help="run queued grading jobs in this host's sandboxes (one per grading host)",
        description=(
            "Takes grading jobs from the PostgreSQL queue and runs each in a sandbox on this host (the Docker "
            "backend with its warm pool, or gVisor). Stop it with SIGTERM or Ctrl-C: it finishes what it runs."
        ),
    )
    _queue_argument(worker)
    worker.add_argument(
        "--sandbox",
        choices=sorted(BACKENDS),
        default=DEFAULT_BACKEND,
        help="isolation backend on this host: "
        + "; ".join(f"{b.name}: {b.summary}" for b in BACKENDS.values()),
    )
    worker.add_argument(
        "--concurrency", type=int, default=os.cpu_count() or 1, help="jobs at once (default: cores)"
    )
    worker.add_argument(
        "--name", default="", help="this worker's name in results and failures (default: host:pid)"
    )
    worker.add_argument("--cache-dir", type=Path, default=None, help="where fetched data archives are kept")
    worker.add_argument(
        "--allow-image",
        action="append",
        default=[],
        metavar="PATTERN",
        help="also run images matching this glob (repeatable; always allowed: bootcamp-grader*, bootcamp-course-*)",
    )
    worker.set_defaults(func=run_worker)

    queue = subparsers.add_parser("grading-queue", help="the grading queue: workers, jobs and dead letters")
    commands = queue.add_subparsers(dest="queue_command", metavar="SUBCOMMAND")
    queue.set_defaults(func=lambda args: queue.print_help() or 2)
    status = commands.add_parser("status", help="live workers, jobs by state, and the dead-letter list")
    _queue_argument(status)
    status.add_argument("--limit", type=int, default=20, help="dead letters to list (newest first)")
    status.set_defaults(func=run_status)
    retry = commands.add_parser("retry", help="put a dead-lettered job back in the queue")
    _queue_argument(retry)
    retry.add_argument("job_id", type=int, help="the job's id from `grading-queue status`")
    retry.set_defaults(func=run_retry)


def _require_queue(args: argparse.Namespace) -> str:
    from graders.errors import UserError
    from graders.gradingqueue.store import check_url

    if not args.queue:
        raise UserError(
            "no queue given: pass --queue postgresql://user:password@host/db or set BOOTCAMP_QUEUE_URL"
        )
    return check_url(args.queue)


def run_worker(args: argparse.Namespace) -> int:
    from graders.errors import UserError
    from graders.gradingqueue.worker import WorkerOptions, run_worker

    url = _require_queue(args)
    if args.concurrency < 1:
        raise UserError("--concurrency must be at least 1")
    if BACKENDS[args.sandbox].warning:
        Console(stderr=True).print(f"[bold red]WARNING:[/] {BACKENDS[args.sandbox].warning}")
    logging.getLogger("graders").setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.INFO)
    run_worker(
        WorkerOptions(
            url=url,
            sandbox=args.sandbox,
            concurrency=args.concurrency,
            name=args.name,
            cache_dir=args.cache_dir,
            allowed_images=(*WorkerOptions.allowed_images, *args.allow_image),
        )
    )
    return 0


def run_status(args: argparse.Namespace) -> int:
    from graders.gradingqueue.inspect import queue_status

    state = queue_status(_require_queue(args), limit=args.limit)
    console = Console()
    console.print(
        f"live workers: {state.live_workers}   jobs: "
        + ", ".join(f"{k} {v}" for k, v in state.counts.items())
    )
    if not state.dead_letters:
        console.print("dead letters: none")
        return 0
    table = Table(title=f"dead letters ({len(state.dead_letters)} shown): grading failed on every try")
    for column in ("job", "submission", "deliveries", "last error"):
        table.add_column(column)
    for letter in state.dead_letters:
        table.add_row(str(letter.job_id), letter.label, str(letter.deliveries), letter.error)
    console.print(table)
    console.print(
        "Fix the cause (see the error), then `bootcamp grading-queue retry JOB` or grade the submission again."
    )
    return 1


def run_retry(args: argparse.Namespace) -> int:
    from graders.gradingqueue.inspect import retry_dead_letter

    retry_dead_letter(_require_queue(args), args.job_id)
    print(f"job {args.job_id} is queued again")
    return 0
