"""The `bootcamp` command: parses arguments and hands each subcommand to the module that owns it."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from graders.errors import UserError

# Each feature module exposes register(subparsers) and sets `func` on its parsers.
Registrar = Callable[[argparse._SubParsersAction], None]


def _registrars() -> list[Registrar]:
    from graders.autograde.cli import register as autograde
    from graders.curriculum.cli import register as curriculum
    from graders.demo import register as demo
    from graders.gradingqueue.cli import register as grading_queue
    from graders.hub.cli import register as hub
    from graders.programme.cli import register as programme
    from graders.reports.cli import register as reports

    return [autograde, grading_queue, demo, curriculum, programme, reports, hub]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bootcamp",
        description="Sandboxed nbgrader autograding, curriculum, cohorts and reports for the AI/ML bootcamp.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in _registrars():
        register(subparsers)
    return parser


def _skip_iri_grammars() -> None:
    """nbformat imports jsonschema, which imports rfc3987_syntax when it is installed (jupyter-events pulls
    it in for the hub); that module compiles 38 Lark grammars at import, about 2.5 s of CPU before any
    `bootcamp` command starts. Notebook schemas use no IRI formats, so the command goes without it: the
    import then fails and jsonschema simply does not register those two format checkers."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    _skip_iri_grammars()
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        # nbgrader's API raises its own loggers to INFO; the handler keeps the terminal to warnings
        handler.setLevel(level)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as error:
        print(f"bootcamp: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bootcamp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
