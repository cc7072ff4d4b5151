"""`bootcamp autograde`: argument parsing, a progress bar and the summary table."""

from __future__ import annotations

import argparse
import os
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from graders.autograde.pipeline import AutogradeOptions, AutogradeReport, SubmissionResult, autograde
from graders.errors import UserError
from graders.sandbox import BACKENDS, DEFAULT_BACKEND

STATUS_STYLE = {
    "graded": "green",
    "flagged": "bold red",
    "failed": "yellow",
    "error": "bold magenta",
    "skipped": "dim",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "autograde",
        help="grade submissions of an nbgrader assignment in a sandbox",
        description=(
            "Autograde submitted/<student>/ASSIGNMENT of a stock nbgrader course. Writes autograded/ and the "
            "gradebook exactly like `nbgrader autograde`, but runs student code in a locked-down sandbox."
        ),
    )
    parser.add_argument("assignment", help="the nbgrader assignment id")
    parser.add_argument("--course-dir", default=".", help="the nbgrader course directory (default: current)")
    parser.add_argument(
        "--student",
        action="append",
        metavar="ID",
        help="grade only this student (repeatable; glob patterns allowed)",
    )
    parser.add_argument(
        "--jobs", "-j", type=int, default=None, help="submissions graded at once (default: cores)"
    )
    parser.add_argument(
        "--sandbox",
        choices=sorted(BACKENDS),
        default=DEFAULT_BACKEND,
        help="isolation backend: "
        + "; ".join(f"{b.name}: {b.summary} ({b.isolation})" for b in BACKENDS.values()),
    )
    parser.add_argument("--image", default=None, help="grading image (default: bootcamp-grader:latest)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per cell (default: course's Execute.timeout or 30)",
    )
    parser.add_argument(
        "--notebook-timeout", type=float, default=None, help="seconds per notebook (default: 600)"
    )
    parser.add_argument(
        "--memory", type=int, default=1536, help="memory limit per sandbox in MB (default: 1536)"
    )
    parser.add_argument(
        "--force", action="store_true", help="regrade submissions that are already autograded"
    )
    parser.add_argument(
        "--queue",
        metavar="URL",
        default=os.environ.get("BOOTCAMP_QUEUE_URL") or None,
        help="grade through the PostgreSQL grading queue at URL (postgresql://user:pw@host/db; default: "
        "$BOOTCAMP_QUEUE_URL): jobs run on hosts running `bootcamp grading-worker`, --jobs defaults to 32",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON (for scripts)")
    parser.set_defaults(func=run)

    image = subparsers.add_parser("image", help="grading images for courses with their own packages")
    image_commands = image.add_subparsers(dest="image_command", metavar="SUBCOMMAND")
    image.set_defaults(func=lambda args: image.print_help() or 2)
    build = image_commands.add_parser(
        "build",
        help="build the course's grading image from its requirements.txt ahead of grading",
        description=(
            "Builds (or finds) the grading image for a course whose directory holds requirements.txt beside "
            "nbgrader_config.py: the grading image plus those packages, once per content hash."
        ),
    )
    build.add_argument("--course-dir", default=".", help="the nbgrader course directory (default: current)")
    build.add_argument("--base", default="bootcamp-grader:latest", help="image to add the packages to")
    build.set_defaults(func=run_image_build)


def run_image_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from graders.course_image import REQUIREMENTS_FILE, course_image

    root = Path(args.course_dir).expanduser().resolve()
    if not root.is_dir():
        raise UserError(f"course directory {root} does not exist")
    found = course_image(root, args.base)
    if found is None:
        print(f"{root} has no {REQUIREMENTS_FILE} (or it lists nothing): grading uses {args.base} as it is")
        return 0
    state = "built" if found.built else "already built, reused"
    print(f"{found.tag}: {state} ({found.base} + {', '.join(found.requirements)})")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.jobs is not None and args.jobs < 1:
        print("bootcamp: error: --jobs must be at least 1", file=sys.stderr)
        return 2
    options = AutogradeOptions(
        sandbox=args.sandbox,
        image=args.image,
        jobs=args.jobs,
        cell_timeout=args.timeout,
        notebook_timeout=args.notebook_timeout,
        memory_mb=args.memory,
        force=args.force,
        queue_url=args.queue,
    )
    console = Console(stderr=True)
    if BACKENDS[args.sandbox].warning and not args.queue:
        console.print(f"[bold red]WARNING:[/] {BACKENDS[args.sandbox].warning}")
    if args.json:
        report = autograde(args.course_dir, args.assignment, args.student, options)
        print(report.to_json())
        return exit_code(report)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
        console=console,
        transient=False,
        disable=not console.is_terminal and os.environ.get("CI") == "true",
    )
    state: dict = {}

    def on_start(students: list[str]) -> None:
        state["task"] = progress.add_task(f"grading {args.assignment}", total=len(students), last="")

    def on_result(result: SubmissionResult) -> None:
        style = STATUS_STYLE.get(result.status, "")
        progress.update(state["task"], advance=1, last=f"[{style}]{result.student}: {result.status}[/]")

    with progress:
        report = autograde(
            args.course_dir, args.assignment, args.student, options, progress=on_result, on_start=on_start
        )
    print_summary(report, Console())
    return exit_code(report)


def exit_code(report: AutogradeReport) -> int:
    """1 only when grading itself failed for someone; bad submissions are the trainees' results."""
    return 1 if any(result.status == "error" for result in report.results) else 0


def print_summary(report: AutogradeReport, console: Console) -> None:
    for warning in report.warnings:
        console.print(f"[bold yellow]warning:[/] {warning}")
    if not report.results:
        return
    table = Table(
        title=f"{report.assignment}: {len(report.results)} submission(s) in {report.seconds:.1f} s ({report.sandbox})"
    )
    table.add_column("student")
    table.add_column("status")
    table.add_column("score", justify="right")
    table.add_column("late", justify="right")
    table.add_column("time", justify="right")
    table.add_column("reasons and events")
    for result in report.results:
        score = "-" if result.score is None else f"{result.score:g} / {result.max_score:g}"
        late = f"-{result.late_penalty:g}" if result.late_penalty else ""
        notes = "; ".join(
            result.reasons
            + result.events
            + [m for m in result.messages if "late" in m or "missing" in m.lower()]
        )
        style = STATUS_STYLE.get(result.status, "")
        table.add_row(
            result.student, f"[{style}]{result.status}[/]", score, late, f"{result.seconds:.1f}s", notes
        )
    console.print(table)
