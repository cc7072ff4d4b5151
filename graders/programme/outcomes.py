"""Outcomes: recording what happened to each trainee, and the funders' aggregate outcome report.

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

import csv
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from graders.errors import UserError
from graders.programme import records, suppression
from graders.programme.cohorts import list_cohorts, load_cohort
from graders.programme.records import Event, FollowUp, TraineeOutcomes
from graders.settings import Settings

log = logging.getLogger(__name__)

YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


def parse_yes_no(value: str | bool | None, what: str = "uses AI/ML") -> bool | None:
    if value is None or value == "" or isinstance(value, bool):
        return value if isinstance(value, bool) else None
    text = value.strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise UserError(f"{what} must be yes or no, not {value!r}")


@dataclass
class TraineeUpdate:
    """The fields `bootcamp trainee set` and the outcomes CSV can change; None leaves a field alone."""

    gender: str | None = None
    enrolled_on: date | None = None
    started_on: date | None = None
    completed_on: date | None = None
    dropped_on: date | None = None
    drop_reason: str | None = None
    milestones: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    followups: list[FollowUp] = field(default_factory=list)


def update_trainee(settings: Settings, trainee_id: str, update: TraineeUpdate) -> records.Trainee:
    """Applies an update to one trainee, checking it against the values the reports count."""
    if update.gender is not None and update.gender not in records.GENDERS:
        raise UserError(f"gender {update.gender!r} is not one of: {', '.join(records.GENDERS)}")
    if update.dropped_on and not (update.drop_reason and update.drop_reason.strip()):
        raise UserError("a drop-out needs a reason: add --reason 'found a job' (or similar)")
    with records.connect(settings) as conn:
        trainee = records.get_trainee(conn, trainee_id)
        for attr in ("gender", "enrolled_on", "started_on", "completed_on", "dropped_on", "drop_reason"):
            value = getattr(update, attr)
            if value is not None:
                setattr(trainee, attr, value)
        if trainee.completed_on and trainee.dropped_on:
            raise UserError(
                f"trainee {trainee_id!r} cannot both complete and drop out: clear one of the two dates"
            )
        records.save_trainee(conn, trainee)
        for milestone in update.milestones:
            records.set_milestone(conn, trainee_id, milestone, date.today())
        for event in update.events:
            records.add_event(conn, trainee_id, event)
        for followup in update.followups:
            records.set_followup(conn, trainee_id, followup)
    return trainee


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def import_outcomes_csv(settings: Settings, path: Path) -> int:
    """Applies an outcomes CSV, one row per trainee (column `id`), returning the rows applied.

    Optional columns: gender, enrolled_on, started_on, completed_on, dropped_on, drop_reason,
    milestones, company_events, interviews (';'-separated; events and interviews as company names), and
    for each stage S in completion, 3m, 6m: S_status, S_employer_kind, S_role, S_uses_ai_ml.
    """
    if not path.exists():
        raise UserError(f"outcomes file {path} does not exist")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if "id" not in (reader.fieldnames or []):
            raise UserError(f"{path} has no 'id' column: the first column must be the trainee id")
        rows = list(reader)
    for line, row in enumerate(rows, start=2):
        try:
            update = TraineeUpdate(
                gender=(row.get("gender") or "").strip() or None,
                enrolled_on=records.parse_date(row.get("enrolled_on"), "enrolled_on"),
                started_on=records.parse_date(row.get("started_on"), "started_on"),
                completed_on=records.parse_date(row.get("completed_on"), "completed_on"),
                dropped_on=records.parse_date(row.get("dropped_on"), "dropped_on"),
                drop_reason=(row.get("drop_reason") or "").strip() or None,
                milestones=_split(row.get("milestones")),
                events=[Event("company-event", c) for c in _split(row.get("company_events"))]
                + [Event("interview", c) for c in _split(row.get("interviews"))],
            )
            for stage in records.FOLLOWUP_STAGES:
                status = (row.get(f"{stage}_status") or "").strip()
                if status:
                    update.followups.append(
                        FollowUp(
                            stage=stage,
                            status=status,
                            employer_kind=(row.get(f"{stage}_employer_kind") or "").strip() or None,
                            role=(row.get(f"{stage}_role") or "").strip() or None,
                            uses_ai_ml=parse_yes_no(row.get(f"{stage}_uses_ai_ml")),
                        )
                    )
            update_trainee(settings, row["id"].strip(), update)
        except UserError as error:
            raise UserError(f"{path} line {line}: {error}")
    return len(rows)


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
