"""Cohort creation and enrolment, grade exports (nbgrader and Moodle), transcripts and the demo seed."""

from __future__ import annotations

import csv
import io
import tomllib
from datetime import date
from pathlib import Path

import pytest
from nbgrader.plugins.export import CsvExportPlugin
from test_programme_support import START, TODAY, run_cli, screenshot, set_grade, write_curriculum

from graders.programme import cohorts
from graders.programme.demo import seed_demo
from graders.reports import exports
from graders.reports.outcomes import build_outcomes
from graders.reports.progress import build_progress
from graders.reports.transcript import build_transcript, write_transcript
from graders.settings import Settings


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("cohorts")
    settings = Settings(home=root / "home")
    curriculum = write_curriculum(root / "curriculum")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOOTCAMP_HOME", str(settings.home))
        run_cli("cohort", "create", "autumn-2026", "--track", "six-month", "--start", START.isoformat())
        run_cli(
            "cohort",
            "add-trainee",
            "autumn-2026",
            "amina.h",
            "--name",
            "Amina Hassan",
            "--email",
            "amina@example.org",
            "--gender",
            "woman",
        )
        roster = root / "roster.csv"
        roster.write_text(
            'id,name,email,gender\nomar.k,"Omar Khalil, Jr",omar@example.org,man\nlea.v,Lea Virtanen,lea@example.org,\n'
        )
        run_cli("cohort", "add-trainee", "autumn-2026", "--csv", str(roster))
        run_cli(
            "cohort",
            "add-instructor",
            "autumn-2026",
            "teach.er",
            "--name",
            "Tea Cher",
            "--email",
            "t@example.org",
        )
    cohort = cohorts.load_cohort(settings, "autumn-2026")
    set_grade(cohort, "py-basics", "amina.h", 9, 10, 2)
    set_grade(cohort, "py-basics", "omar.k", 6.5, 10, 2)
    set_grade(cohort, "numpy-arrays", "amina.h", 10, 10, 4)
    set_grade(cohort, "capstone", "amina.h", 40, 50, 8)
    return settings, curriculum


def test_cohort_create_makes_an_nbgrader_course(env: tuple[Settings, Path]) -> None:
    settings, _ = env
    cohort = cohorts.load_cohort(settings, "autumn-2026")
    assert (cohort.track, cohort.start) == ("six-month", START)
    meta = tomllib.loads((cohort.path / "cohort.toml").read_text())
    assert meta["name"] == "autumn-2026" and meta["start"] == START
    config = (cohort.course_dir / "nbgrader_config.py").read_text()
    assert 'c.CourseDirectory.course_id = "autumn-2026"' in config.replace("'", '"')
    for sub in ("source", "release", "submitted", "autograded", "feedback"):
        assert (cohort.course_dir / sub).is_dir()
    with cohort.gradebook() as gb:
        assert sorted(s.id for s in gb.students) == ["amina.h", "lea.v", "omar.k"]
        assert gb.find_student("omar.k").last_name == "Khalil, Jr"
    assert [i.id for i in cohorts.instructors(settings, cohort)] == ["teach.er"]
    assert [c.name for c in cohorts.list_cohorts(settings)] == ["autumn-2026"]


def test_user_mistakes_get_a_message_with_the_fix(
    env: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = env
    monkeypatch.setenv("BOOTCAMP_HOME", str(settings.home))
    with pytest.raises(SystemExit, match="already exists"):
        run_cli("cohort", "create", "autumn-2026", "--track", "six-month", "--start", "2026-09-07")
    with pytest.raises(SystemExit, match="not valid: use lowercase"):
        run_cli("cohort", "create", "Autumn 2026", "--track", "six-month", "--start", "2026-09-07")
    with pytest.raises(SystemExit, match="no cohort 'nope'"):
        run_cli("cohort", "add-trainee", "nope", "x.y", "--name", "X Y", "--email", "x@example.org")
    with pytest.raises(SystemExit, match="trainee id 'X Y' is not valid"):
        run_cli("cohort", "add-trainee", "autumn-2026", "X Y", "--name", "X Y", "--email", "x@example.org")


def test_grades_export_matches_nbgrader_export(env: tuple[Settings, Path], tmp_path: Path) -> None:
    settings, _ = env
    cohort = cohorts.load_cohort(settings, "autumn-2026")
    ours = list(csv.reader(io.StringIO(exports.grades_csv(settings, "autumn-2026"))))
    theirs_file = tmp_path / "nbgrader.csv"
    with cohort.gradebook() as gb:
        CsvExportPlugin(to=str(theirs_file)).export(gb)
    theirs = [line.split(",") for line in theirs_file.read_text().splitlines()]
    assert ours[0] == list(exports.NBGRADER_COLUMNS) == theirs[0]
    # nbgrader's plugin does not quote, so compare the rows whose names have no comma
    plain = [row for row in ours[1:] if row[3] != "omar.k"]
    assert plain == [row for row in theirs[1:] if row[3] != "omar.k"]
    assert len(ours) == 1 + 3 * 3  # three assignments x three students, missing work scores 0
    omar = next(r for r in ours if r[3] == "omar.k" and r[0] == "py-basics")
    assert (omar[4], omar[9], omar[10]) == ("Khalil, Jr", "6.5", "10.0")


def test_moodle_export_is_email_then_points_per_assignment(env: tuple[Settings, Path]) -> None:
    settings, _ = env
    rows = list(csv.reader(io.StringIO(exports.moodle_csv(settings, "autumn-2026"))))
    assert rows[0] == ["email", "capstone", "numpy-arrays", "py-basics"]  # the gradebook's order
    by_email = {r[0]: r[1:] for r in rows[1:]}
    assert by_email == {
        "amina@example.org": ["40.00", "10.00", "9.00"],
        "lea@example.org": ["", "", ""],
        "omar@example.org": ["", "", "6.50"],
    }


def test_transcript_lists_modules_capstone_and_sign_off(
    env: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings, curriculum = env
    monkeypatch.setenv("BOOTCAMP_HOME", str(settings.home))
    run_cli("trainee", "set", "amina.h", "--milestone", "cv", "--milestone", "mock-interview")
    t = build_transcript(settings, "autumn-2026", "amina.h", curriculum)
    modules = {m.title: (m.completed, m.score_text) for m in t.modules}
    assert modules["Python For Data"] == (True, "90%")
    assert modules["Pandas"] == (False, "–")
    assert modules["Career Skills"] == (True, "2/2 deliverables")
    assert t.capstone_text == "Capstone: 80% (graded)"
    html = tmp_path / "transcript.html"
    assert write_transcript(t, html, "html") == "html"
    page = html.read_text()
    assert "Signed off by the programme" in page and "Signature" in page and "Mock interview" in page
    screenshot(html, "transcript-desktop.png", 1024, 1600)
    pdf = tmp_path / "transcript.pdf"
    how = write_transcript(t, pdf, "pdf")
    assert how in ("chromium", "matplotlib") and pdf.read_bytes().startswith(b"%PDF")


def test_demo_seed_gives_both_reports_something_to_show(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    curriculum = write_curriculum(tmp_path / "curriculum")
    seed_demo(settings, today=TODAY, curriculum_dir=curriculum)
    progress = build_progress(settings, "demo", today=TODAY, curriculum_dir=curriculum)
    assert len(progress.trainees) == 24 and progress.at_risk
    assert any(a.graded_count >= 5 for a in progress.assignments)
    outcomes = build_outcomes(settings, today=date(2026, 11, 27))
    spring = next(r for r in outcomes.rows if r.label == "demo-2026-spring")
    assert spring.cells["participants"] == "26" and spring.cells["completion_rate"].endswith("%")
