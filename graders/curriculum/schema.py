"""Reads module.toml and track files with tomllib and checks every field, collecting clear problems.

Each problem names the file, the field and the fix, so a content writer can correct all of them in one
pass instead of meeting them one traceback at a time.
"""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path
from typing import Any

from graders.curriculum.model import (
    ASSIGNMENT_KINDS,
    IMAGES,
    KINDS,
    Assignment,
    Dataset,
    Deliverable,
    Module,
    Problem,
    Track,
    Week,
)

log = logging.getLogger(__name__)

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
CHANGELOG_HEADING = re.compile(r"^##\s+\[?v?(\S+?)\]?(\s+-\s+.*)?$", re.MULTILINE)

MODULE_KEYS = {
    "id",
    "title",
    "version",
    "kind",
    "summary",
    "outcomes",
    "prerequisites",
    "hours",
    "assignments",
    "deliverables",
    "datasets",
}
ASSIGNMENT_KEYS = {"name", "title", "points", "time_budget_s", "image", "kind"}
DATASET_KEYS = {"name", "source", "licence", "rows", "used_in"}
DELIVERABLE_KEYS = {"id", "title", "description", "hours"}
MAX_DELIVERABLE_HOURS = 40  # one full-time week: anything longer is several deliverables
TRACK_KEYS = {
    "name",
    "title",
    "max_hours_per_week",
    "min_hours_per_week",
    "midterm_project",
    "capstone",
    "demo_day",
    "weeks",
}
WEEK_KEYS = {"week", "theme", "modules", "milestone", "hours"}


class _Fields:
    """Typed access to one TOML table that records a Problem instead of raising on a bad field."""

    def __init__(self, data: dict[str, Any], file: Path, problems: list[Problem], where: str = "") -> None:
        self.data = data
        self.file = file
        self.problems = problems
        self.where = where

    def problem(self, key: str, message: str, fix: str = "") -> None:
        self.problems.append(Problem(self.file, f"field '{self.where}{key}' {message}", fix))

    def unknown(self, known: set[str]) -> None:
        for key in sorted(set(self.data) - known):
            self.problem(key, "is not a known field", f"known fields are {', '.join(sorted(known))}")

    def text(
        self, key: str, *, required: bool = True, pattern: re.Pattern[str] | None = None, hint: str = ""
    ) -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(key, "is missing", f'add {key} = "..."')
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(key, f"must be non-empty text, got {value!r}", hint)
            return ""
        if pattern is not None and not pattern.match(value):
            self.problem(key, f"has the wrong form: {value!r}", hint)
        return value

    def number(self, key: str, *, required: bool = True, positive: bool = True) -> float:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(key, "is missing", f"add {key} = <number>")
            return 0
        if isinstance(value, bool) or not isinstance(value, int | float) or (positive and value <= 0):
            self.problem(key, f"must be a {'positive ' if positive else ''}number, got {value!r}")
            return 0
        return value

    def texts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(key, "is missing", f'add {key} = ["..."]')
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.problem(key, f"must be a list of text, got {value!r}")
            return ()
        return tuple(value)

    def tables(self, key: str) -> list[_Fields]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.problem(key, "must be an array of tables", f"write each entry as [[{key}]]")
            return []
        return [_Fields(item, self.file, self.problems, f"{key}[{i}].") for i, item in enumerate(value)]


def read_toml(file: Path, problems: list[Problem]) -> dict[str, Any] | None:
    """The parsed file, or None with a problem recorded when it is missing or not valid TOML."""
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        problems.append(Problem(file, "the file does not exist"))
    except tomllib.TOMLDecodeError as error:
        problems.append(Problem(file, f"not valid TOML: {error}", "see https://toml.io for the syntax"))
    return None


def load_module(folder: Path, problems: list[Problem]) -> Module | None:
    """The module in `folder` (None only when module.toml cannot be read); every problem found is
    appended to `problems`. A module with problems is still returned, so that the checks that depend
    on it (prerequisites, tracks) do not report a cascade of "missing module" errors."""
    file = folder / "module.toml"
    data = read_toml(file, problems)
    if data is None:
        return None
    fields = _Fields(data, file, problems)
    fields.unknown(MODULE_KEYS)
    slug = fields.text("id", pattern=SLUG, hint="use lower-case words joined by hyphens, e.g. numpy-basics")
    if slug and slug != folder.name:
        fields.problem("id", f"is {slug!r} but the folder is named {folder.name!r}", "make them equal")
    version = fields.text("version", pattern=SEMVER, hint='use a semantic version such as "1.0.0"')
    kind = fields.text("kind")
    if kind and kind not in KINDS:
        fields.problem("kind", f"is {kind!r}", f"use one of {', '.join(KINDS)}")
    prerequisites = fields.texts("prerequisites", required=False)
    if slug in prerequisites:
        fields.problem("prerequisites", "lists the module itself", f"remove {slug!r}")
    module = Module(
        slug=folder.name,
        title=fields.text("title"),
        version=version,
        kind=kind,
        summary=fields.text("summary"),
        outcomes=fields.texts("outcomes"),
        prerequisites=prerequisites,
        hours=fields.number("hours"),
        path=folder,
        assignments=tuple(_assignments(fields, folder)),
        deliverables=tuple(_deliverables(fields)),
        datasets=tuple(_datasets(fields)),
    )
    _check_kind(module, file, problems)
    if version and SEMVER.match(version):
        _check_changelog(folder, version, problems)
    return module


def _assignments(fields: _Fields, folder: Path) -> list[Assignment]:
    found = []
    for entry in fields.tables("assignments"):
        entry.unknown(ASSIGNMENT_KEYS)
        name = entry.text("name", pattern=SLUG, hint="use lower-case words joined by hyphens")
        image = entry.text("image")
        kind = entry.text("kind", required=False) or "exercises"
        if kind not in ASSIGNMENT_KINDS:
            entry.problem("kind", f"is {kind!r}", f"use one of {', '.join(ASSIGNMENT_KINDS)}")
        if image and image not in IMAGES:
            entry.problem("image", f"is {image!r}", f"use one of {', '.join(IMAGES)}")
        assignment = Assignment(
            name=name,
            title=entry.text("title"),
            points=entry.number("points"),
            time_budget_s=entry.number("time_budget_s"),
            image=image,
            folder=folder / "assignments" / name,
            kind=kind,
        )
        if name and not assignment.notebook.is_file():
            relative = assignment.notebook.relative_to(folder)
            entry.problem(
                "name", f"is {name!r} but {relative} does not exist", "add the nbgrader source notebook"
            )
        found.append(assignment)
    return found


def _datasets(fields: _Fields) -> list[Dataset]:
    found = []
    for entry in fields.tables("datasets"):
        entry.unknown(DATASET_KEYS)
        rows = entry.number("rows")
        found.append(
            Dataset(
                name=entry.text("name"),
                source=entry.text("source", hint="say where the data comes from (package, URL, paper)"),
                licence=entry.text("licence", hint="name the licence that lets us ship it, e.g. CC0-1.0"),
                rows=int(rows),
                used_in=entry.texts("used_in", required=False),
            )
        )
    return found


def _deliverables(fields: _Fields) -> list[Deliverable]:
    found = []
    for entry in fields.tables("deliverables"):
        entry.unknown(DELIVERABLE_KEYS)
        hours = entry.number("hours", required=False) or None
        if hours is not None and hours > MAX_DELIVERABLE_HOURS:
            entry.problem(
                "hours", f"is {hours:g}, more than one full-time week", "split it into weekly deliverables"
            )
        found.append(
            Deliverable(
                id=entry.text("id", pattern=SLUG, hint="use lower-case words joined by hyphens"),
                title=entry.text("title"),
                description=entry.text("description"),
                hours=hours,
            )
        )
    return found


def _check_kind(module: Module, file: Path, problems: list[Problem]) -> None:
    """Each kind of module is assessed in its own way (see docs/contracts.md)."""
    if module.kind == "technical" and not module.assignments:
        problems.append(Problem(file, "a technical module has no [[assignments]]", "add at least one"))
    if module.kind == "career":
        if module.assignments:
            problems.append(
                Problem(file, "a career module has [[assignments]]", "use [[deliverables]] instead")
            )
        if not module.deliverables:
            problems.append(Problem(file, "a career module has no [[deliverables]]", "add at least one"))
    if module.kind == "project" and not (module.assignments or module.deliverables):
        problems.append(Problem(file, "a project module has neither [[assignments]] nor [[deliverables]]"))


def changelog_versions(folder: Path) -> list[str]:
    """Versions named by CHANGELOG.md's '## <version> - <date>' headings, newest first."""
    file = folder / "CHANGELOG.md"
    if not file.is_file():
        return []
    return [match.group(1) for match in CHANGELOG_HEADING.finditer(file.read_text(encoding="utf-8"))]


def _check_changelog(folder: Path, version: str, problems: list[Problem]) -> None:
    versions = changelog_versions(folder)
    file = folder / "CHANGELOG.md"
    if not versions:
        problems.append(
            Problem(file, "has no '## <version> - <date>' entry", f"add '## {version} - YYYY-MM-DD'")
        )
    elif versions[0] != version:
        problems.append(
            Problem(
                file,
                f"newest entry is {versions[0]} but module.toml says version {version}",
                f"add '## {version} - YYYY-MM-DD' at the top describing what changed",
            )
        )


def _week_hours(entry: _Fields, modules: tuple[str, ...]) -> dict[str, float]:
    """The optional `hours = { module = N }` of a week: modules of that week, positive numbers."""
    stated = entry.data.get("hours")
    if stated is None:
        return {}
    if not isinstance(stated, dict):
        entry.problem(
            "hours", f"must be a table of module = hours, got {stated!r}", "e.g. hours = { numpy = 20 }"
        )
        return {}
    found = {}
    for slug, value in stated.items():
        if slug not in modules:
            entry.problem(
                "hours", f"names {slug!r}, which the week does not teach", "add it to modules or drop it"
            )
        elif isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            entry.problem("hours", f"gives {slug!r} {value!r} hours", "use a positive number")
        else:
            found[slug] = float(value)
    return found


def load_track(file: Path, problems: list[Problem]) -> Track | None:
    """The track in `file` (None only when it cannot be read); problems are appended to `problems`."""
    data = read_toml(file, problems)
    if data is None:
        return None
    fields = _Fields(data, file, problems)
    fields.unknown(TRACK_KEYS)
    name = fields.text("name")
    if name and name != file.stem:
        fields.problem("name", f"is {name!r} but the file is {file.name}", f'use name = "{file.stem}"')
    weeks = []
    for entry in fields.tables("weeks"):
        entry.unknown(WEEK_KEYS)
        number = entry.data.get("week")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            entry.problem("week", f"must be a week number from 1, got {number!r}")
            number = 0
        modules = entry.texts("modules")
        if not modules and "modules" in entry.data:
            entry.problem("modules", "is empty", "every week teaches at least one module")
        weeks.append(
            Week(
                number=number,
                modules=modules,
                theme=entry.text("theme", required=False),
                milestone=entry.text("milestone", required=False),
                hours=_week_hours(entry, modules),
            )
        )
    if not weeks:
        fields.problem("weeks", "has no entries", "add one [[weeks]] table per week")
    track = Track(
        name=file.stem,
        title=fields.text("title"),
        weeks=tuple(weeks),
        path=file,
        midterm_project=fields.text("midterm_project"),
        capstone=fields.text("capstone"),
        demo_day=fields.text("demo_day"),
        max_hours_per_week=fields.number("max_hours_per_week", required=False) or 40,
        min_hours_per_week=fields.number("min_hours_per_week", required=False, positive=False) or 0,
    )
    return track
