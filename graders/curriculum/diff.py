"""Shows what changed in a module between two of its versions, read from git history.

Each version is taken at the newest commit in which module.toml carried it. Notebooks are compared
cell by cell as source text, because a diff of the raw JSON buries a one-line change in escaped quotes
and execution counts.
"""

from __future__ import annotations

import difflib
import json
import logging
import tomllib
from pathlib import Path

from graders.curriculum import git
from graders.curriculum.model import Catalogue
from graders.curriculum.versioning import is_cache, module_files
from graders.errors import UserError

log = logging.getLogger(__name__)

WORKING = "working"  # the version name that means "the files on disk now"


def version_commits(catalogue: Catalogue, slug: str) -> dict[str, str]:
    """Each version the module has had -> the newest commit in which module.toml carried it."""
    folder = catalogue.modules_dir / slug
    top = git.toplevel(catalogue.root)
    if top is None:
        raise UserError(f"{catalogue.root} is not inside a git repository, so it has no version history")
    relative = folder.resolve().relative_to(top.resolve()).as_posix()
    commits = git.run_git(["log", "--format=%H", "--", relative], top).decode().split()
    found: dict[str, str] = {}
    for commit in commits:  # newest first
        data = git.show(commit, f"{relative}/module.toml", top)
        if data is None:
            continue
        try:
            version = tomllib.loads(data.decode("utf-8")).get("version")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            log.warning("module.toml of %s is not valid TOML at %s; skipped", slug, commit[:10])
            continue
        if isinstance(version, str):
            found.setdefault(version, commit)
    return found


def _files_at(catalogue: Catalogue, slug: str, commit: str) -> dict[str, bytes]:
    """The module's files (relative path -> bytes) at a commit, or on disk for WORKING."""
    folder = catalogue.modules_dir / slug
    if commit == WORKING:
        return {relative: (folder / relative).read_bytes() for relative in module_files(folder)}
    top = git.toplevel(catalogue.root)
    assert top is not None  # version_commits checked this
    prefix = folder.resolve().relative_to(top.resolve()).as_posix() + "/"
    listing = git.run_git(["ls-tree", "-r", "-z", "--name-only", commit, "--", prefix], top)
    files = {}
    for name in filter(None, listing.decode("utf-8").split("\0")):
        relative = name[len(prefix) :]
        if not is_cache(Path(relative)):
            files[relative] = git.run_git(["cat-file", "blob", f"{commit}:{name}"], top)
    return files


def notebook_text(data: bytes) -> list[str]:
    """A notebook as lines of cell source, each cell introduced by a header naming its nbgrader role."""
    notebook = json.loads(data)
    lines = []
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        grading = cell.get("metadata", {}).get("nbgrader", {})
        roles = [role for role in ("solution", "grade", "locked", "task") if grading.get(role)]
        details = ", ".join(roles)
        if grading.get("grade_id"):
            details += f", grade_id={grading['grade_id']}"
        if grading.get("points") is not None and grading.get("grade"):
            details += f", points={grading['points']}"
        header = f"# ---- cell {number} [{cell.get('cell_type', '?')}]" + (
            f" ({details.strip(', ')})" if details else ""
        )
        lines.append(header + "\n")
        lines.extend(line + "\n" for line in source.splitlines())
    return lines


def _text_lines(relative: str, data: bytes | None) -> list[str] | None:
    """Lines to compare, or None for a binary file."""
    if data is None:
        return []
    if relative.endswith(".ipynb"):
        try:
            return notebook_text(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("%s is not valid notebook JSON; comparing it as text", relative)
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def diff_versions(catalogue: Catalogue, slug: str, old: str, new: str) -> str:
    """A unified diff of the module's files between two versions ("working" = the files on disk)."""
    if slug not in catalogue.modules and not (catalogue.modules_dir / slug).is_dir():
        raise UserError(f"no module named {slug!r} under {catalogue.modules_dir}")
    commits = version_commits(catalogue, slug)
    commits[WORKING] = WORKING
    for version in (old, new):
        if version not in commits:
            known = ", ".join(sorted(v for v in commits if v != WORKING)) or "none committed"
            raise UserError(
                f"{slug} has no version {version} in git history (versions: {known}, or 'working')"
            )
    before = _files_at(catalogue, slug, commits[old])
    after = _files_at(catalogue, slug, commits[new])
    chunks: list[str] = []
    for relative in sorted(set(before) | set(after)):
        a, b = before.get(relative), after.get(relative)
        if a == b:
            continue
        a_lines, b_lines = _text_lines(relative, a), _text_lines(relative, b)
        if a_lines is None or b_lines is None:
            chunks.append(f"Binary file {relative} differs between {old} and {new}\n")
            continue
        chunks.extend(
            difflib.unified_diff(
                a_lines,
                b_lines,
                fromfile=f"a/{slug}/{relative} ({old})" if a is not None else "/dev/null",
                tofile=f"b/{slug}/{relative} ({new})" if b is not None else "/dev/null",
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in chunks)
