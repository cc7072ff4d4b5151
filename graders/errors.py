"""Errors that reach the user as a one-line message (what was wrong and what to do), not a traceback."""


class UserError(Exception):
    """A problem the user can fix: a wrong path, an unknown assignment, no Docker engine."""
