"""Terminal tables (rich) and CSV files for the progress and outcome reports."""

from __future__ import annotations

import csv
import io

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from graders.reports import suppression
from graders.reports.outcomes import COLUMNS, OutcomeReport
from graders.reports.progress import ProgressReport


def _trainee_pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}%"


def progress_table(report: ProgressReport) -> Group:
    """Per-trainee rows, then the per-assignment summary and the at-risk reasons."""
    people = Table(title=f"Cohort {report.cohort.name}: week {report.week}, {report.today}", show_lines=False)
    people.add_column("Trainee")
    people.add_column("Status")
    people.add_column("Submitted/due", justify="right")
    people.add_column("Average", justify="right")
    people.add_column("At risk because")
    for tp in report.trainees:
        due = tp.due(report.today)
        people.add_row(
            f"{tp.trainee.name} ({tp.trainee.id})",
            tp.trainee.status,
            f"{sum(1 for s in due if s.submitted)}/{len(due)}",
            _trainee_pct(tp.average_percent),
            Text("; ".join(tp.risks), style="bold yellow") if tp.risks else "",
        )
    work = Table(title="Assignments")
    for name, justify in (
        ("Assignment", "left"),
        ("Week", "right"),
        ("Due", "right"),
        ("Submitted", "right"),
        ("Mean", "right"),
        ("Median", "right"),
        ("Low", "right"),
        ("High", "right"),
    ):
        work.add_column(name, justify=justify)  # type: ignore[arg-type]
    for a in report.assignments:
        work.add_row(
            a.name,
            str(a.week or "–"),
            str(a.due or "–"),
            suppression.fmt_count(suppression.count(a.submitted_count)),
            suppression.fmt_share(a.mean),
            suppression.fmt_share(a.median),
            suppression.fmt_share(a.low),
            suppression.fmt_share(a.high),
        )
    notes = [Text(w, style="yellow") for w in report.warnings]
    return Group(people, work, *notes)


def progress_csv(report: ProgressReport) -> str:
    """One row per trainee: plan position, average, each assignment's score (%) or state, risks."""
    out = io.StringIO()
    writer = csv.writer(out)
    names = [a.name for a in report.assignments]
    writer.writerow(
        [
            "trainee_id",
            "name",
            "status",
            "due",
            "submitted_due",
            "missed",
            "average_percent",
            *names,
            "last_activity",
            "at_risk_reasons",
        ]
    )
    for tp in report.trainees:
        due = tp.due(report.today)
        cells = []
        for s in tp.assignments:
            cells.append(f"{s.grade.percent:.1f}" if s.grade else s.state(report.today))
        writer.writerow(
            [
                tp.trainee.id,
                tp.trainee.name,
                tp.trainee.status,
                len(due),
                sum(1 for s in due if s.submitted),
                len(tp.missed(report.today)),
                "" if tp.average_percent is None else f"{tp.average_percent:.1f}",
                *cells,
                tp.last_activity.isoformat() if tp.last_activity else "",
                "; ".join(tp.risks),
            ]
        )
    return out.getvalue()


def outcomes_table(report: OutcomeReport) -> Table:
    """Figures down the side, cohorts across: readable in a terminal however many figures there are."""
    table = Table(
        title=f'Programme outcomes, {report.today} ("<5": group too small to show, "–": in training)'
    )
    table.add_column("")
    for row in report.all_rows:
        table.add_column(row.label, justify="right", style="bold" if row is report.overall else None)
    for key, label in COLUMNS:
        table.add_row(label, *(row.cells[key] for row in report.all_rows))
    return table


def outcomes_csv(report: OutcomeReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["cohort", *(key for key, _ in COLUMNS)])
    for row in report.all_rows:
        writer.writerow([row.label, *(row.cells[key] for key, _ in COLUMNS)])
    return out.getvalue()


def print_renderable(renderable: object) -> None:
    Console(width=max(Console().width, 120)).print(renderable)
