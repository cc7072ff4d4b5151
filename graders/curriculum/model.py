"""Records describing the curriculum: modules, their assignments and deliverables, and tracks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("technical", "career", "project")
IMAGES = ("grader", "grader-dl")
# What an assignment is for: an exercise set drills the lessons, an applied problem transfers them to real
# data, a mini-project is a larger real-data question with a written part an instructor grades.
ASSIGNMENT_KINDS = ("exercises", "applied", "mini-project", "project")


@dataclass(frozen=True)
class Assignment:
    """One nbgrader assignment: `assignments/<name>/<name>.ipynb` plus its small data files."""

    name: str
    title: str
    points: float
    time_budget_s: float
    image: str
    folder: Path
    kind: str = "exercises"

    @property
    def notebook(self) -> Path:
        return self.folder / f"{self.name}.ipynb"


@dataclass(frozen=True)
class Dataset:
    """A real data set a module uses, with where it comes from and the licence that lets us ship it."""

    name: str
    source: str
    licence: str
    rows: int
    used_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deliverable:
    """Something a trainee hands in for a career module, marked done by an instructor.

    `hours` is the trainee work the deliverable stands for when it is more than the usual few hours of
    a career task, e.g. a practicum week whose timesheet the host supervisor signs.
    """

    id: str
    title: str
    description: str
    hours: float | None = None


@dataclass(frozen=True)
class Module:
    """One folder under curriculum/modules/, described by its module.toml."""

    slug: str
    title: str
    version: str
    kind: str
    summary: str
    outcomes: tuple[str, ...]
    prerequisites: tuple[str, ...]
    hours: float
    path: Path
    assignments: tuple[Assignment, ...] = ()
    deliverables: tuple[Deliverable, ...] = ()
    datasets: tuple[Dataset, ...] = ()

    @property
    def points(self) -> float:
        return sum(a.points for a in self.assignments)


@dataclass(frozen=True)
class Week:
    """One week of a track: the modules taught in it, in teaching order."""

    number: int
    modules: tuple[str, ...]
    theme: str = ""
    milestone: str = ""
    # hours a module gets in this week, where the plan is not an even spread (e.g. {"numpy": 20})
    hours: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Track:
    """A full-time programme (six or nine months): weeks mapped to modules and career milestones."""

    name: str
    title: str
    weeks: tuple[Week, ...]
    path: Path
    midterm_project: str
    capstone: str
    demo_day: str
    max_hours_per_week: float = 40
    min_hours_per_week: float = 0  # a full-time track declares the least a week must plan (e.g. 35)

    @property
    def slugs(self) -> list[str]:
        """Every module in the track, in order of first appearance."""
        seen: dict[str, None] = {}
        for week in self.weeks:
            for slug in week.modules:
                seen.setdefault(slug, None)
        return list(seen)

    def weeks_of(self, slug: str) -> list[int]:
        return [week.number for week in self.weeks if slug in week.modules]

    def hours_in_week(self, slug: str, number: int, module_hours: float) -> float:
        """A module's hours in one week: what the week states for it, else an even share of what the
        weeks with a stated figure leave over."""
        weeks = [week for week in self.weeks if slug in week.modules]
        stated = {week.number: week.hours[slug] for week in weeks if slug in week.hours}
        if number in stated:
            return stated[number]
        rest = [week for week in weeks if week.number not in stated]
        if not any(week.number == number for week in rest):
            return 0.0
        return max(0.0, module_hours - sum(stated.values())) / len(rest)


@dataclass
class Problem:
    """One thing wrong with the curriculum files: where, what, and how to fix it."""

    file: Path
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.file}: {self.message}"
        return f"{text} ({self.fix})" if self.fix else text


@dataclass
class Catalogue:
    """Every module found under a curriculum root, plus the problems met while reading them."""

    root: Path
    modules: dict[str, Module] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def modules_dir(self) -> Path:
        return self.root / "modules"

    @property
    def tracks_dir(self) -> Path:
        return self.root / "tracks"
