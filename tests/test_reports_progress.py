"""The progress report of a small synthetic cohort, checked against numbers worked out by hand."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from test_programme_support import START, TODAY, screenshot, set_grade, write_curriculum

from graders.programme import cohorts
from graders.reports import render_tables
from graders.reports.progress import build_progress
from graders.reports.render_html import render_progress
from graders.settings import Settings

# Due by TODAY (week 7): py-basics (end of week 2), numpy-arrays (week 4), pandas-cleaning and
# pandas-groupby (week 6). capstone (week 8) is not due yet.
GRADES = {
    "t1": {"py-basics": 9, "numpy-arrays": 8, "pandas-cleaning": 7, "pandas-groupby": 10},  # 90 80 70 50
    "t2": {"py-basics": 10, "numpy-arrays": 10, "pandas-cleaning": 10, "pandas-groupby": 20},
    "t3": {"py-basics": 5},
    "t4": {"py-basics": 8, "numpy-arrays": 9, "pandas-cleaning": 6, "pandas-groupby": 18},
    "t5": {"py-basics": 7, "numpy-arrays": 7, "pandas-cleaning": 7, "pandas-groupby": 14},
    "t6": {"py-basics": 6},
}
MAX = {"py-basics": 10, "numpy-arrays": 10, "pandas-cleaning": 10, "pandas-groupby": 20, "capstone": 50}
WEEK = {"py-basics": 2, "numpy-arrays": 4, "pandas-cleaning": 6, "pandas-groupby": 6}


@pytest.fixture(scope="module")
def report_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("progress")
    settings = Settings(home=root / "home")
    curriculum = write_curriculum(root / "curriculum")
    cohort = cohorts.create_cohort(settings, "autumn-2026", "six-month", START, curriculum)
    for i, tid in enumerate(GRADES, start=1):
        cohorts.add_trainee(settings, cohort, tid, f"Trainee Number{i}", f"{tid}@example.org")
    for tid, scores in GRADES.items():
        for assignment, score in scores.items():
            set_grade(cohort, assignment, tid, score, MAX[assignment], WEEK[assignment])
    (cohort.course_dir / "submitted" / "t6" / "numpy-arrays").mkdir(parents=True)  # collected, not graded
    activity = {t: "2026-10-19T12:00:00Z" for t in ("t1", "t2", "t3", "t4")}
    activity["t5"] = "2026-10-10T08:00:00Z"  # 10 days before TODAY; t6 has no entry
    cohort.activity_file.write_text(json.dumps(activity))
    return settings, curriculum


def test_each_trainee_is_placed_against_the_week_plan(report_env: tuple[Settings, Path]) -> None:
    settings, curriculum = report_env
    report = build_progress(settings, "autumn-2026", today=TODAY, curriculum_dir=curriculum)
    assert report.week == 7
    assert [a.name for a in report.assignments] == [
        "py-basics",
        "numpy-arrays",
        "pandas-cleaning",
        "pandas-groupby",
        "capstone",
    ]
    assert str(report.assignments[0].due) == "2026-09-21" and str(report.assignments[-1].due) == "2026-11-02"
    by_id = {tp.trainee.id: tp for tp in report.trainees}
    assert by_id["t1"].average_percent == pytest.approx((90 + 80 + 70 + 50) / 4)
    assert [a.name for a in by_id["t3"].missed(TODAY)] == [
        "numpy-arrays",
        "pandas-cleaning",
        "pandas-groupby",
    ]
    t6 = {s.name: s.state(TODAY) for s in by_id["t6"].assignments}
    assert t6 == {
        "py-basics": "graded",
        "numpy-arrays": "submitted",
        "pandas-cleaning": "missed",
        "pandas-groupby": "missed",
        "capstone": "open",
    }


def test_at_risk_trainees_come_with_their_reasons(report_env: tuple[Settings, Path]) -> None:
    settings, curriculum = report_env
    report = build_progress(settings, "autumn-2026", today=TODAY, curriculum_dir=curriculum)
    risks = {tp.trainee.id: tp.risks for tp in report.trainees}
    assert risks["t1"] == ["scores falling over the last 3 graded (80% → 70% → 50%)"]
    assert risks["t2"] == [] and risks["t4"] == []
    assert risks["t3"] == ["missed 3 due assignments (numpy-arrays, pandas-cleaning, pandas-groupby)"]
    assert risks["t5"] == ["no hub activity for 10 days"]
    assert risks["t6"] == [
        "missed 2 due assignments (pandas-cleaning, pandas-groupby)",
        "no hub activity recorded",
    ]


def test_score_distribution_hides_groups_under_five(report_env: tuple[Settings, Path]) -> None:
    settings, curriculum = report_env
    report = build_progress(settings, "autumn-2026", today=TODAY, curriculum_dir=curriculum)
    basics, numpy = report.assignments[0], report.assignments[1]
    assert sorted(basics.percents) == [50, 60, 70, 80, 90, 100]
    assert (basics.mean, basics.median, basics.low, basics.high) == (75, 75, 50, 100)
    assert numpy.graded_count == 4 and numpy.mean is None and numpy.median is None  # shown as "<5"
    assert numpy.submitted_count == 5  # four graded and t6's collected submission


def test_progress_csv_has_one_row_per_trainee(report_env: tuple[Settings, Path]) -> None:
    settings, curriculum = report_env
    report = build_progress(settings, "autumn-2026", today=TODAY, curriculum_dir=curriculum)
    rows = list(csv.DictReader(io.StringIO(render_tables.progress_csv(report))))
    assert [r["trainee_id"] for r in rows] == list(GRADES)
    t1 = rows[0]
    assert (t1["due"], t1["submitted_due"], t1["missed"], t1["average_percent"]) == ("4", "4", "0", "72.5")
    assert t1["pandas-groupby"] == "50.0" and t1["capstone"] == "open"
    assert rows[5]["numpy-arrays"] == "submitted"


def test_html_report_is_self_contained_and_renders(report_env: tuple[Settings, Path], tmp_path: Path) -> None:
    settings, curriculum = report_env
    report = build_progress(settings, "autumn-2026", today=TODAY, curriculum_dir=curriculum)
    page = render_progress(report)
    assert "data:image/png;base64," in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), (
        "the page must not load anything remotely"
    )
    assert 'name="viewport"' in page and "@media (max-width: 600px)" in page
    assert "Trainee Number3" in page and "&lt;5" in page
    html = tmp_path / "progress.html"
    html.write_text(page)
    desktop = screenshot(html, "progress-desktop.png", 1280, 2200)
    phone = screenshot(html, "progress-phone.png", 390, 1800)
    assert desktop.stat().st_size > 20_000 and phone.stat().st_size > 20_000
