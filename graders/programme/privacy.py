"""Personal data requests: export everything held on a trainee, or forget them everywhere.

Stores that can hold a trainee: programme.db; every cohort's gradebook.db; the course folders
submitted/<id>/, autograded/<id>/, feedback/<id>/; nbgrader's .nbgrader.log; the cohort's
activity.json; report files under cohorts/<name>/reports/. (Hub users are removed by graders.hub.)
"""

from __future__ import annotations

import html
import json
import logging
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbgrader.api import MissingEntry

from graders.errors import UserError
from graders.programme import records
from graders.programme.activity import read_activity
from graders.programme.cohorts import Cohort, list_cohorts
from graders.settings import Settings

log = logging.getLogger(__name__)

PER_TRAINEE_DIRS = ("submitted", "autograded", "feedback")


def _as_text(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def export_trainee(settings: Settings, trainee_id: str) -> dict[str, Any]:
    """Everything held on one trainee, as JSON-ready data (for a subject access request)."""
    data: dict[str, Any] = {
        "id": trainee_id,
        "programme": None,
        "gradebooks": [],
        "files": [],
        "activity": [],
    }
    with records.connect(settings) as conn:
        trainee = records.find_trainee(conn, trainee_id)
        if trainee:
            outcomes = records.load_outcomes(conn, trainee)
            data["programme"] = {
                "record": {k: _as_text(v) for k, v in vars(trainee).items()},
                "milestones": {k: _as_text(v) for k, v in outcomes.milestones.items()},
                "events": [{k: _as_text(v) for k, v in vars(e).items()} for e in outcomes.events],
                "followups": [vars(f) for f in outcomes.followups.values()],
            }
        data["instructor_of"] = [
            r["cohort"] for r in conn.execute("SELECT cohort FROM instructors WHERE id = ?", (trainee_id,))
        ]
    for cohort in list_cohorts(settings):
        with cohort.gradebook() as gb:
            student = _student_or_none(gb, trainee_id)
            if student is not None:
                entry = {
                    "cohort": cohort.name,
                    "student": {
                        "id": student.id,
                        "first_name": student.first_name,
                        "last_name": student.last_name,
                        "email": student.email,
                    },
                    "submissions": [],
                }
                for sub in student.submissions:
                    entry["submissions"].append(
                        {
                            "assignment": sub.assignment.name,
                            "timestamp": _as_text(sub.timestamp),
                            "score": sub.score,
                            "max_score": sub.max_score,
                            "late_submission_penalty": sub.late_submission_penalty,
                            "comments": [c.comment for nb in sub.notebooks for c in nb.comments if c.comment],
                        }
                    )
                data["gradebooks"].append(entry)
        for sub in PER_TRAINEE_DIRS:
            folder = cohort.course_dir / sub / trainee_id
            if folder.is_dir():
                data["files"] += [str(p) for p in sorted(folder.rglob("*")) if p.is_file()]
        activity = read_activity(cohort.activity_file) or {}
        if trainee_id in activity:
            data["activity"].append({"cohort": cohort.name, "last_activity": _as_text(activity[trainee_id])})
    if data["programme"] is None and not data["gradebooks"] and not data["files"] and not data["activity"]:
        raise UserError(f"nothing is held on {trainee_id!r}: check the id (it is the hub user name)")
    return data


@dataclass
class ElsewhereErasure:
    """What a store outside the course side (the hub's users, volumes and queue) removed, and what not yet."""

    removed: list[str] = field(default_factory=list)
    not_done: list[str] = field(default_factory=list)


# Stores outside the course side register how to forget a trainee there; the hub does so when it is
# installed (graders.hub.cli.register). The course side never imports the hub: the arrow points down.
FORGETTERS: list[Callable[[str], ElsewhereErasure]] = []


def register_forgetter(forget: Callable[[str], ElsewhereErasure]) -> None:
    if forget not in FORGETTERS:
        FORGETTERS.append(forget)


def forget_elsewhere(trainee_id: str) -> ElsewhereErasure:
    """Runs every registered forgetter; one that fails is reported as not done, the others still run."""
    total = ElsewhereErasure()
    for forget in FORGETTERS:
        try:
            part = forget(trainee_id)
        except Exception as error:  # noqa: BLE001 - one store's failure must not stop the erasure
            total.not_done.append(f"{getattr(forget, '__name__', 'a store')}: {error}")
            continue
        total.removed.extend(part.removed)
        total.not_done.extend(part.not_done)
    return total


@dataclass
class ForgetReport:
    removed: list[str] = field(default_factory=list)
    leftovers: list[Path] = field(default_factory=list)  # files that still mention them: review by hand


def _needles(trainee_id: str, name: str | None, email: str | None) -> list[bytes]:
    """The strings that identify the person, as they may appear in files (plain and HTML-escaped)."""
    words = {trainee_id}
    for value in (name, email):
        if value:
            words.update({value, html.escape(value)})
    return [w.encode("utf-8") for w in words if len(w) >= 3]


def _mentions(path: Path, needles: list[bytes]) -> bool:
    try:
        content = path.read_bytes()
    except OSError:
        return False
    return any(n in content for n in needles) or any(n.decode() in path.name for n in needles)


def _vacuum(db: Path) -> None:
    """Rewrites an SQLite file so deleted rows do not linger in its free pages."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("VACUUM")
    finally:
        conn.close()


def _student_or_none(gb, trainee_id: str):
    """The gradebook's student record, or None when this cohort never had them."""
    try:
        return gb.find_student(trainee_id)
    except MissingEntry:
        return None


def _forget_in_cohort(cohort: Cohort, trainee_id: str, needles: list[bytes], report: ForgetReport) -> None:
    with cohort.gradebook() as gb:
        student = _student_or_none(gb, trainee_id)
        if student is not None:
            assignments = [sub.assignment.name for sub in student.submissions]
            for name in assignments:
                gb.remove_submission(name, trainee_id)
            gb.remove_student(trainee_id)
            report.removed.append(f"{cohort.name}: gradebook student and {len(assignments)} submission(s)")
    if cohort.gradebook_path.exists():
        _vacuum(cohort.gradebook_path)
    for sub in PER_TRAINEE_DIRS:
        folder = cohort.course_dir / sub / trainee_id
        if folder.exists():
            shutil.rmtree(folder)
            report.removed.append(f"{cohort.name}: {sub}/{trainee_id}/")
    # `bootcamp autograde` keeps each submission's grading reasons beside the course
    for reasons in sorted(cohort.course_dir.glob(f".bootcamp/autograde/*/{trainee_id}.json")):
        reasons.unlink()
        report.removed.append(f"{cohort.name}: grading notes for {reasons.parent.name}")
    for log_file in cohort.course_dir.glob("*.log"):
        lines = log_file.read_bytes().splitlines(keepends=True)
        kept = [line for line in lines if not any(n in line for n in needles)]
        if len(kept) != len(lines):
            log_file.write_bytes(b"".join(kept))
            report.removed.append(f"{cohort.name}: {len(lines) - len(kept)} line(s) of {log_file.name}")
    if cohort.activity_file.exists():
        raw = json.loads(cohort.activity_file.read_text(encoding="utf-8"))
        if isinstance(raw, dict) and trainee_id in raw:
            del raw[trainee_id]
            cohort.activity_file.write_text(json.dumps(raw, indent=2, sort_keys=True), encoding="utf-8")
            report.removed.append(f"{cohort.name}: activity.json entry")
    if cohort.reports_dir.is_dir():
        for path in sorted(cohort.reports_dir.rglob("*")):
            if path.is_file() and _mentions(path, needles):
                path.unlink()
                report.removed.append(f"{cohort.name}: report {path.relative_to(cohort.path)}")


def forget_trainee(settings: Settings, trainee_id: str) -> ForgetReport:
    """Removes a trainee from every store, then scans the cohort folders for anything left behind."""
    with records.connect(settings) as conn:
        trainee = records.find_trainee(conn, trainee_id)
    name = trainee.name if trainee else None
    email = trainee.email if trainee else None
    cohorts = list_cohorts(settings)
    # The gradebooks may know a name and email that programme.db lacks; collect them before deleting.
    for cohort in cohorts:
        with cohort.gradebook() as gb:
            student = _student_or_none(gb, trainee_id)
            if student is None:
                continue
            full = " ".join(p for p in (student.first_name, student.last_name) if p)
            name, email = name or full or None, email or student.email
    needles = _needles(trainee_id, name, email)
    report = ForgetReport()
    for cohort in cohorts:
        _forget_in_cohort(cohort, trainee_id, needles, report)
    with records.connect(settings) as conn:
        rows = records.delete_trainee(conn, trainee_id)
    if rows:
        _vacuum(settings.programme_db)
        report.removed.append(f"programme.db: {rows} row(s)")
    if not report.removed:
        raise UserError(f"nothing is held on {trainee_id!r}: check the id (it is the hub user name)")
    for cohort in cohorts:
        report.leftovers += [
            p for p in sorted(cohort.path.rglob("*")) if p.is_file() and _mentions(p, needles)
        ]
    if report.leftovers:
        log.warning("%d file(s) under the cohorts still mention the forgotten trainee", len(report.leftovers))
    return report
