"""`bootcamp curriculum ...`: list, validate, lock, bump-check and diff the course modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from graders.curriculum.catalogue import get_track, load_catalogue, load_tracks
from graders.curriculum.model import Problem
from graders.errors import UserError


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
        "--sandbox", choices=["docker", "local"], default="docker", help="where to grade (default: docker)"
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
            result.check, result.subject, "[green]pass[/]" if result.ok else "[red]FAIL[/]", result.reason
        )
    console = Console(width=max(Console().width, 160))
    console.print(table)
    failed = sum(not result.ok for result in results)
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
            status.slug, status.version, state, status.message + (f" ({status.fix})" if status.fix else "")
        )
    console = Console(width=max(Console().width, 140))
    console.print(table)
    rewritten = rewritten_records(catalogue, read_recorded(catalogue))
    for problem in rewritten:
        console.print(f"[red]FAIL[/] {problem}")
    return 0 if all(status.ok for status in statuses) and not rewritten else 1


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
