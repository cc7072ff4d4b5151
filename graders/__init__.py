"""Sandboxed autograding, curriculum tooling and hub glue for the AI/ML bootcamp."""

import os as _os
import sys as _sys


def _put_interpreter_bin_on_path() -> None:
    """nbgrader runs `alembic` (and nbgrader itself) from PATH; a venv used without activation lacks it."""
    bin_dir = _os.path.dirname(_sys.executable)
    path = _os.environ.get("PATH", "")
    if bin_dir and bin_dir not in path.split(_os.pathsep):
        _os.environ["PATH"] = bin_dir + _os.pathsep + path


_put_interpreter_bin_on_path()
