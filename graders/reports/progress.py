"""The progress report of one cohort: each trainee against the track's week plan, score distributions
and at-risk flags with their reasons.

Hub activity comes from cohorts/<name>/activity.json, written by the hub side: a JSON object mapping each
hub user name to JupyterHub's `last_activity` for that user as an ISO 8601 timestamp (or null when the
user never logged in), e.g. {"amina.h": "2026-11-20T09:15:02Z", "omar.k": null}.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from graders.programme import cohorts as cohorts_mod
from graders.programme.activity import read_activity
from graders.programme.cohorts import Cohort
from graders.programme.grades import Grade, read_gradebook, submitted
from graders.programme.plan import TrackPlan, load_plan
from graders.programme.records import Trainee
from graders.reports import suppression
from graders.settings import Settings

log = logging.getLogger(__name__)

MISSED_LIMIT = 2  # this many missed due assignments flags a trainee
FALLING_WINDOW = 3  # graded assignments looked at for a falling trend
FALLING_DROP_POINTS = 10.0  # and the total fall (percentage points) across them that counts
DEFAULT_INACTIVE_DAYS = 7


@dataclass
class AssignmentState:
    """One trainee's position on one assignment."""

    name: str
    due: date | None
    submitted: bool
    grade: Grade | None

    def state(self, today: date) -> str:
        if self.grade is not None:
            return "graded"
        if self.submitted:
            return "submitted"
        if self.due is not None and self.due < today:
            return "missed"
        return "open"


@dataclass
class TraineeProgress:
    trainee: Trainee
    assignments: list[AssignmentState]
    last_activity: datetime | None
    risks: list[str] = field(default_factory=list)

    def due(self, today: date) -> list[AssignmentState]:
        return [a for a in self.assignments if a.due is not None and a.due < today]

    def missed(self, today: date) -> list[AssignmentState]:
        return [a for a in self.assignments if a.state(today) == "missed"]

    @property
    def graded(self) -> list[AssignmentState]:
        return [a for a in self.assignments if a.grade is not None]

    @property
    def average_percent(self) -> float | None:
        graded = self.graded
        if not graded:
            return None
        return statistics.fmean(a.grade.percent for a in graded if a.grade)

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)


@dataclass
class AssignmentSummary:
    """The cohort's results on one assignment; statistics over fewer than 5 people stay hidden."""

    name: str
    title: str
    week: int | None
    due: date | None
    max_score: float
    percents: list[float]
    submitted_count: int
    expected_count: int

    @property
    def graded_count(self) -> int:
        return len(self.percents)

    @property
    def mean(self) -> float | None:
        return suppression.stat_of(self.percents, statistics.fmean)

    @property
    def median(self) -> float | None:
        return suppression.stat_of(self.percents, statistics.median)

    @property
    def low(self) -> float | None:
        return suppression.stat_of(self.percents, min)

    @property
    def high(self) -> float | None:
        return suppression.stat_of(self.percents, max)


@dataclass
class ProgressReport:
    cohort: Cohort
    plan: TrackPlan
    today: date
    inactive_days: int
    trainees: list[TraineeProgress]
    assignments: list[AssignmentSummary]
    activity_known: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def week(self) -> int:
        """The programme week that today falls in (1-based; 0 before the start)."""
        days = (self.today - self.cohort.start).days
        return 0 if days < 0 else days // 7 + 1

    @property
    def at_risk(self) -> list[TraineeProgress]:
        return [t for t in self.trainees if t.at_risk]


def _risks(tp: TraineeProgress, report_today: date, activity: dict | None, inactive_days: int) -> list[str]:
    """Why a trainee needs a conversation now; each reason names its evidence."""
    reasons: list[str] = []
    missed = tp.missed(report_today)
    if len(missed) >= MISSED_LIMIT:
        reasons.append(f"missed {len(missed)} due assignments ({', '.join(a.name for a in missed)})")
    graded = sorted(tp.graded, key=lambda a: (a.due or date.max, a.name))
    if len(graded) >= FALLING_WINDOW:
        last = [a.grade.percent for a in graded[-FALLING_WINDOW:] if a.grade]
        falling = all(later < earlier for earlier, later in zip(last, last[1:], strict=False))
        if falling and last[0] - last[-1] >= FALLING_DROP_POINTS:
            trend = " → ".join(f"{p:.0f}%" for p in last)
            reasons.append(f"scores falling over the last {FALLING_WINDOW} graded ({trend})")
    if activity is not None:
        if tp.last_activity is None:
            reasons.append("no hub activity recorded")
        else:
            idle = (report_today - tp.last_activity.astimezone(UTC).date()).days
            if idle >= inactive_days:
                reasons.append(f"no hub activity for {idle} days")
    return reasons


def build_progress(
    settings: Settings,
    cohort_name: str,
    *,
    today: date | None = None,
    inactive_days: int = DEFAULT_INACTIVE_DAYS,
    curriculum_dir: Path | None = None,
) -> ProgressReport:
    """Joins the week plan, the gradebook, submitted/ and activity.json into one report."""
    cohort = cohorts_mod.load_cohort(settings, cohort_name)
    today = today or date.today()
    plan = load_plan(cohort.track, curriculum_dir)
    gradebook = read_gradebook(cohort)
    activity = read_activity(cohort.activity_file)
    people = cohorts_mod.trainees(settings, cohort)

    # The plan decides order and due dates; assignments graded but not in the plan are kept, due unknown.
    names = [a.name for a in plan.assignments]
    names += sorted(a.name for a in gradebook.assignments if a.name not in names)
    due: dict[str, date | None] = {}
    for name in names:
        planned = plan.assignment(name)
        in_gradebook = gradebook.assignment(name)
        if planned:
            due[name] = planned.due_on(cohort.start)
        elif in_gradebook and in_gradebook.duedate:
            due[name] = in_gradebook.duedate.date()
        else:
            due[name] = None

    progress: list[TraineeProgress] = []
    for trainee in people:
        states = [
            AssignmentState(
                name=name,
                due=due[name],
                submitted=submitted(cohort, trainee.id, name)
                or gradebook.grade(trainee.id, name) is not None,
                grade=gradebook.grade(trainee.id, name),
            )
            for name in names
        ]
        seen = activity.get(trainee.id) if activity else None
        tp = TraineeProgress(trainee=trainee, assignments=states, last_activity=seen)
        if trainee.status not in ("completed", "dropped"):
            tp.risks = _risks(tp, today, activity, inactive_days)
        progress.append(tp)

    active = [tp for tp in progress if tp.trainee.status != "dropped"]
    summaries = []
    for name in names:
        planned = plan.assignment(name)
        in_gradebook = gradebook.assignment(name)
        percents = [s.grade.percent for tp in active for s in tp.assignments if s.name == name and s.grade]
        summaries.append(
            AssignmentSummary(
                name=name,
                title=planned.title if planned else name,
                week=planned.week if planned else None,
                due=due[name],
                max_score=(in_gradebook.max_score if in_gradebook else 0)
                or (planned.points if planned else 0),
                percents=percents,
                submitted_count=sum(
                    1 for tp in active for s in tp.assignments if s.name == name and s.submitted
                ),
                expected_count=len(active),
            )
        )
    warnings = list(plan.warnings)
    if activity is None:
        warnings.append(f"no {cohort.activity_file.name} from the hub yet: hub activity was not checked")
    return ProgressReport(
        cohort=cohort,
        plan=plan,
        today=today,
        inactive_days=inactive_days,
        trainees=progress,
        assignments=summaries,
        activity_known=activity is not None,
        warnings=warnings,
    )
