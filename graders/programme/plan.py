"""The week-by-week plan of a track: which assignment is due when, read from curriculum/ defensively."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from graders.settings import repo_root

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedAssignment:
    """An nbgrader assignment and the week of the track by whose end it is due."""

    name: str
    title: str
    module: str
    week: int
    points: float

    def due_on(self, start: date) -> date:
        """Week 1 ends 7 days after the cohort starts, week N ends 7*N days after."""
        return start + timedelta(days=7 * self.week)


@dataclass(frozen=True)
class ModuleInfo:
    id: str
    title: str
    kind: str
    version: str
    weeks: tuple[int, ...]
    assignments: tuple[str, ...]
    deliverables: tuple[tuple[str, str], ...] = ()


@dataclass
class TrackPlan:
    """A track's modules by week; empty (with a warning) when the curriculum is missing or unreadable."""

    track: str
    weeks: int = 0
    modules: dict[str, ModuleInfo] = field(default_factory=dict)
    assignments: list[PlannedAssignment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def assignment(self, name: str) -> PlannedAssignment | None:
        return next((a for a in self.assignments if a.name == name), None)

    def due_by(self, start: date, today: date) -> list[PlannedAssignment]:
        return [a for a in self.assignments if a.due_on(start) <= today]


def default_curriculum_dir() -> Path:
    return repo_root() / "curriculum"


def _read_toml(path: Path) -> dict[str, Any] | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        log.warning("cannot read %s: %s", path, error)
        return None


def _as_int_list(value: Any) -> list[int]:
    """Reads `3`, `[3, 4]`, `"3-5"` or `{start=3, end=5}` as a list of week numbers."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, str) and "-" in value:
        low, _, high = value.partition("-")
        if low.strip().isdigit() and high.strip().isdigit():
            return list(range(int(low), int(high) + 1))
    if isinstance(value, str) and value.strip().isdigit():
        return [int(value)]
    if isinstance(value, list):
        return [w for item in value for w in _as_int_list(item)]
    if isinstance(value, dict):
        start = value.get("start") or value.get("from")
        end = value.get("end") or value.get("to") or start
        if isinstance(start, int) and isinstance(end, int):
            return list(range(start, end + 1))
    return []


def _as_str_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict) and isinstance(item.get("id") or item.get("module"), str):
                out.append(item.get("id") or item.get("module"))
        return out
    return []


def module_weeks(track_doc: dict[str, Any]) -> dict[str, list[int]]:
    """Maps module id -> the weeks it is taught, whichever of the plausible layouts the track file uses.

    Understood: `[[weeks]]` with `week`/`number` and `modules`/`module`; a `[weeks]` table keyed by week
    number; `[[modules]]` with `id`/`module` and `weeks`/`week`/`start_week`+`end_week`.
    """
    found: dict[str, list[int]] = {}

    def add(module: str, weeks: list[int]) -> None:
        found.setdefault(module, []).extend(w for w in weeks if w > 0)

    weeks = track_doc.get("weeks") or track_doc.get("week")
    if isinstance(weeks, list):
        for position, entry in enumerate(weeks, start=1):
            if not isinstance(entry, dict):
                continue
            numbers = _as_int_list(entry.get("week", entry.get("number", entry.get("weeks", position))))
            for module in _as_str_list(entry.get("modules", entry.get("module", []))):
                add(module, numbers)
    elif isinstance(weeks, dict):
        for key, entry in weeks.items():
            numbers = _as_int_list(key)
            modules = entry.get("modules", entry.get("module")) if isinstance(entry, dict) else entry
            for module in _as_str_list(modules):
                add(module, numbers)
    modules = track_doc.get("modules")
    if isinstance(modules, list):
        for entry in modules:
            if not isinstance(entry, dict):
                continue
            module = entry.get("id") or entry.get("module")
            if not isinstance(module, str):
                continue
            numbers = _as_int_list(entry.get("weeks", entry.get("week", [])))
            if not numbers and isinstance(entry.get("start_week"), int):
                numbers = _as_int_list({"start": entry["start_week"], "end": entry.get("end_week")})
            add(module, numbers)
    return {m: sorted(set(w)) for m, w in found.items() if w}


def load_plan(track: str, curriculum_dir: Path | None = None) -> TrackPlan:
    """Reads tracks/<track>.toml and each module's module.toml; an assignment is due at the end of the
    last week its module is taught."""
    root = curriculum_dir or default_curriculum_dir()
    plan = TrackPlan(track=track)
    track_file = root / "tracks" / f"{track}.toml"
    doc = _read_toml(track_file) if track_file.exists() else None
    if doc is None:
        plan.warnings.append(f"no readable week plan at {track_file}; due dates are unknown")
        return plan
    weeks_by_module = module_weeks(doc)
    if not weeks_by_module:
        plan.warnings.append(f"{track_file} lists no modules by week; due dates are unknown")
    declared_weeks = doc.get("total_weeks") or doc.get("duration_weeks")
    all_weeks = [w for ws in weeks_by_module.values() for w in ws]
    plan.weeks = int(declared_weeks) if isinstance(declared_weeks, int) else max(all_weeks, default=0)
    for module_id, weeks in sorted(weeks_by_module.items(), key=lambda item: (max(item[1]), item[0])):
        module_file = root / "modules" / module_id / "module.toml"
        mdoc = _read_toml(module_file) if module_file.exists() else None
        if mdoc is None:
            plan.warnings.append(f"module {module_id!r} in the {track} track has no readable {module_file}")
            continue
        names: list[str] = []
        for entry in mdoc.get("assignments", []) or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            names.append(entry["name"])
            points = entry.get("points", 0)
            plan.assignments.append(
                PlannedAssignment(
                    name=entry["name"],
                    title=str(entry.get("title", entry["name"])),
                    module=module_id,
                    week=max(weeks),
                    points=float(points) if isinstance(points, int | float) else 0.0,
                )
            )
        deliverables = tuple(
            (str(d["id"]), str(d.get("title", d["id"])))
            for d in mdoc.get("deliverables", []) or []
            if isinstance(d, dict) and "id" in d
        )
        plan.modules[module_id] = ModuleInfo(
            id=module_id,
            title=str(mdoc.get("title", module_id)),
            kind=str(mdoc.get("kind", "technical")),
            version=str(mdoc.get("version", "")),
            weeks=tuple(weeks),
            assignments=tuple(names),
            deliverables=deliverables,
        )
    plan.assignments.sort(key=lambda a: (a.week, a.module, a.name))
    for warning in plan.warnings:
        log.warning("%s", warning)
    return plan
