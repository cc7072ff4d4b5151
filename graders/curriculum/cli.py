"""`bootcamp curriculum ...`: list, validate, lock, bump-check and diff the course modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from graders.curriculum.catalogue import get_track, load_catalogue, load_tracks
from graders.curriculum.model import Problem
from graders.errors import UserError
from graders.sandbox import BACKENDS, DEFAULT_BACKEND


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds the `curriculum` command group to `bootcamp`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--root",
        type=Path,
        default=None,
        help="curriculum folder with modules/ and tracks/ (default: the checkout's)",
    )
    group = subparsers.add_parser("curriculum", help="list, validate, version and diff the course modules")
    commands = group.add_subparsers(dest="curriculum_command", metavar="SUBCOMMAND")
    group.set_defaults(func=lambda args: group.print_help() or 2)

    listing = commands.add_parser("list", parents=[common], help="the catalogue and both tracks week by week")
    listing.add_argument("--json", action="store_true", help="print JSON instead of tables")
    listing.add_argument("--track", help="show only this track")
    listing.set_defaults(func=run_list)

    validate = commands.add_parser("validate", parents=[common], help="check modules, tracks, and grade them")
    validate.add_argument("--module", help="validate only this module (slug)")
    validate.add_argument("--no-sandbox", action="store_true", help="skip grading in the sandbox")
    validate.add_argument(
        "--sandbox",
        choices=sorted(BACKENDS),
        default=DEFAULT_BACKEND,
        help="where to grade (default: %(default)s)",
    )
    validate.add_argument(
        "--jobs", type=int, default=1, help="submissions graded at the same time (default: 1)"
    )
    validate.set_defaults(func=run_validate)

    lock = commands.add_parser(
        "lock", parents=[common], help="pin a track's module versions and hashes (TOML)"
    )
    lock.add_argument("--track", required=True, help="track name, e.g. six-month")
    lock.add_argument("--output", type=Path, help="write the pin file here (default: print it)")
    lock.set_defaults(func=run_lock)

    bump = commands.add_parser(
        "bump-check", parents=[common], help="fail when a module changed without a version bump"
    )
    bump.add_argument("--module", help="check only this module (slug)")
    bump.add_argument("--write", action="store_true", help="record new versions in versions.lock.toml")
    bump.set_defaults(func=run_bump_check)

    lessons = commands.add_parser(
        "lessons", parents=[common], help="run every lesson top to bottom in the trainee image"
    )
    lessons.add_argument("--module", help="only this module's lessons")
    lessons.add_argument("--jobs", type=int, default=2, help="lessons run at the same time (default: 2)")
    lessons.set_defaults(func=run_lessons_command)

    stats = commands.add_parser(
        "stats",
        parents=[common],
        help="lessons, words, exercises, graded cells and hours per week and module",
    )
    stats.add_argument("--track", help="show only this track")
    stats.add_argument("--json", action="store_true", help="print JSON instead of tables")
    stats.add_argument("--plot", type=Path, help="also save a PNG of graded work per week here")
    stats.add_argument("--modules", action="store_true", help="also print the per-module table")
    stats.set_defaults(func=run_stats)

    diff = commands.add_parser("diff", parents=[common], help="what changed in a module between two versions")
    diff.add_argument("module", help="module slug")
    diff.add_argument("old", help="older version, e.g. 1.0.0")
    diff.add_argument("new", help="newer version, or 'working' for the files on disk")
    diff.set_defaults(func=run_diff)


def run_list(args: argparse.Namespace) -> int:
    from graders.curriculum.listing import catalogue_data, print_tables

    catalogue = load_catalogue(args.root)
    problems: list[Problem] = []
    tracks = load_tracks(catalogue, problems)
    catalogue.problems += problems
    if args.track:
        tracks = {args.track: get_track(catalogue, args.track)}
    if args.json:
        print(json.dumps(catalogue_data(catalogue, tracks), indent=2))
    else:
        print_tables(catalogue, tracks, Console())
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from graders.curriculum.validate import ValidateOptions, validate

    if args.jobs < 1:
        raise UserError("--jobs must be 1 or more")
    catalogue = load_catalogue(args.root)
    options = ValidateOptions(
        module=args.module, sandbox=None if args.no_sandbox else args.sandbox, jobs=args.jobs
    )
    results = validate(catalogue, options)
    table = Table(title=f"Curriculum checks ({catalogue.root})")
    for column in ("check", "subject", "result", "reason"):
        table.add_column(column, overflow="fold")
    for result in results:
        table.add_row(
            result.check,
            result.subject,
            "[green]pass[/]" if result.ok else "[red]FAIL[/]",
            escape(result.reason),
        )
    console = Console(width=max(Console().width, 160))
    console.print(table)
    failed = sum(not result.ok for result in results)
    # the failures again, last: a CI log often keeps only its tail, and the table is hundreds of rows long
    for result in results:
        if not result.ok:
            console.print(
                f"[red]FAIL[/] {result.check} · {result.subject}: {escape(result.reason)}", soft_wrap=True
            )
    console.print(
        f"{len(results)} checks, {failed} failed" + ("" if options.sandbox else " (sandbox skipped)")
    )
    return 1 if failed else 0


def run_lock(args: argparse.Namespace) -> int:
    from graders.curriculum.versioning import pin_track

    catalogue = load_catalogue(args.root)
    text = pin_track(catalogue, get_track(catalogue, args.track))
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"pinned {args.track} in {args.output}", file=sys.stderr)
    return 0


def run_bump_check(args: argparse.Namespace) -> int:
    from graders.curriculum.versioning import (
        check_versions,
        read_recorded,
        record_new_versions,
        rewritten_records,
    )

    catalogue = load_catalogue(args.root)
    if args.module and args.module not in catalogue.modules:
        raise UserError(f"no module {args.module!r} under {catalogue.modules_dir}")
    statuses = check_versions(catalogue, [args.module] if args.module else None)
    if args.write:
        record_new_versions(catalogue, statuses)
    table = Table(title="Module versions against curriculum/versions.lock.toml")
    for column in ("module", "version", "state", "reason"):
        table.add_column(column, overflow="fold")
    for status in statuses:
        state = "[green]ok[/]" if status.ok else f"[red]{status.state}[/]"
        table.add_row(
            status.slug,
            status.version,
            state,
            escape(status.message + (f" ({status.fix})" if status.fix else "")),
        )
    console = Console(width=max(Console().width, 140))
    console.print(table)
    rewritten = rewritten_records(catalogue, read_recorded(catalogue))
    for problem in rewritten:
        console.print(f"[red]FAIL[/] {escape(str(problem))}")
    return 0 if all(status.ok for status in statuses) and not rewritten else 1


def run_lessons_command(args: argparse.Namespace) -> int:
    from graders.curriculum.lessons import LESSON_BUDGET_S, run_lessons

    catalogue = load_catalogue(args.root)
    if args.module and args.module not in catalogue.modules:
        raise UserError(f"no module {args.module!r} under {catalogue.modules_dir}")
    slugs = [args.module] if args.module else sorted(catalogue.modules)
    results = run_lessons(catalogue, slugs, jobs=args.jobs)
    table = Table(title=f"Lessons run in the trainee image (budget {LESSON_BUDGET_S:g} s each)")
    for column in ("module", "lesson", "result", "seconds", "reason"):
        table.add_column(column, overflow="fold")
    for result in results:
        verdict = "[green]pass[/]" if result.ok else "[red]FAIL[/]"
        table.add_row(result.module, result.lesson, verdict, f"{result.seconds:.1f}", escape(result.reason))
    console = Console(width=max(Console().width, 160))
    console.print(table)
    failed = sum(not result.ok for result in results)
    for result in results:
        if not result.ok:
            console.print(
                f"[red]FAIL[/] {result.module}/{result.lesson}: {escape(result.reason)}", soft_wrap=True
            )
    console.print(f"{len(results)} lessons, {failed} failed")
    return 1 if failed else 0


def run_stats(args: argparse.Namespace) -> int:
    from graders.curriculum.stats import collect, plot_graded_work, to_json

    catalogue = load_catalogue(args.root)
    problems: list[Problem] = []
    tracks = load_tracks(catalogue, problems)
    if args.track:
        tracks = {args.track: get_track(catalogue, args.track)}
    data = collect(catalogue, tracks)
    if args.plot:
        print(f"plot saved to {plot_graded_work(data, args.plot)}", file=sys.stderr)
    if args.json:
        print(to_json(data))
        return 0
    console = Console(width=max(Console().width, 140))
    for name, track in data["tracks"].items():
        table = Table(title=f"{name}: per week (hours: scheduled / backed by material)")
        for column in (
            "week",
            "modules",
            "hours",
            "lessons",
            "words",
            "exercises",
            "assignments",
            "graded",
            "points",
        ):
            table.add_column(column, justify="left" if column == "modules" else "right")
        for week in track["weeks"]:
            short = week["material_hours"] < week["hours"] - 0.05
            hours = f"{week['hours']:.1f} / {'[red]' if short else ''}{week['material_hours']:.1f}{'[/]' if short else ''}"
            table.add_row(
                str(week["week"]),
                ", ".join(week["modules"]),
                hours,
                *(f"{week[k]:.1f}" for k in ("lessons",)),
                f"{week['words']:,.0f}",
                *(f"{week[k]:.1f}" for k in ("exercises", "assignments", "graded_cells")),
                f"{week['points']:.0f}",
            )
        totals = track["totals"]
        table.add_section()
        table.add_row(
            "all",
            f"{totals['weeks']} weeks, {totals['datasets']} real datasets",
            f"{totals['hours']:.0f} / {totals['material_hours']:.0f}",
            f"{totals['lessons']:.0f}",
            f"{totals['words']:,.0f}",
            f"{totals['exercises']:.0f}",
            f"{totals['assignments']:.0f}",
            f"{totals['graded_cells']:.0f}",
            f"{totals['points']:.0f}",
        )
        console.print(table)
    if args.modules or not data["tracks"]:
        table = Table(title="per module")
        for column in (
            "module",
            "kind",
            "hours",
            "material h",
            "lessons",
            "words",
            "exercises",
            "assignments",
            "graded",
            "points",
            "datasets",
        ):
            table.add_column(column, justify="left" if column in ("module", "kind", "datasets") else "right")
        for slug, module in data["modules"].items():
            table.add_row(
                slug,
                module["kind"],
                f"{module['hours']:g}",
                f"{module['material_hours']:g}",
                str(module["lessons"]),
                f"{module['words']:,}",
                str(module["exercises"]),
                str(module["assignments"]),
                str(module["graded_cells"]),
                f"{module['points']:g}",
                str(len(module["datasets"])),
            )
        console.print(table)
    return 0


def run_diff(args: argparse.Namespace) -> int:
    from graders.curriculum.diff import diff_versions

    text = diff_versions(load_catalogue(args.root), args.module, args.old, args.new)
    if not text:
        print(f"{args.module}: no differences between {args.old} and {args.new}", file=sys.stderr)
        return 0
    if sys.stdout.isatty():
        from rich.syntax import Syntax

        Console().print(Syntax(text, "diff", theme="ansi_dark"))
    else:
        sys.stdout.write(text)
    return 0
