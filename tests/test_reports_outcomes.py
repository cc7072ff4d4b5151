"""The funders' outcome report: hand-checked figures, and no group under 5 people shown anywhere."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from test_programme_support import run_cli, screenshot

from graders.programme import cohorts, records
from graders.programme.outcomes import TraineeUpdate, update_trainee
from graders.programme.records import Event, FollowUp
from graders.reports import render_tables, suppression
from graders.reports.outcomes import COLUMNS, build_outcomes
from graders.reports.render_html import render_outcomes
from graders.settings import Settings

END = date(2026, 7, 10)


def _person(
    settings: Settings,
    cohort: str,
    tid: str,
    gender: str,
    completed: bool,
    employed: dict[str, bool],
    interviews: int,
    ai: bool = True,
) -> None:
    cohorts.add_trainee(settings, cohort, tid, f"Person {tid}", f"{tid}@example.org", gender)
    update = TraineeUpdate(started_on=date(2026, 1, 12))
    if completed:
        update.completed_on = END
        for stage, yes in employed.items():
            update.followups.append(
                FollowUp(
                    stage,
                    "employed" if yes else "seeking",
                    "private" if yes else None,
                    None,
                    ai if yes else None,
                )
            )
    else:
        update.dropped_on, update.drop_reason = date(2026, 3, 1), "moved abroad"
    update.events = [Event("interview", "Kide Robotics")] * interviews + [
        Event("company-event", f"Co {tid[-1]}")
    ]
    update_trainee(settings, tid, update)


@pytest.fixture(scope="module")
def outcome_env(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(home=tmp_path_factory.mktemp("outcomes") / "home")
    cohorts.create_cohort(settings, "spring", "six-month", date(2026, 1, 12))
    cohorts.create_cohort(settings, "small", "six-month", date(2026, 1, 12))
    # spring: 8 people, 5 women, 6 completed, 2 dropped; employed 3 at completion, 5 at 3 months (4 use AI/ML)
    plan = [
        ("w", True, 1, 1),
        ("w", True, 1, 1),
        ("w", True, 0, 1),
        ("w", True, 0, 1),
        ("w", False, 0, 0),
        ("m", True, 1, 1),
        ("m", True, 0, 0),
        ("m", False, 0, 0),
    ]
    for i, (g, done, at_end, at_3m) in enumerate(plan):
        _person(
            settings,
            "spring",
            f"sp{i}",
            "woman" if g == "w" else "man",
            done,
            {"completion": bool(at_end), "3m": bool(at_3m)},
            interviews=2 if i < 6 else 0,
            ai=i != 5,
        )
    # small: 6 people, 2 women, all completed, 1 employed at 3 months
    for i in range(6):
        _person(
            settings,
            "small",
            f"sm{i}",
            "woman" if i < 2 else "man",
            True,
            {"completion": False, "3m": i == 0},
            interviews=1 if i < 3 else 0,
        )
    return settings


def test_suppression_hides_small_counts_and_their_complement() -> None:
    assert suppression.suppress_with_total({"a": 5, "b": 2}, 7) == {"a": None, "b": None}
    assert suppression.suppress_with_total({"a": 9, "b": 2, "c": 6}, 17) == {"a": 9, "b": None, "c": None}
    assert suppression.suppress_with_total({"a": 9, "b": 7}, 16) == {"a": 9, "b": 7}
    assert suppression.share(4, 20) is None and suppression.share(5, 20) == 25.0
    assert suppression.fmt_count(suppression.count(0)) == "<5"


def test_outcomes_per_cohort_match_hand_counts(outcome_env: Settings) -> None:
    report = build_outcomes(outcome_env, today=date(2026, 11, 27))
    small, spring = report.rows  # same start date: by name
    overall = report.overall
    assert spring.cells["participants"] == "8" and small.cells["participants"] == "6"
    assert overall.cells["participants"] == "14"
    # women: spring 5, small 2 -> small hidden, and spring too since total 7 would reveal it
    assert small.cells["women"] == "<5" and spring.cells["women"] == "<5" and overall.cells["women"] == "7"
    assert overall.cells["women_share"] == "50%"
    assert spring.cells["completed"] == "6" and spring.cells["completion_rate"] == "75%"
    assert small.cells["completion_rate"] == "100%" and overall.cells["completion_rate"] == "86%"  # 12/14
    assert spring.cells["employed_completion"] == "<5"  # 3 people
    assert spring.cells["employed_3m"] == "83%"  # 5 of 6
    assert small.cells["employed_3m"] == "<5" and overall.cells["employed_3m"] == "50%"  # 6 of 12
    assert spring.cells["using_ai_ml"] == "<5"  # 4 of 5 employed use AI/ML: 4 people
    assert overall.cells["using_ai_ml"] == "83%"  # 5 of 6
    # interviewed: spring 6, small 3 -> small hidden, spring hidden too (total 9 would reveal it)
    assert small.cells["interviewed"] == "<5" and spring.cells["interviewed"] == "<5"
    assert overall.cells["interviewed"] == "9" and overall.cells["interviews"] == "15"
    assert overall.cells["employed_6m"] == "–"  # no 6-month follow-up recorded yet
    assert spring.cells["companies"] == "9"  # Kide Robotics + "Co 0" .. "Co 7"


def test_no_figure_about_fewer_than_five_people_in_any_format(outcome_env: Settings, tmp_path: Path) -> None:
    report = build_outcomes(outcome_env)
    people = ("participants", "women", "completed", "interviewed")
    for row in report.all_rows:
        for key in people:
            value = row.cells[key]
            assert value in ("<5", "–") or int(value) >= 5, (row.label, key, value)
    rows = list(csv.DictReader(io.StringIO(render_tables.outcomes_csv(report))))
    assert [r["cohort"] for r in rows] == ["small", "spring", "All cohorts"]
    assert list(rows[0]) == ["cohort", *(key for key, _ in COLUMNS)]
    assert rows[0]["women"] == "<5"
    page = render_outcomes(report)
    assert "Person " not in page and "@example.org" not in page  # aggregate only
    html = tmp_path / "outcomes.html"
    html.write_text(page)
    screenshot(html, "outcomes-desktop.png", 1280, 1800)
    screenshot(html, "outcomes-phone.png", 390, 1800)


def test_cli_records_outcomes_and_rejects_unknown_values(
    outcome_env: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOOTCAMP_HOME", str(outcome_env.home))
    run_cli(
        "trainee",
        "set",
        "sm5",
        "--followup",
        "6m",
        "--status",
        "employed",
        "--employer-kind",
        "public",
        "--role",
        "data analyst",
        "--uses-ai-ml",
        "yes",
        "--interview",
        "Helmi Fintech",
        "--milestone",
        "cv",
    )
    with records.connect(outcome_env) as conn:
        person = records.load_outcomes(conn, records.get_trainee(conn, "sm5"))
    assert person.followups["6m"] == FollowUp("6m", "employed", "public", "data analyst", True)
    assert person.interviews == 1 and "cv" in person.milestones
    with pytest.raises(SystemExit, match="needs a reason"):
        run_cli("trainee", "set", "sm4", "--dropped", "2026-03-01")
    roster = tmp_path / "outcomes.csv"
    roster.write_text("id,3m_status,3m_uses_ai_ml,interviews\nsm4,studying,,Aurora;Revontuli\n")
    run_cli("outcomes", "import", "--csv", str(roster))
    with records.connect(outcome_env) as conn:
        person = records.load_outcomes(conn, records.get_trainee(conn, "sm4"))
    assert person.followups["3m"].status == "studying" and person.interviews == 2
    roster.write_text("id,3m_status\nsm4,retired\n")
    with pytest.raises(SystemExit, match="line 2: employment status 'retired' is unknown"):
        run_cli("outcomes", "import", "--csv", str(roster))
