"""Outcomes, recorded: what happened to each trainee (enrolment, completion, drop-out, milestones, company
events, interviews, follow-ups), one at a time or from a CSV. The funders' report is graders.reports.outcomes.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from graders.errors import UserError
from graders.programme import records
from graders.programme.records import Event, FollowUp
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
