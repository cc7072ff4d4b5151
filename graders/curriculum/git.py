"""The few git commands the curriculum tools need, with errors a user can act on."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from graders.errors import UserError

log = logging.getLogger(__name__)


def run_git(args: list[str], cwd: Path) -> bytes:
    """stdout of `git <args>` run in `cwd`; a UserError carrying git's message when it fails."""
    log.debug("git %s (in %s)", " ".join(args), cwd)
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise UserError("git is not installed: install it (apt-get install git) to use versions and diffs")
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise UserError(f"git {' '.join(args)} failed in {cwd}: {message}")
    return done.stdout


def toplevel(path: Path) -> Path | None:
    """The root of the git work tree holding `path`, or None outside git."""
    try:
        return Path(run_git(["rev-parse", "--show-toplevel"], path).decode().strip())
    except UserError:
        return None


def show(commit: str, relative: str, cwd: Path) -> bytes | None:
    """A file's bytes at a commit, or None when it did not exist there."""
    try:
        return run_git(["cat-file", "blob", f"{commit}:{relative}"], cwd)
    except UserError:
        return None
