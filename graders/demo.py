"""`bootcamp demo`: a small course graded end to end on embedded defaults (being built)."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `bootcamp demo`."""
