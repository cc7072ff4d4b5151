"""Command-line entry points of graders.reports: `bootcamp report progress|outcomes`, `bootcamp export
grades|moodle`, `bootcamp transcript`."""

from __future__ import annotations

import argparse
from pathlib import Path

from graders.cli_helpers import command_group, date_arg, write_or_print
from graders.errors import UserError
from graders.settings import Settings

# --- reports --------------------------------------------------------------------------------------------


def _report_progress(args: argparse.Namespace) -> int:
    from graders.reports import render_tables
    from graders.reports.progress import build_progress

    settings = Settings.load()
    report = build_progress(
        settings,
        args.cohort,
        today=args.today,
        inactive_days=args.inactive_days,
        curriculum_dir=args.curriculum,
    )
    if args.format == "table":
        render_tables.print_renderable(render_tables.progress_table(report))
    elif args.format == "csv":
        write_or_print(render_tables.progress_csv(report), args.output, "Progress CSV")
    else:
        from graders.reports.render_html import render_progress

        output = args.output or report.cohort.reports_dir / f"progress-{report.today}.html"
        write_or_print(render_progress(report), output, "Progress report")
    return 0


def _report_outcomes(args: argparse.Namespace) -> int:
    from graders.reports import render_tables
    from graders.reports.outcomes import build_outcomes

    if bool(args.cohort) == bool(args.all):
        raise UserError("choose --cohort NAME or --all")
    settings = Settings.load()
    report = build_outcomes(settings, args.cohort, today=args.today)
    if args.format == "table":
        render_tables.print_renderable(render_tables.outcomes_table(report))
    elif args.format == "csv":
        write_or_print(render_tables.outcomes_csv(report), args.output, "Outcomes CSV")
    else:
        from graders.reports.render_html import render_outcomes

        scope = args.cohort or "all"
        output = args.output or settings.home / "reports" / f"outcomes-{scope}-{report.today}.html"
        write_or_print(render_outcomes(report), output, "Outcome report")
    return 0


def _export_grades(args: argparse.Namespace) -> int:
    from graders.reports.exports import grades_csv

    write_or_print(grades_csv(Settings.load(), args.cohort), args.output, "Gradebook CSV")
    return 0


def _export_moodle(args: argparse.Namespace) -> int:
    from graders.reports.exports import moodle_csv

    write_or_print(moodle_csv(Settings.load(), args.cohort), args.output, "Moodle grade import CSV")
    return 0


def _transcript(args: argparse.Namespace) -> int:
    from graders.programme.cohorts import load_cohort
    from graders.reports.transcript import build_transcript, write_transcript

    settings = Settings.load()
    transcript = build_transcript(settings, args.cohort, args.trainee, args.curriculum)
    output = (
        args.output
        or load_cohort(settings, args.cohort).reports_dir / f"transcript-{args.trainee}.{args.format}"
    )
    how = write_transcript(transcript, output, args.format)
    made_with = {
        "chromium": " (PDF printed by headless Chromium)",
        "matplotlib": " (plain PDF via matplotlib: Chromium not found)",
    }
    print(f"Transcript written to {output}{made_with.get(how, '')}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds this part's subcommands to `bootcamp`."""
    report = command_group(subparsers, "report", "progress and outcome reports")
    p = report.add_parser("progress", help="each trainee against the week plan, scores, at-risk trainees")
    p.add_argument("--cohort", required=True)
    p.add_argument("--format", choices=["table", "html", "csv"], default="table")
    p.add_argument("--output", type=Path, help="file to write (html default: cohorts/NAME/reports/)")
    p.add_argument("--inactive-days", type=int, default=7, help="flag trainees idle on the hub this long")
    p.add_argument("--curriculum", type=Path, help="curriculum folder (default: the checkout's curriculum/)")
    p.add_argument("--today", type=date_arg, help=argparse.SUPPRESS)
    p.set_defaults(func=_report_progress)
    p = report.add_parser("outcomes", help="participation, completion and employment; groups under 5 hidden")
    p.add_argument("--cohort")
    p.add_argument("--all", action="store_true")
    p.add_argument("--format", choices=["table", "html", "csv"], default="table")
    p.add_argument("--output", type=Path)
    p.add_argument("--today", type=date_arg, help=argparse.SUPPRESS)
    p.set_defaults(func=_report_outcomes)

    export = command_group(subparsers, "export", "grade exports")
    p = export.add_parser("grades", help="gradebook CSV with the columns of `nbgrader export`")
    p.add_argument("--cohort", required=True)
    p.add_argument("--output", type=Path)
    p.set_defaults(func=_export_grades)
    p = export.add_parser("moodle", help="Moodle grade import CSV (email, one column per assignment)")
    p.add_argument("--cohort", required=True)
    p.add_argument("--output", type=Path)
    p.set_defaults(func=_export_moodle)

    p = subparsers.add_parser("transcript", help="a trainee's transcript with a sign-off line, HTML or PDF")
    p.add_argument("trainee")
    p.add_argument("--cohort", required=True)
    p.add_argument("--format", choices=["html", "pdf"], default="html")
    p.add_argument("--output", type=Path)
    p.add_argument("--curriculum", type=Path, help=argparse.SUPPRESS)
    p.set_defaults(func=_transcript)
