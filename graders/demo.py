"""`bootcamp demo`: the main job on embedded defaults. Builds a small nbgrader course, makes trainee
submissions (right, partly right, wrong, broken, endless), grades them in the sandbox, writes feedback
and seeds the demo cohorts that the reports read. Safe to run again: it starts from scratch each time.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from rich.console import Console
from rich.table import Table

from graders import demo_course
from graders.autograde import AutogradeOptions, autograde
from graders.autograde.cli import print_summary
from graders.sandbox import BACKENDS
from graders.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="build, grade and report a small demo course (the quick start's main job)",
        description="Builds a demo nbgrader course, grades five trainee submissions in the sandbox, writes "
        "feedback, and seeds the demo cohorts for `bootcamp report`.",
    )
    parser.add_argument(
        "--sandbox", choices=sorted(BACKENDS), default=None, help="default: docker if it answers"
    )
    parser.add_argument("--no-cohorts", action="store_true", help="skip seeding the demo cohorts")
    parser.set_defaults(func=run)


def _pick_sandbox(requested: str | None, console: Console) -> str:
    if requested:
        return requested
    try:
        from graders.sandbox.docker_backend import docker_client

        docker_client()
        return "docker"
    except Exception as error:  # noqa: BLE001 - any failure means: no usable engine
        console.print(
            f"[bold red]WARNING:[/] no Docker engine ({error}); grading with the WEAKER local sandbox."
        )
        return "local"


def _feedback(course: Path) -> Path:
    """Feedback as `bootcamp feedback --course-dir` makes it: hidden tests removed, HTML only."""
    from graders.programme.feedback import generate_course_feedback

    generate_course_feedback(course, demo_course.ASSIGNMENT)
    return course / "feedback"


def run(args: argparse.Namespace) -> int:
    console = Console()
    settings = Settings.load()
    course = settings.home / "demo-course"
    if course.exists():
        shutil.rmtree(course)
    console.print(f"[bold]1.[/] Building the demo course with stock nbgrader in {course}")
    demo_course.create_course(course, extra_config="c.Execute.timeout = 5\n")
    kinds = demo_course.build_demo_submissions(course)
    console.print("[bold]2.[/] Trainee submissions: " + ", ".join(f"{s} ({k})" for s, k in kinds.items()))
    sandbox = _pick_sandbox(args.sandbox, console)
    console.print(f"[bold]3.[/] Grading them in the {sandbox} sandbox")
    report = autograde(course, demo_course.ASSIGNMENT, options=AutogradeOptions(sandbox=sandbox, force=True))
    print_summary(report, console)
    feedback = _feedback(course)
    table = Table(title="Feedback files (hidden tests removed)")
    table.add_column("trainee")
    table.add_column("file")
    for page in sorted(feedback.glob(f"*/{demo_course.ASSIGNMENT}/*.html")):
        table.add_row(page.parts[-3], str(page))
    console.print(table)
    console.print(f"Gradebook: {course / 'gradebook.db'} (try: cd {course} && nbgrader export)")
    if not args.no_cohorts:
        from graders.programme.demo import seed_demo

        seed_demo(settings)
        console.print("[bold]4.[/] Seeded the demo cohorts. Try:")
        console.print("   bootcamp report progress --cohort demo --format html --output progress.html")
        console.print("   bootcamp report outcomes --all --format html --output outcomes.html")
    failures = [r for r in report.results if r.status == "error"]
    return 1 if failures else 0
