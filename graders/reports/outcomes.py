"""The funders' aggregate outcome report, from the outcomes recorded in graders.programme.outcomes.

Definitions the report uses (say them when a funder asks):
- participants: trainees enrolled in the cohort; women: those who self-reported "woman".
- completion rate: completed / (completed + dropped out), i.e. of those whose programme has ended.
- interviewed: trainees with at least one job interview recorded.
- employment rate at completion, 3 and 6 months: employed / completers (a follow-up not recorded counts
  as not employed).
- completion and employment figures appear once nobody in a cohort is still in training ("–" before).
- using AI/ML skills: of those employed at the latest follow-up recorded, the share whose job uses them.
- partner companies: distinct companies named in the trainees' company events and interviews.
All counts of people below 5 are suppressed (see suppression.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from graders.errors import UserError
from graders.programme import records
from graders.programme.cohorts import list_cohorts, load_cohort
from graders.programme.records import TraineeOutcomes
from graders.reports import suppression
from graders.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class OutcomeCounts:
    """Raw counts of people for one group (a cohort, or all cohorts together). Never shown unsuppressed."""

    label: str
    participants: int = 0
    women: int = 0
    completed: int = 0
    dropped: int = 0
    in_progress: int = 0
    interviewed: int = 0
    interviews: int = 0
    employed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(records.FOLLOWUP_STAGES, 0))
    studying: dict[str, int] = field(default_factory=lambda: dict.fromkeys(records.FOLLOWUP_STAGES, 0))
    recorded: dict[str, int] = field(default_factory=lambda: dict.fromkeys(records.FOLLOWUP_STAGES, 0))
    employed_latest: int = 0
    using_ai_ml: int = 0
    companies: set[str] = field(default_factory=set)

    def add(self, person: TraineeOutcomes) -> None:
        t = person.trainee
        self.participants += 1
        self.women += t.gender == "woman"
        self.completed += t.status == "completed"
        self.dropped += t.status == "dropped"
        self.in_progress += t.status in ("enrolled", "active")
        self.interviewed += person.interviews > 0
        self.interviews += person.interviews
        self.companies.update(e.company.strip() for e in person.events if e.company.strip())
        if t.status != "completed":
            return
        latest = None
        for stage in records.FOLLOWUP_STAGES:
            f = person.followups.get(stage)
            if f is None:
                continue
            latest = f
            self.recorded[stage] += 1
            self.employed[stage] += f.status == "employed"
            self.studying[stage] += f.status == "studying"
        if latest is not None and latest.status == "employed":
            self.employed_latest += 1
            self.using_ai_ml += bool(latest.uses_ai_ml)


@dataclass
class OutcomeRow:
    """One group's figures after suppression, as display strings ("<5" hidden, "–" not applicable yet)."""

    label: str
    cells: dict[str, str]
    counts: OutcomeCounts


COLUMNS: tuple[tuple[str, str], ...] = (
    ("participants", "Participants"),
    ("women", "Women"),
    ("women_share", "Women %"),
    ("completed", "Completed"),
    ("completion_rate", "Completion rate"),
    ("interviewed", "Trainees interviewed"),
    ("interviews", "Interviews attended"),
    ("employed_completion", "Employed at completion"),
    ("employed_3m", "Employed at 3 months"),
    ("employed_6m", "Employed at 6 months"),
    ("studying_6m", "Studying at 6 months"),
    ("using_ai_ml", "In work using AI/ML skills"),
    ("companies", "Partner companies"),
)
NOT_YET = "–"
# Figures that only mean something once everyone in a cohort has finished or left.
ENDED_ONLY = (
    "completed",
    "completion_rate",
    "employed_completion",
    "employed_3m",
    "employed_6m",
    "studying_6m",
    "using_ai_ml",
)


@dataclass
class OutcomeReport:
    rows: list[OutcomeRow]
    overall: OutcomeRow | None
    today: date

    @property
    def all_rows(self) -> list[OutcomeRow]:
        return self.rows + ([self.overall] if self.overall else [])


def _ongoing(group: OutcomeCounts) -> bool:
    return group.in_progress > 0


def _suppress_rows(groups: list[OutcomeCounts], total: OutcomeCounts | None) -> list[OutcomeRow]:
    """Turns raw counts into display cells.

    Counts of people are suppressed column by column across the cohorts (suppress_with_total), so that a
    hidden cohort value cannot be recovered by subtracting the others from the overall figure. A cohort
    still in training shows "–" for completion and employment, and the overall row counts only cohorts
    that have ended for those figures.
    """
    ended = [g for g in groups if not _ongoing(g)]
    shown: dict[str, dict[str, int | None]] = {}
    for name in ("participants", "women", "interviewed"):
        values = {g.label: getattr(g, name) for g in groups}
        shown[name] = suppression.suppress_with_total(values, getattr(total, name) if total else None)
    ended_completed = sum(g.completed for g in ended)
    shown["completed"] = suppression.suppress_with_total(
        {g.label: g.completed for g in ended}, ended_completed if total else None
    )
    rows: list[OutcomeRow] = []
    for g in groups + ([total] if total else []):
        if total is not None and g is total:
            cell = {
                name: suppression.count(getattr(g, name)) for name in ("participants", "women", "interviewed")
            }
            cell["completed"] = suppression.count(ended_completed)
            basis = OutcomeCounts(label="ended")
            for e in ended:
                basis.completed += e.completed
                basis.dropped += e.dropped
                basis.employed_latest += e.employed_latest
                basis.using_ai_ml += e.using_ai_ml
                for stage in records.FOLLOWUP_STAGES:
                    basis.employed[stage] += e.employed[stage]
                    basis.studying[stage] += e.studying[stage]
                    basis.recorded[stage] += e.recorded[stage]
            not_applicable = not ended
        else:
            cell = {name: shown[name][g.label] for name in ("participants", "women", "interviewed")}
            cell["completed"] = shown["completed"].get(g.label)
            basis = g
            not_applicable = _ongoing(g)
        cells = {
            "participants": suppression.fmt_count(cell["participants"]),
            "women": suppression.fmt_count(cell["women"]),
            "women_share": suppression.fmt_share(suppression.share(cell["women"], cell["participants"])),
            "completed": suppression.fmt_count(cell["completed"]),
            "completion_rate": suppression.fmt_share(
                suppression.share(cell["completed"], basis.completed + basis.dropped)
            ),
            "interviewed": suppression.fmt_count(cell["interviewed"]),
            # Interviews are events, but shown only when the people behind them form a group of 5+.
            "interviews": str(g.interviews) if cell["interviewed"] is not None else suppression.SUPPRESSED,
            "employed_completion": suppression.fmt_share(
                suppression.share(basis.employed["completion"], cell["completed"])
            ),
            "employed_3m": suppression.fmt_share(suppression.share(basis.employed["3m"], cell["completed"])),
            "employed_6m": suppression.fmt_share(suppression.share(basis.employed["6m"], cell["completed"])),
            "studying_6m": suppression.fmt_share(suppression.share(basis.studying["6m"], cell["completed"])),
            "using_ai_ml": suppression.fmt_share(suppression.share(basis.using_ai_ml, basis.employed_latest)),
            "companies": str(len(g.companies)),
        }
        if not_applicable:
            cells.update(dict.fromkeys(ENDED_ONLY, NOT_YET))
        for stage, keys in (
            ("completion", ["employed_completion"]),
            ("3m", ["employed_3m"]),
            ("6m", ["employed_6m", "studying_6m"]),
        ):
            if basis.recorded[stage] == 0:  # this follow-up has not happened yet
                cells.update(dict.fromkeys(keys, NOT_YET))
        rows.append(OutcomeRow(label=g.label, cells=cells, counts=g))
    return rows


def build_outcomes(
    settings: Settings, cohort: str | None = None, *, today: date | None = None
) -> OutcomeReport:
    """Aggregates outcomes per cohort (one cohort, or all of them with an overall row)."""
    chosen = [load_cohort(settings, cohort)] if cohort else list_cohorts(settings)
    if not chosen:
        raise UserError("there are no cohorts yet: create one with `bootcamp cohort create`")
    groups: list[OutcomeCounts] = []
    total = OutcomeCounts(label="All cohorts")
    with records.connect(settings) as conn:
        for c in chosen:
            counts = OutcomeCounts(label=c.name)
            for trainee in records.cohort_trainees(conn, c.name):
                person = records.load_outcomes(conn, trainee)
                counts.add(person)
                total.add(person)
            groups.append(counts)
    with_total = len(groups) > 1
    rows = _suppress_rows(groups, total if with_total else None)
    overall = rows.pop() if with_total else None
    return OutcomeReport(rows=rows, overall=overall, today=today or date.today())
