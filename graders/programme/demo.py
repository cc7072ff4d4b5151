"""Demo content: an ongoing cohort in week 11 and a finished one, so every report has something to show.

All people here are made up. Running it again replaces both demo cohorts.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import warnings
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.exc import SAWarning

from graders.programme import records
from graders.programme.cohorts import Cohort, add_instructor, add_trainee, create_cohort
from graders.programme.plan import PlannedAssignment, load_plan
from graders.programme.records import Event, FollowUp
from graders.settings import Settings

log = logging.getLogger(__name__)

DEMO = "demo"
PAST = "demo-2026-spring"
PAST_START = date(2026, 1, 12)

# (first name, last name, self-reported gender or None)
PEOPLE = [
    ("Amina", "Hassan", "woman"),
    ("Omar", "Khalil", "man"),
    ("Leyla", "Yilmaz", "woman"),
    ("Dmytro", "Kovalenko", "man"),
    ("Sara", "Tesfaye", "woman"),
    ("Ahmad", "Rahimi", "man"),
    ("Mariam", "Nouri", "woman"),
    ("Yusuf", "Abdi", "man"),
    ("Olena", "Shevchenko", "woman"),
    ("Nguyen", "Thi Lan", "woman"),
    ("Karim", "Haddad", "man"),
    ("Fatima", "Zahra", "woman"),
    ("Ali", "Mohammed", None),
    ("Hana", "Ibrahim", "woman"),
    ("Tomas", "Silva", "man"),
    ("Zainab", "Okafor", "woman"),
    ("Ravi", "Sharma", "man"),
    ("Nadia", "Petrova", "prefer not to say"),
    ("Samir", "Aziz", "man"),
    ("Aisha", "Mensah", "woman"),
    ("Jin", "Park", "non-binary"),
    ("Layla", "Farah", "woman"),
    ("Mehmet", "Demir", "man"),
    ("Priya", "Nair", "woman"),
    ("Daniel", "Tekle", "man"),
    ("Sofia", "Moreno", "woman"),
]
COMPANIES = [
    "Aurora Analytics Oy",
    "Kide Robotics",
    "Saimaa Health Data",
    "Helmi Fintech",
    "Revontuli AI",
    "Nordic Logistics Lab",
    "City of Espoo data unit",
]
FALLBACK_ASSIGNMENTS = [
    ("python-basics", 2),
    ("pandas-cleaning", 4),
    ("numpy-arrays", 6),
    ("visualisation", 8),
    ("linear-models", 10),
    ("classification", 12),
]


def _user_id(first: str, last: str) -> str:
    return f"{first}.{last.split()[0][0]}".lower()


def _reset(settings: Settings, name: str) -> None:
    path = settings.cohort_dir(name)
    if path.exists():
        shutil.rmtree(path)
    with records.connect(settings) as conn:
        for trainee in records.cohort_trainees(conn, name):
            records.delete_trainee(conn, trainee.id)
        conn.execute("DELETE FROM instructors WHERE cohort = ?", (name,))


def _assignments(cohort: Cohort, curriculum_dir: Path | None) -> list[PlannedAssignment]:
    plan = load_plan(cohort.track, curriculum_dir)
    if plan.assignments:
        return plan.assignments
    log.warning("no curriculum plan found: the demo uses made-up assignments with due dates in the gradebook")
    return [
        PlannedAssignment(n, n.replace("-", " ").title(), "demo", week, 10.0)
        for n, week in FALLBACK_ASSIGNMENTS
    ]


def _grade(cohort: Cohort, assignment: PlannedAssignment, scores: dict[str, tuple[float, datetime]]) -> None:
    """Creates the assignment with one grade cell and sets each trainee's auto_score, via nbgrader's API."""
    points = assignment.points or 10.0
    due = datetime.combine(assignment.due_on(cohort.start), time(23, 59))
    with cohort.gradebook() as gb, warnings.catch_warnings():
        # nbgrader's add_submission trips SQLAlchemy autoflush warnings that are harmless here.
        warnings.simplefilter("ignore", SAWarning)
        gb.update_or_create_assignment(assignment.name, duedate=due)
        gb.update_or_create_notebook(assignment.name, assignment.name)
        gb.update_or_create_grade_cell(
            "tests", assignment.name, assignment.name, max_score=points, cell_type="code"
        )
        for student, (fraction, stamp) in scores.items():
            gb.update_or_create_submission(assignment.name, student, timestamp=stamp)
            grade = gb.find_grade("tests", assignment.name, assignment.name, student)
            grade.auto_score = round(points * fraction, 1)
        gb.db.commit()


def _seed_current(settings: Settings, today: date, curriculum_dir: Path | None) -> Cohort:
    rng = random.Random(2026)
    cohort = create_cohort(settings, DEMO, "six-month", today - timedelta(weeks=10), curriculum_dir)
    add_instructor(settings, cohort, "instructor.demo", "Demo Instructor", "instructor@example.org")
    ids = []
    for first, last, gender in PEOPLE[:24]:
        uid = _user_id(first, last)
        ids.append(uid)
        add_trainee(
            settings,
            cohort,
            uid,
            f"{first} {last}",
            f"{uid}@example.org",
            gender,
            cohort.start - timedelta(days=21),
        )
    with records.connect(settings) as conn:
        for uid in ids:
            trainee = records.get_trainee(conn, uid)
            trainee.started_on = cohort.start
            if uid == ids[20]:
                trainee.dropped_on, trainee.drop_reason = (
                    cohort.start + timedelta(weeks=5),
                    "moved to another city",
                )
            records.save_trainee(conn, trainee)
        for uid in ids[:14]:
            records.add_event(
                conn, uid, Event("company-event", rng.choice(COMPANIES), cohort.start + timedelta(weeks=6))
            )
        for uid in ids[2:9]:
            records.add_event(
                conn, uid, Event("interview", rng.choice(COMPANIES), cohort.start + timedelta(weeks=9))
            )
    # Profiles: most do well; a few missing work, one falling, two quiet on the hub.
    missing = {ids[3]: 2, ids[11]: 3}
    falling = ids[7]
    ability = {uid: min(0.95, max(0.45, rng.gauss(0.78, 0.1))) for uid in ids}
    due = [a for a in _assignments(cohort, curriculum_dir) if a.due_on(cohort.start) < today]
    for index, assignment in enumerate(due):
        scores: dict[str, tuple[float, datetime]] = {}
        for uid in ids:
            if uid == ids[20] and assignment.due_on(cohort.start) > cohort.start + timedelta(weeks=5):
                continue
            if uid in missing and index >= len(due) - missing[uid]:
                continue
            if uid == falling:
                fraction = max(0.2, 0.95 - 0.15 * index)
            else:
                fraction = min(1.0, max(0.3, rng.gauss(ability[uid], 0.05)))
            stamp = datetime.combine(assignment.due_on(cohort.start), time(12)) - timedelta(
                hours=rng.randint(2, 90)
            )
            scores[uid] = (fraction, stamp)
        _grade(cohort, assignment, scores)
    upcoming = [a for a in _assignments(cohort, curriculum_dir) if a.due_on(cohort.start) >= today]
    if upcoming:  # a few early submissions of next week's work, collected but not graded yet
        for uid in ids[:5]:
            (cohort.course_dir / "submitted" / uid / upcoming[0].name).mkdir(parents=True, exist_ok=True)
    now = datetime.combine(today, time(10), tzinfo=UTC)
    activity: dict[str, str | None] = {
        uid: (now - timedelta(hours=rng.randint(1, 60))).isoformat() for uid in ids
    }
    activity[ids[11]] = (now - timedelta(days=12)).isoformat()
    activity[ids[15]] = (now - timedelta(days=9)).isoformat()
    activity[ids[22]] = None
    cohort.activity_file.write_text(json.dumps(activity, indent=2, sort_keys=True), encoding="utf-8")
    return cohort


def _seed_past(settings: Settings, today: date, curriculum_dir: Path | None) -> Cohort:
    rng = random.Random(2025)
    cohort = create_cohort(settings, PAST, "six-month", PAST_START, curriculum_dir)
    end = PAST_START + timedelta(weeks=26)
    stage_dates = {"completion": end, "3m": end + timedelta(days=91), "6m": end + timedelta(days=182)}
    for i, (first, last, gender) in enumerate(PEOPLE):
        uid = f"{_user_id(first, last)}.s26"
        add_trainee(
            settings,
            cohort,
            uid,
            f"{first} {last}",
            f"{uid}@example.org",
            gender,
            PAST_START - timedelta(days=28),
        )
        with records.connect(settings) as conn:
            trainee = records.get_trainee(conn, uid)
            trainee.started_on = PAST_START
            dropped = i in (4, 9, 17, 23)
            if dropped:
                trainee.dropped_on = PAST_START + timedelta(weeks=rng.randint(4, 18))
                trainee.drop_reason = rng.choice(["found a job", "family reasons", "moved abroad", "health"])
            else:
                trainee.completed_on = end
            records.save_trainee(conn, trainee)
            if dropped:
                continue
            for milestone in ("cv", "linkedin-profile", "mock-interview", "portfolio"):
                records.set_milestone(conn, uid, milestone, end - timedelta(weeks=rng.randint(1, 10)))
            for _ in range(rng.randint(1, 3)):
                records.add_event(
                    conn, uid, Event("company-event", rng.choice(COMPANIES), end - timedelta(weeks=4))
                )
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                records.add_event(
                    conn, uid, Event("interview", rng.choice(COMPANIES), end + timedelta(weeks=2))
                )
            employed = False
            for stage, when in stage_dates.items():
                if when > today:
                    break
                chance = {"completion": 0.3, "3m": 0.55, "6m": 0.7}[stage]
                employed = employed or rng.random() < chance
                status = "employed" if employed else rng.choice(["seeking", "seeking", "studying", "unknown"])
                records.set_followup(
                    conn,
                    uid,
                    FollowUp(
                        stage,
                        status,
                        employer_kind=rng.choice(["private", "private", "public", "non-profit"])
                        if employed
                        else None,
                        role=rng.choice(
                            ["data analyst", "junior ML engineer", "data engineer", "BI developer"]
                        )
                        if employed
                        else None,
                        uses_ai_ml=(rng.random() < 0.75) if employed else None,
                    ),
                )
    return cohort


def seed_demo(
    settings: Settings, today: date | None = None, curriculum_dir: Path | None = None
) -> list[Cohort]:
    """Creates (or recreates) cohorts `demo` and `demo-2026-spring` with made-up trainees and results."""
    today = today or date.today()
    for name in (DEMO, PAST):
        _reset(settings, name)
    cohorts = [_seed_past(settings, today, curriculum_dir), _seed_current(settings, today, curriculum_dir)]
    log.info("seeded demo cohorts %s", ", ".join(c.name for c in cohorts))
    return cohorts
