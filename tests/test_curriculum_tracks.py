"""Tracks: every week covered, prerequisites before dependents, full-time weeks, project milestones;
and the prerequisite graph of the catalogue (missing modules, cycles)."""

from __future__ import annotations

from pathlib import Path

from test_curriculum_builders import small_programme, write_module, write_track

from graders.curriculum.catalogue import load_catalogue, load_tracks
from graders.curriculum.model import Problem
from graders.curriculum.schema import load_track
from graders.curriculum.tracks import check_track, unscheduled, week_hours
from graders.curriculum.validate import check_prerequisites, find_cycles
from graders.settings import default_curriculum_dir as default_root

# The module slugs the content writers create (issue 3); the real tracks must use exactly these.
CATALOGUE_SLUGS = {
    *"python-for-data git-and-shell numpy pandas data-visualisation probability-statistics linear-algebra".split(),
    *"linear-regression classification model-evaluation feature-engineering trees-ensembles".split(),
    *"unsupervised-learning neural-networks-numpy pytorch-fundamentals convolutional-networks nlp-basics".split(),
    *"time-series sql-for-data mlops midterm-project capstone finnish-job-market cv-and-portfolio".split(),
    *"interview-practice company-visits demo-day".split(),
    *"attention-transformers responsible-ml embeddings-retrieval".split(),  # added by issue 11
    "job-search",  # beside the capstone
}
# The nine-month track's extra weeks carry extra modules, not the six-month content stretched.
NINE_MONTH_ONLY = {
    "maths-for-ml",
    "bayesian-and-causal",
    "product-team-project",
    "practicum",
    "workplace-finnish",
}


def problems_for(tmp_path: Path, weeks: list[list[str]], **options: object) -> list[str]:
    catalogue = load_catalogue(tmp_path)
    path = write_track(tmp_path, "test", weeks, **options)  # type: ignore[arg-type]
    problems: list[Problem] = []
    track = load_track(path, problems)
    assert track is not None and problems == []
    return [str(problem) for problem in check_track(track, catalogue)]


def test_a_valid_schedule_has_no_problems(tmp_path: Path) -> None:
    weeks = small_programme(tmp_path)
    assert problems_for(tmp_path, weeks) == []


def test_hours_are_spread_over_the_weeks_a_module_spans(tmp_path: Path) -> None:
    weeks = small_programme(tmp_path)
    path = write_track(tmp_path, "test", weeks)
    track = load_track(path, [])
    assert track is not None
    assert week_hours(track, load_catalogue(tmp_path)) == {1: 30, 2: 10, 3: 40, 4: 20, 5: 20, 6: 24}


def test_a_week_may_state_a_modules_hours_and_the_rest_is_spread(tmp_path: Path) -> None:
    weeks = small_programme(tmp_path)  # cap (60 h) in weeks 4, 5 and 6
    path = write_track(tmp_path, "test", weeks)
    text = path.read_text()
    path.write_text(text.replace('modules = ["cap"]\n', 'modules = ["cap"]\nhours = { cap = 30 }\n', 1))
    problems: list[Problem] = []
    track = load_track(path, problems)
    assert track is not None and problems == []
    assert week_hours(track, load_catalogue(tmp_path)) == {1: 30, 2: 10, 3: 40, 4: 30, 5: 15, 6: 19}
    assert [str(p) for p in check_track(track, load_catalogue(tmp_path))] == []


def test_stated_hours_must_add_up_and_name_the_weeks_modules(tmp_path: Path) -> None:
    weeks = small_programme(tmp_path)
    path = write_track(tmp_path, "test", weeks)
    text = path.read_text()
    text = text.replace('modules = ["cap"]\n', 'modules = ["cap"]\nhours = { cap = 25 }\n')  # weeks 4, 5
    text = text.replace(
        'modules = ["cap", "demo"]\n', 'modules = ["cap", "demo"]\nhours = { cap = 5, demo = 4 }\n'
    )
    path.write_text(text)
    track = load_track(path, [])
    assert track is not None
    (problem,) = [str(p) for p in check_track(track, load_catalogue(tmp_path))]
    assert "the weeks give cap 55 hours in all, but the module has 60" in problem

    path.write_text(text.replace("hours = { cap = 5, demo = 4 }", 'hours = { extra = 5, demo = "four" }'))
    problems: list[Problem] = []
    load_track(path, problems)
    messages = [str(p) for p in problems]
    assert any("names 'extra', which the week does not teach" in m for m in messages)
    assert any("gives 'demo' 'four' hours (use a positive number)" in m for m in messages)


def test_a_missing_week_is_reported(tmp_path: Path) -> None:
    weeks = small_programme(tmp_path)
    path = write_track(tmp_path, "test", weeks)
    path.write_text(path.read_text().replace("week = 2\n", "week = 7\n"))
    track = load_track(path, [])
    assert track is not None
    (problem,) = [str(p) for p in check_track(track, load_catalogue(tmp_path))]
    assert (
        "weeks must run 1..6 in order without gaps or repeats, got [1, 7, 3, 4, 5, 6] (add week(s) [2])"
        in problem
    )


def test_a_prerequisite_must_finish_before_its_dependent_starts(tmp_path: Path) -> None:
    weeks = small_programme(tmp_path)
    weeks[0] = ["models", "basics"]  # the same week, but taught in the wrong order
    (problem,) = problems_for(tmp_path, weeks)
    assert "models starts in week 1 before its prerequisite basics finishes (week 1)" in problem


def test_a_prerequisite_that_is_not_scheduled(tmp_path: Path) -> None:
    weeks = small_programme(tmp_path)
    write_module(tmp_path, "advanced", kind="technical", prerequisites=["elsewhere"], hours=1)
    write_module(tmp_path, "elsewhere", kind="technical", hours=1)
    weeks[1] = ["extra", "advanced"]
    (problem,) = problems_for(tmp_path, weeks)
    assert "advanced (week 2) needs elsewhere, which this track does not schedule" in problem


def test_a_week_over_full_time_is_reported(tmp_path: Path) -> None:
    weeks = small_programme(tmp_path)
    weeks[1] = ["extra", "mid"]  # mid then spans weeks 2-3: 20 h a week, week 2 has 30 h
    weeks[2] = ["mid", "cap"]
    problems = problems_for(tmp_path, weeks, max_hours=25)
    assert any("week 2 plans 30 hours, more than 25" in p for p in problems)
    assert any(
        "max_hours_per_week is 50" in p
        for p in problems_for(tmp_path, small_programme(tmp_path), max_hours=50)
    )


def test_a_week_under_the_tracks_minimum_is_reported(tmp_path: Path) -> None:
    weeks = small_programme(tmp_path)
    hours = week_hours(load_track(write_track(tmp_path, "probe", weeks), []), load_catalogue(tmp_path))
    lightest = min(hours, key=hours.get)
    problems = problems_for(tmp_path, weeks, min_hours=hours[lightest] + 1)
    assert any(f"week {lightest} plans {hours[lightest]:g} hours, fewer than" in p for p in problems)
    assert not any("fewer than" in p for p in problems_for(tmp_path, weeks, min_hours=min(hours.values())))


def test_milestones_midterm_in_the_middle_capstone_after_demo_last(tmp_path: Path) -> None:
    small_programme(tmp_path)
    weeks = [["basics", "models", "mid"], ["extra"], ["cap", "demo"], ["cap"], ["cap"], ["cap"]]
    problems = problems_for(tmp_path, weeks)
    assert any("mid-programme project starts in week 1 of 6" in p for p in problems)
    assert any("demo day is in week 3 (schedule demo in the last week (6))" in p for p in problems)


def test_unknown_module_in_a_track(tmp_path: Path) -> None:
    weeks = small_programme(tmp_path)
    weeks[1] = ["extra", "ghost"]
    (problem,) = problems_for(tmp_path, weeks)
    assert (
        "module 'ghost' is not in the catalogue (create curriculum/modules/ghost/ or fix the slug)" in problem
    )


def test_unscheduled_modules_are_found(tmp_path: Path) -> None:
    weeks = small_programme(tmp_path)
    write_module(tmp_path, "forgotten", kind="technical")
    write_track(tmp_path, "test", weeks)
    catalogue = load_catalogue(tmp_path)
    assert unscheduled(catalogue, list(load_tracks(catalogue, []).values())) == ["forgotten"]


def test_prerequisite_cycles_are_detected(tmp_path: Path) -> None:
    write_module(tmp_path, "a", prerequisites=["c"])
    write_module(tmp_path, "b", prerequisites=["a"])
    write_module(tmp_path, "c", prerequisites=["b"])
    write_module(tmp_path, "d", prerequisites=["a", "nowhere"])
    catalogue = load_catalogue(tmp_path)
    assert find_cycles(catalogue) == [["a", "c", "b", "a"]]
    results = {(r.check, r.subject): r for r in check_prerequisites(catalogue, sorted(catalogue.modules))}
    assert not results["prerequisite cycle", "a"].ok
    assert "a -> c -> b -> a" in results["prerequisite cycle", "a"].reason
    assert "needs 'nowhere', which is not in the catalogue" in results["prerequisites", "d"].reason
    assert results["prerequisites", "a"].ok


def test_real_tracks_cover_every_week_with_the_official_modules() -> None:
    """The checked-in tracks: their shape here; the full check against real content runs in
    `bootcamp curriculum validate` (CI), because modules are written by other people."""
    root = default_root()
    for name, length, slugs in (
        ("six-month", 26, CATALOGUE_SLUGS),
        ("nine-month", 39, CATALOGUE_SLUGS | NINE_MONTH_ONLY),
    ):
        problems: list[Problem] = []
        track = load_track(root / "tracks" / f"{name}.toml", problems)
        assert track is not None and problems == []
        assert [week.number for week in track.weeks] == list(range(1, length + 1))
        assert set(track.slugs) == slugs
        assert track.min_hours_per_week >= 35  # full time: the validator holds every week to it
        assert (track.midterm_project, track.capstone, track.demo_day) == (
            "midterm-project",
            "capstone",
            "demo-day",
        )
        assert any(week.milestone for week in track.weeks)


def test_real_tracks_respect_the_modules_that_exist(tmp_path: Path) -> None:
    """Every check except "not in the catalogue" must already pass for the modules written so far."""
    root = default_root()
    if not (root / "modules").is_dir():
        (tmp_path / "modules").mkdir()
        root = tmp_path
    catalogue = load_catalogue(root)
    for name in ("six-month", "nine-month"):
        track = load_track(default_root() / "tracks" / f"{name}.toml", [])
        assert track is not None
        problems = [
            str(p) for p in check_track(track, catalogue) if "is not in the catalogue" not in p.message
        ]
        assert problems == [], name
