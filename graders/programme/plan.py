"""The week-by-week plan of a track: which assignment is due when (for progress reports and transcripts)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from graders.curriculum.catalogue import load_catalogue, load_tracks
from graders.curriculum.model import Problem
from graders.errors import UserError
from graders.settings import default_curriculum_dir

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


def load_plan(track: str, curriculum_dir: Path | None = None) -> TrackPlan:
    """The track's modules by week, read through graders.curriculum (the one reader of those files).

    An assignment is due at the end of the last week its module is taught. Problems in the files become
    warnings: a report with unknown due dates is still better than no report.
    """
    plan = TrackPlan(track=track)
    try:
        catalogue = load_catalogue(curriculum_dir or default_curriculum_dir())
    except UserError as error:
        plan.warnings.append(f"{error}; due dates are unknown")
        return plan
    problems: list[Problem] = []
    tracks = load_tracks(catalogue, problems)
    if track not in tracks:
        plan.warnings.append(
            f"no readable week plan for {track!r} in {catalogue.tracks_dir}; due dates are unknown"
        )
        return plan
    chosen = tracks[track]
    plan.weeks = max((week.number for week in chosen.weeks), default=0)
    for slug in chosen.slugs:
        weeks = chosen.weeks_of(slug)
        module = catalogue.modules.get(slug)
        if module is None:
            plan.warnings.append(f"module {slug!r} in the {track} track is not in {catalogue.modules_dir}")
            continue
        for assignment in module.assignments:
            plan.assignments.append(
                PlannedAssignment(
                    name=assignment.name,
                    title=assignment.title,
                    module=slug,
                    week=max(weeks),
                    points=assignment.points,
                )
            )
        plan.modules[slug] = ModuleInfo(
            id=slug,
            title=module.title,
            kind=module.kind,
            version=module.version,
            weeks=tuple(weeks),
            assignments=tuple(a.name for a in module.assignments),
            deliverables=tuple((d.id, d.title) for d in module.deliverables),
        )
    plan.assignments.sort(key=lambda a: (a.week, a.module, a.name))
    for warning in plan.warnings:
        log.warning("%s", warning)
    return plan
