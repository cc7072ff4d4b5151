"""Checks that a track is a schedule a full-time cohort can follow.

A track lists, week by week, the modules taught in teaching order. A module that spans several weeks
appears in each of them, and its hours are spread evenly over those weeks unless a week states its
share (`hours = { numpy = 20 }`); the stated shares must add up to the module's hours. The checks: every week is
covered, every module exists, prerequisites finish before their dependents start, no week exceeds a
full-time week, and the programme has a mid-programme project, a capstone after it and a demo day at
the end.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from graders.curriculum.model import Catalogue, Problem, Track

FULL_TIME_HOURS = 40


def week_hours(track: Track, catalogue: Catalogue) -> dict[int, float]:
    """Planned hours in each week: what a week states for a module, else an even spread over its weeks."""
    hours: dict[int, float] = defaultdict(float)
    for slug in track.slugs:
        module = catalogue.modules.get(slug)
        if module is None:
            continue
        for number in track.weeks_of(slug):
            hours[number] += track.hours_in_week(slug, number, module.hours)
    return {week.number: round(hours[week.number], 1) for week in track.weeks}


def _check_stated_hours(track: Track, catalogue: Catalogue, problem: Callable[..., None]) -> None:
    """Hours stated per week must add up to the module's hours: none lost, none invented."""
    for slug in track.slugs:
        module = catalogue.modules.get(slug)
        weeks = [week for week in track.weeks if slug in week.modules]
        stated = sum(week.hours.get(slug, 0.0) for week in weeks)
        if module is None or not stated:
            continue
        every_week_stated = all(slug in week.hours for week in weeks)
        if stated > module.hours + 0.5 or (every_week_stated and abs(stated - module.hours) > 0.5):
            problem(
                f"the weeks give {slug} {stated:g} hours in all, but the module has {module.hours:g}",
                f"make the stated hours add up to {module.hours:g} (or leave a week unstated for the rest)",
            )


def _positions(track: Track) -> dict[str, list[tuple[int, int]]]:
    """Each module's (week, place in that week's list) slots: the order in which things are taught."""
    slots: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for week in track.weeks:
        for index, slug in enumerate(week.modules):
            slots[slug].append((week.number, index))
    return slots


def check_track(track: Track, catalogue: Catalogue) -> list[Problem]:
    """Everything wrong with the schedule, as problems naming the track file and the fix."""
    problems: list[Problem] = []

    def problem(message: str, fix: str = "") -> None:
        problems.append(Problem(track.path, message, fix))

    numbers = [week.number for week in track.weeks]
    expected = list(range(1, len(numbers) + 1))
    if numbers != expected:
        missing = sorted(set(expected) - set(numbers))
        problem(
            f"weeks must run 1..{len(numbers)} in order without gaps or repeats, got {numbers}",
            f"add week(s) {missing}" if missing else "renumber the [[weeks]] tables",
        )
    for week in track.weeks:
        if not week.modules:
            problem(f"week {week.number} has no modules", "every week teaches at least one module")
        repeated = {slug for slug in week.modules if week.modules.count(slug) > 1}
        if repeated:
            problem(f"week {week.number} lists {sorted(repeated)} more than once")

    unknown = [slug for slug in track.slugs if slug not in catalogue.modules]
    for slug in unknown:
        problem(
            f"module {slug!r} is not in the catalogue", f"create curriculum/modules/{slug}/ or fix the slug"
        )

    slots = _positions(track)
    for slug in track.slugs:
        module = catalogue.modules.get(slug)
        if module is None:
            continue
        start = min(slots[slug])
        for prerequisite in module.prerequisites:
            if prerequisite not in slots:
                problem(
                    f"{slug} (week {start[0]}) needs {prerequisite}, which this track does not schedule",
                    f"add {prerequisite} to an earlier week",
                )
            elif max(slots[prerequisite]) >= start:
                problem(
                    f"{slug} starts in week {start[0]} before its prerequisite {prerequisite} finishes"
                    f" (week {max(slots[prerequisite])[0]})",
                    f"move {slug} later or {prerequisite} earlier (within a week, list it after {prerequisite})",
                )

    if track.max_hours_per_week > FULL_TIME_HOURS:
        problem(
            f"max_hours_per_week is {track.max_hours_per_week}, above a full-time week of {FULL_TIME_HOURS}"
        )
    _check_stated_hours(track, catalogue, problem)
    limit = min(track.max_hours_per_week, FULL_TIME_HOURS)
    for number, hours in week_hours(track, catalogue).items():
        if hours > limit:
            problem(
                f"week {number} plans {hours:g} hours, more than {limit:g}",
                "spread a module over more weeks or move one to a lighter week",
            )
        elif hours < track.min_hours_per_week:
            problem(
                f"week {number} plans {hours:g} hours, fewer than the track's min_hours_per_week "
                f"{track.min_hours_per_week:g}",
                "give the week more material or spread fewer modules over it",
            )

    _check_milestones(track, catalogue, problem)
    return problems


def _check_milestones(track: Track, catalogue: Catalogue, problem: Callable[..., None]) -> None:
    """A mid-programme project near the middle, a capstone after it, a demo day in the last week."""
    length = len(track.weeks)
    for role, slug in (
        ("midterm_project", track.midterm_project),
        ("capstone", track.capstone),
        ("demo_day", track.demo_day),
    ):
        if slug and not track.weeks_of(slug):
            problem(f"{role} {slug!r} is not scheduled in any week", f"add {slug} to the [[weeks]]")
    for role, slug in (("midterm_project", track.midterm_project), ("capstone", track.capstone)):
        module = catalogue.modules.get(slug)
        if module is not None and module.kind != "project":
            problem(f"{role} {slug!r} is a {module.kind} module, expected a project module")
    midterm = track.weeks_of(track.midterm_project)
    capstone = track.weeks_of(track.capstone)
    demo = track.weeks_of(track.demo_day)
    if midterm and not (length / 3 <= midterm[0] <= 2 * length / 3 + 1):
        problem(
            f"the mid-programme project starts in week {midterm[0]} of {length}",
            "schedule it in the middle third of the programme",
        )
    if midterm and capstone and capstone[0] <= midterm[-1]:
        problem(f"the capstone starts in week {capstone[0]}, before the mid-programme project ends")
    if demo and demo[-1] != length:
        problem(f"demo day is in week {demo[-1]}", f"schedule {track.demo_day} in the last week ({length})")


def unscheduled(catalogue: Catalogue, tracks: list[Track]) -> list[str]:
    """Modules that no track teaches: content nobody would ever see."""
    scheduled = {slug for track in tracks for slug in track.slugs}
    return sorted(set(catalogue.modules) - scheduled)
