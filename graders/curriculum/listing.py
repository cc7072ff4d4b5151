"""The catalogue and tracks as data (for --json) and as tables (for people)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from graders.curriculum.model import Catalogue, Track
from graders.curriculum.tracks import week_hours


def catalogue_data(catalogue: Catalogue, tracks: dict[str, Track]) -> dict[str, Any]:
    """Plain data describing every module and the given tracks week by week."""
    modules = [
        {
            "slug": m.slug,
            "title": m.title,
            "version": m.version,
            "kind": m.kind,
            "hours": m.hours,
            "prerequisites": list(m.prerequisites),
            "points": m.points,
            "assignments": [
                {
                    "name": a.name,
                    "title": a.title,
                    "points": a.points,
                    "time_budget_s": a.time_budget_s,
                    "image": a.image,
                }
                for a in m.assignments
            ],
            "deliverables": [{"id": d.id, "title": d.title} for d in m.deliverables],
        }
        for m in sorted(catalogue.modules.values(), key=lambda m: m.slug)
    ]
    return {
        "root": str(catalogue.root),
        "modules": modules,
        "tracks": {name: track_data(track, catalogue) for name, track in tracks.items()},
        "problems": [str(problem) for problem in catalogue.problems],
    }


def track_data(track: Track, catalogue: Catalogue) -> dict[str, Any]:
    hours = week_hours(track, catalogue)
    return {
        "title": track.title,
        "midterm_project": track.midterm_project,
        "capstone": track.capstone,
        "demo_day": track.demo_day,
        "weeks": [
            {
                "week": week.number,
                "theme": week.theme,
                "modules": list(week.modules),
                "hours": hours.get(week.number, 0),
                "milestone": week.milestone,
            }
            for week in track.weeks
        ],
    }


def print_tables(catalogue: Catalogue, tracks: dict[str, Track], console: Console) -> None:
    table = Table(title=f"Modules in {catalogue.root}")
    for column in ("module", "version", "kind", "hours", "assignments", "points"):
        table.add_column(column, justify="right" if column in ("hours", "points") else "left")
    for module in sorted(catalogue.modules.values(), key=lambda m: (m.kind, m.slug)):
        work = ", ".join(a.name for a in module.assignments) or ", ".join(d.id for d in module.deliverables)
        table.add_row(
            module.slug,
            module.version,
            module.kind,
            f"{module.hours:g}",
            work,
            f"{module.points:g}" if module.points else "",
        )
    console.print(table)
    for name, track in tracks.items():
        hours = week_hours(track, catalogue)
        weeks = Table(title=f"{track.title} ({name}, {len(track.weeks)} weeks)")
        for column in ("week", "theme", "modules", "hours", "milestone"):
            weeks.add_column(column, justify="right" if column in ("week", "hours") else "left")
        for week in track.weeks:
            weeks.add_row(
                str(week.number),
                week.theme,
                ", ".join(week.modules),
                f"{hours.get(week.number, 0):g}",
                week.milestone,
            )
        console.print(weeks)
    for problem in catalogue.problems:
        console.print(f"[yellow]problem:[/yellow] {problem}")
