"""Command-line entry points of graders.programme: cohorts, trainees, outcomes recorded, feedback.
Reports, exports and transcripts are graders.reports.cli."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from graders.cli_helpers import command_group, date_arg, write_or_print
from graders.errors import UserError
from graders.settings import Settings

# --- cohort ---------------------------------------------------------------------------------------------


def _cohort_create(args: argparse.Namespace) -> int:
    from graders.programme.cohorts import create_cohort

    cohort = create_cohort(Settings.load(), args.name, args.track, args.start)
    lock = (cohort.path / "curriculum.lock.toml").exists()
    print(f"Created cohort {cohort.name} ({cohort.track}, starts {cohort.start}) at {cohort.path}")
    if not lock:
        print("No curriculum lock yet: pin the modules with `bootcamp curriculum lock` when it is available.")
    return 0


def _cohort_add_trainee(args: argparse.Namespace) -> int:
    from graders.programme import cohorts

    settings = Settings.load()
    if args.csv:
        added = cohorts.add_trainees_from_csv(settings, args.cohort, args.csv)
        print(f"Enrolled {len(added)} trainee(s) in {args.cohort}")
        return 0
    if not (args.id and args.name and args.email):
        raise UserError(
            "give ID --name 'First Last' --email ADDRESS, or --csv roster.csv (id,name,email[,gender])"
        )
    trainee = cohorts.add_trainee(settings, args.cohort, args.id, args.name, args.email, args.gender)
    print(f"Enrolled {trainee.id} in {args.cohort}")
    return 0


def _cohort_add_instructor(args: argparse.Namespace) -> int:
    from graders.programme.cohorts import add_instructor

    instructor = add_instructor(Settings.load(), args.cohort, args.id, args.name, args.email)
    print(f"Added instructor {instructor.id} to {args.cohort}")
    return 0


def _cohort_list(args: argparse.Namespace) -> int:
    from graders.programme.cohorts import list_cohorts, trainees

    settings = Settings.load()
    for cohort in list_cohorts(settings):
        print(
            f"{cohort.name}\t{cohort.track}\tstarts {cohort.start}\t{len(trainees(settings, cohort))} trainees"
        )
    return 0


# --- trainee and outcomes -------------------------------------------------------------------------------


def _trainee_set(args: argparse.Namespace) -> int:
    from graders.programme.outcomes import TraineeUpdate, parse_yes_no, update_trainee
    from graders.programme.records import Event, FollowUp

    update = TraineeUpdate(
        gender=args.gender,
        enrolled_on=args.enrolled,
        started_on=args.started,
        completed_on=args.completed,
        dropped_on=args.dropped,
        drop_reason=args.reason,
        milestones=args.milestone or [],
        events=[Event("company-event", c, args.on) for c in args.event or []]
        + [Event("interview", c, args.on) for c in args.interview or []],
    )
    if args.followup:
        if not args.status:
            raise UserError("--followup needs --status employed|studying|seeking|unknown")
        update.followups.append(
            FollowUp(args.followup, args.status, args.employer_kind, args.role, parse_yes_no(args.uses_ai_ml))
        )
    elif args.status or args.employer_kind or args.role or args.uses_ai_ml:
        raise UserError("--status, --employer-kind, --role and --uses-ai-ml need --followup completion|3m|6m")
    update_trainee(Settings.load(), args.id, update)
    print(f"Updated {args.id}")
    return 0


def _trainee_export(args: argparse.Namespace) -> int:
    from graders.programme.privacy import export_trainee

    data = export_trainee(Settings.load(), args.id)
    write_or_print(json.dumps(data, indent=2, default=str) + "\n", args.output, "Personal data export")
    return 0


def _trainee_forget(args: argparse.Namespace) -> int:
    from graders.programme.privacy import forget_trainee

    if not args.yes:
        raise UserError(
            f"this permanently removes {args.id} from programme.db, every gradebook, their submissions, "
            "feedback, activity and reports; run again with --yes to do it"
        )
    from graders.programme.privacy import forget_elsewhere

    report = forget_trainee(Settings.load(), args.id)
    hub_side = forget_elsewhere(args.id)
    print(f"Removed {args.id}:")
    for line in report.removed + hub_side.removed:
        print(f"  - {line}")
    for line in hub_side.not_done:
        print(f"  ! not removed yet: {line}")
    if report.leftovers:
        print("These files still mention them; review and delete by hand:")
        for path in report.leftovers:
            print(f"  ! {path}")
        return 1
    return 1 if hub_side.not_done else 0


def _outcomes_import(args: argparse.Namespace) -> int:
    from graders.programme.outcomes import import_outcomes_csv

    count = import_outcomes_csv(Settings.load(), args.csv)
    print(f"Applied {count} row(s) from {args.csv}")
    return 0


# --- feedback, exports, transcript ----------------------------------------------------------------------


def _feedback(args: argparse.Namespace) -> int:
    from graders.programme.feedback import generate_course_feedback, generate_feedback

    if args.course_dir is not None:
        result = generate_course_feedback(args.course_dir, args.assignment)
    else:
        result = generate_feedback(Settings.load(), args.cohort, args.assignment)
    print(f"Feedback for {args.assignment}: {len(result.delivered)} trainee(s) have theirs.")
    if result.missing:
        print("Without feedback:")
        for trainee, why in sorted(result.missing.items()):
            print(f"  {trainee}: {why}")
    return 0


# --- wiring ---------------------------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds this part's subcommands to `bootcamp`."""
    from graders.programme.records import EMPLOYER_KINDS, EMPLOYMENT_STATUSES, FOLLOWUP_STAGES, GENDERS

    cohort = command_group(subparsers, "cohort", "create cohorts and enrol trainees and instructors")
    p = cohort.add_parser(
        "create", help="make a cohort folder, nbgrader course, gradebook and curriculum lock"
    )
    p.add_argument("name", help="cohort name, e.g. autumn-2026 (becomes the nbgrader course id)")
    p.add_argument("--track", required=True, choices=["six-month", "nine-month"])
    p.add_argument("--start", required=True, type=date_arg, help="first day, YYYY-MM-DD")
    p.set_defaults(func=_cohort_create)
    p = cohort.add_parser("add-trainee", help="enrol one trainee, or a roster CSV (id,name,email[,gender])")
    p.add_argument("cohort")
    p.add_argument("id", nargs="?", help="hub user name, e.g. amina.h")
    p.add_argument("--name")
    p.add_argument("--email")
    p.add_argument("--gender", choices=GENDERS, help="self-reported, optional")
    p.add_argument("--csv", type=Path, help="roster CSV with columns id,name,email[,gender]")
    p.set_defaults(func=_cohort_add_trainee)
    p = cohort.add_parser("add-instructor", help="record an instructor of the cohort")
    p.add_argument("cohort")
    p.add_argument("id")
    p.add_argument("--name", required=True)
    p.add_argument("--email", required=True)
    p.set_defaults(func=_cohort_add_instructor)
    p = cohort.add_parser("list", help="list cohorts")
    p.set_defaults(func=_cohort_list)

    trainee = command_group(
        subparsers, "trainee", "trainee records: outcomes, personal data export and erasure"
    )
    p = trainee.add_parser(
        "set", help="record enrolment, completion or drop-out, milestones, events, follow-ups"
    )
    p.add_argument("id")
    p.add_argument("--gender", choices=GENDERS)
    p.add_argument("--enrolled", type=date_arg)
    p.add_argument("--started", type=date_arg)
    p.add_argument("--completed", type=date_arg)
    p.add_argument("--dropped", type=date_arg)
    p.add_argument("--reason", help="why they dropped out (required with --dropped)")
    p.add_argument("--milestone", action="append", help="career milestone done (repeatable), e.g. cv")
    p.add_argument("--event", action="append", metavar="COMPANY", help="company event attended (repeatable)")
    p.add_argument(
        "--interview", action="append", metavar="COMPANY", help="job interview attended (repeatable)"
    )
    p.add_argument("--on", type=date_arg, help="date of the events/interviews given")
    p.add_argument("--followup", choices=FOLLOWUP_STAGES, help="which follow-up the next options describe")
    p.add_argument("--status", choices=EMPLOYMENT_STATUSES)
    p.add_argument("--employer-kind", choices=EMPLOYER_KINDS)
    p.add_argument("--role", help="job title, e.g. data analyst")
    p.add_argument("--uses-ai-ml", choices=["yes", "no"])
    p.set_defaults(func=_trainee_set)
    p = trainee.add_parser("export", help="everything held on a trainee, as JSON")
    p.add_argument("id")
    p.add_argument("--output", type=Path)
    p.set_defaults(func=_trainee_export)
    p = trainee.add_parser("forget", help="remove a trainee everywhere (programme.db, gradebooks, files)")
    p.add_argument("id")
    p.add_argument("--yes", action="store_true", help="confirm the permanent removal")
    p.set_defaults(func=_trainee_forget)

    outcomes = command_group(subparsers, "outcomes", "bulk outcome records")
    p = outcomes.add_parser("import", help="apply an outcomes CSV (see graders/programme/outcomes.py)")
    p.add_argument("--csv", type=Path, required=True)
    p.set_defaults(func=_outcomes_import)

    p = subparsers.add_parser(
        "feedback",
        help="feedback without hidden tests for an assignment (use instead of nbgrader generate_feedback)",
    )
    p.add_argument("assignment")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--cohort", help="a cohort created with `bootcamp cohort create`")
    where.add_argument("--course-dir", type=Path, help="any nbgrader course directory")
    p.set_defaults(func=_feedback)
