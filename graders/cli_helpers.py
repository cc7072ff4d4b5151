"""Small argparse helpers shared by the parts' command lines (graders.programme.cli, graders.reports.cli)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path


def date_arg(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: write YYYY-MM-DD")


def write_or_print(text: str, output: Path | None, what: str) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"{what} written to {output}")


def command_group(
    subparsers: argparse._SubParsersAction, name: str, help_text: str
) -> argparse._SubParsersAction:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(func=lambda _args: parser.print_help() or 2)
    return parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND")
