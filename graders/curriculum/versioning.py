"""Module versions: content hashes, the record of released versions, and cohort pin files.

The rule: a released module version names exactly one content. `curriculum/versions.lock.toml` records,
for every module, the sha256 content hash of each version, and a recorded hash never changes. When a
module's files differ from the hash recorded for its current version, the content changed without a
version bump: validation fails until the author bumps `version` in module.toml, adds a CHANGELOG.md
entry, and records the new version with `bootcamp curriculum bump-check --write`. Because the lock file
is committed, the record lives in git history; `bump-check` also compares with the lock file at HEAD so
that an edited (rather than added) hash is caught.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path

from graders.curriculum import git
from graders.curriculum.model import Catalogue, Module, Problem, Track
from graders.curriculum.schema import SEMVER, changelog_versions
from graders.errors import UserError

log = logging.getLogger(__name__)

LOCK_NAME = "versions.lock.toml"
CACHE_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
CACHE_SUFFIXES = {".pyc", ".pyo"}

Recorded = dict[str, dict[str, str]]  # slug -> version -> "sha256:<hex>"


def is_cache(relative: Path) -> bool:
    """Files that tools regenerate: they are not content and never change a module's hash."""
    return bool(CACHE_DIRS.intersection(relative.parts)) or relative.suffix in CACHE_SUFFIXES


def module_files(folder: Path) -> list[str]:
    """Relative POSIX paths of a module's files, sorted, caches left out."""
    files = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if path.is_file() and not is_cache(relative):
            files.append(relative.as_posix())
    return sorted(files)


def content_hash(folder: Path) -> str:
    """sha256 over every file's relative path and bytes, in sorted order.

    Each path and each content is preceded by its length, so that no two different folders can feed
    the same bytes to the hash (moving bytes from one file into the next changes the result).
    """
    digest = hashlib.sha256()
    for relative in module_files(folder):
        data = (folder / relative).read_bytes()
        name = relative.encode("utf-8")
        digest.update(f"{len(name)}:".encode() + name + f"{len(data)}:".encode() + data)
    return f"sha256:{digest.hexdigest()}"


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


# --- versions.lock.toml -----------------------------------------------------------------------------


def lock_path(catalogue: Catalogue) -> Path:
    return catalogue.root / LOCK_NAME


def parse_recorded(text: str, source: str) -> Recorded:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserError(
            f"{source} is not valid TOML: {error}; restore it from git (git checkout -- {source})"
        )
    recorded: Recorded = {}
    for slug, versions in data.items():
        if not isinstance(versions, dict) or not all(isinstance(v, str) for v in versions.values()):
            raise UserError(f'{source}: [{slug}] must map versions to hashes, e.g. "1.0.0" = "sha256:..."')
        recorded[slug] = dict(versions)
    return recorded


def read_recorded(catalogue: Catalogue) -> Recorded:
    """The recorded hashes; empty when the lock file does not exist yet."""
    path = lock_path(catalogue)
    if not path.is_file():
        return {}
    return parse_recorded(path.read_text(encoding="utf-8"), str(path))


def _toml_string(text: str) -> str:
    # A JSON string literal is a valid TOML basic string for everything we write.
    return json.dumps(text, ensure_ascii=False)


def write_recorded(catalogue: Catalogue, recorded: Recorded) -> Path:
    path = lock_path(catalogue)
    lines = [
        "# Content hash of every released module version, written by `bootcamp curriculum bump-check --write`.",
        "# A recorded hash never changes: to change a module, bump its version and add a CHANGELOG entry.",
    ]
    for slug in sorted(recorded):
        lines += ["", f"[{_toml_string(slug)}]"]
        for version in sorted(recorded[slug], key=version_key):
            lines.append(f"{_toml_string(version)} = {_toml_string(recorded[slug][version])}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def committed_recorded(catalogue: Catalogue) -> Recorded | None:
    """The lock file as committed at HEAD (empty before its first commit); None outside git."""
    top = git.toplevel(catalogue.root)
    if top is None:
        return None
    relative = lock_path(catalogue).relative_to(top.resolve()).as_posix()
    data = git.show("HEAD", relative, top)
    return parse_recorded(data.decode("utf-8"), f"HEAD:{relative}") if data else {}


# --- the bump rule ----------------------------------------------------------------------------------


@dataclass
class VersionStatus:
    """Where one module's current version stands against the record."""

    slug: str
    version: str
    hash: str
    state: str  # "recorded" | "new" (needs recording) | "changed" | "invalid"
    message: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "recorded"


def version_status(module: Module, recorded: Recorded, committed: Recorded | None = None) -> VersionStatus:
    """Compares a module's content with the hash recorded for its version.

    A version recorded in the working tree but not yet committed (`committed` is the lock file at
    HEAD) is still a draft: the author may keep editing and record it again. Once committed, it is
    released and immutable. Outside git every recorded version counts as released.
    """
    current = content_hash(module.path)
    versions = recorded.get(module.slug, {})
    known = versions.get(module.version)
    status = VersionStatus(module.slug, module.version, current, "recorded", "content matches the record")
    if known == current:
        return status
    released = committed is None or module.version in committed.get(module.slug, {})
    if known is not None and not released:
        versions = {v: h for v, h in versions.items() if v != module.version}  # re-record the draft
    elif known is not None:
        status.state = "changed"
        status.message = f"content changed since version {module.version} was recorded"
        status.fix = (
            f"bump version in {module.slug}/module.toml, add a CHANGELOG.md entry, "
            "then run `bootcamp curriculum bump-check --write`"
        )
        return status
    if not SEMVER.match(module.version):
        status.state, status.message = "invalid", f"version {module.version!r} is not a semantic version"
        return status
    newest = max(versions, key=version_key, default=None)
    if newest is not None and version_key(module.version) <= version_key(newest):
        status.state = "invalid"
        status.message = f"version {module.version} is not newer than the recorded {newest}"
        status.fix = "choose a version above every recorded one"
        return status
    top = next(iter(changelog_versions(module.path)), None)
    if top != module.version:
        status.state = "invalid"
        status.message = f"CHANGELOG.md has no entry for {module.version} at the top"
        status.fix = f"add '## {module.version} - YYYY-MM-DD' describing the change"
        return status
    status.state = "new"
    status.message = f"version {module.version} is not recorded yet"
    if known is not None:
        status.message = f"version {module.version} changed after it was recorded (not committed yet)"
    status.fix = "run `bootcamp curriculum bump-check --write` and commit curriculum/versions.lock.toml"
    return status


def rewritten_records(catalogue: Catalogue, recorded: Recorded) -> list[Problem]:
    """Recorded hashes that were changed or removed since HEAD: released versions are immutable."""
    problems = []
    for slug, versions in (committed_recorded(catalogue) or {}).items():
        for version, digest in versions.items():
            if recorded.get(slug, {}).get(version) != digest:
                problems.append(
                    Problem(
                        lock_path(catalogue),
                        f"the recorded hash of {slug} {version} was changed or removed since the last commit",
                        f"restore it with `git checkout HEAD -- {LOCK_NAME}`; bump the module's version instead",
                    )
                )
    return problems


def check_versions(catalogue: Catalogue, slugs: list[str] | None = None) -> list[VersionStatus]:
    recorded = read_recorded(catalogue)
    committed = committed_recorded(catalogue)
    chosen = slugs if slugs is not None else sorted(catalogue.modules)
    return [version_status(catalogue.modules[slug], recorded, committed) for slug in chosen]


def record_new_versions(catalogue: Catalogue, statuses: list[VersionStatus]) -> list[VersionStatus]:
    """Adds every "new" version to versions.lock.toml; never touches a committed hash."""
    recorded = read_recorded(catalogue)
    added = [status for status in statuses if status.state == "new"]
    for status in added:
        recorded.setdefault(status.slug, {})[status.version] = status.hash
        status.state, status.message, status.fix = "recorded", f"recorded version {status.version}", ""
    if added:
        path = write_recorded(catalogue, recorded)
        log.info("recorded %d new module version(s) in %s", len(added), path)
    return added


# --- cohort pin files (curriculum.lock.toml) --------------------------------------------------------


def pin_track(catalogue: Catalogue, track: Track) -> str:
    """The TOML pin file for a cohort following `track`: each module's version and content hash.

    Refuses when a module's content no longer matches its recorded version, because the pin would then
    name content that the version number does not identify. New versions are recorded first.
    """
    missing = [slug for slug in track.slugs if slug not in catalogue.modules]
    if missing:
        raise UserError(f"track {track.name} names modules that do not exist: {', '.join(missing)}")
    statuses = check_versions(catalogue, track.slugs)
    bad = [status for status in statuses if status.state in ("changed", "invalid")]
    if bad:
        details = "; ".join(f"{s.slug}: {s.message} ({s.fix})" for s in bad)
        raise UserError(f"cannot pin track {track.name}: {details}")
    record_new_versions(catalogue, statuses)
    created = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    lines = [
        "# Curriculum pinned for one cohort, written by `bootcamp curriculum lock`.",
        f"track = {_toml_string(track.name)}",
        f"created = {_toml_string(created)}",
    ]
    for status in statuses:
        lines += [
            "",
            f"[modules.{_toml_string(status.slug)}]",
            f"version = {_toml_string(status.version)}",
            f"hash = {_toml_string(status.hash)}",
        ]
    return "\n".join(lines) + "\n"


def verify_pins(catalogue: Catalogue, pin_file: Path) -> list[Problem]:
    """Modules whose current content differs from what a cohort's pin file names."""
    try:
        pins = tomllib.loads(pin_file.read_text(encoding="utf-8")).get("modules", {})
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise UserError(f"cannot read the pin file {pin_file}: {error}")
    problems = []
    for slug, pin in pins.items():
        module = catalogue.modules.get(slug)
        if module is None:
            problems.append(Problem(pin_file, f"pins {slug}, which is not in the catalogue"))
        elif module.version != pin.get("version") or content_hash(module.path) != pin.get("hash"):
            problems.append(
                Problem(
                    pin_file,
                    f"pins {slug} {pin.get('version')} but the catalogue has {module.version} with other content",
                    "check out the pinned commit of the curriculum or re-pin deliberately",
                )
            )
    return problems
