"""`bootcamp curriculum stats` counts what the course holds; `bootcamp curriculum lessons` runs every lesson
top to bottom in the real trainee image."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from test_curriculum_validate import programme

from graders.cli import main
from graders.curriculum.catalogue import load_catalogue
from graders.curriculum.lessons import run_lesson
from graders.curriculum.stats import collect, module_stats

CHECK = 'from graders import harness\nwith harness.self_check("Practice 1"):\n    harness.assert_close(double(2), 4, hidden=True)\n'


def lesson(words: int, exercises: int, extra: list | None = None) -> nbformat.NotebookNode:
    cells = [new_markdown_cell(" ".join(["word"] * words))]
    for number in range(exercises):
        cells.append(
            new_code_cell("def double(x):\n    raise NotImplementedError\n", metadata={"tags": ["exercise"]})
        )
        cells.append(new_code_cell(CHECK.replace("1", str(number + 1)), metadata={"tags": ["self-check"]}))
    return new_notebook(cells=cells + (extra or []))


def test_stats_count_words_exercises_graded_cells_and_spread_hours_over_weeks(tmp_path: Path, capsys) -> None:
    root = programme(tmp_path)
    lessons = root / "modules" / "tiny-sums" / "lessons"
    nbformat.write(lesson(1200, 3), lessons / "02-more.ipynb")
    catalogue = load_catalogue(root)
    stats = module_stats(catalogue.modules["tiny-sums"])
    assert stats.lessons == 2 and stats.exercises == 3
    assert stats.words >= 1200 and stats.assignments == 1 and stats.graded_cells == 2 and stats.points == 5
    assert stats.material_hours == pytest.approx(stats.words / 1000 + 3 * 0.4 + 2 * 0.75, abs=0.05)
    capsys.readouterr()
    assert (
        main(["curriculum", "stats", "--root", str(root), "--json", "--plot", str(tmp_path / "g.png")]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    weeks = data["tracks"]["short"]["weeks"]
    assert [w["week"] for w in weeks] == [1, 2, 3, 4]
    # cap is taught in weeks 3 and 4: its 30 hours are spread 15 + 15
    assert weeks[2]["hours"] == pytest.approx(15.0) and weeks[3]["hours"] > 15.0
    assert weeks[0]["graded_cells"] == 2 and weeks[0]["exercises"] == 3
    assert data["tracks"]["short"]["totals"]["lessons"] == 2
    assert (tmp_path / "g.png").stat().st_size > 1000
    assert main(["curriculum", "stats", "--root", str(root), "--modules"]) == 0
    assert "tiny-sums" in capsys.readouterr().out


def test_a_deliverable_counts_its_declared_hours_up_to_one_week(tmp_path: Path) -> None:
    """A practicum week signed off by a supervisor is a week of work, not the 3 h of a career task."""
    root = programme(tmp_path)
    toml = root / "modules" / "tiny-career" / "module.toml"
    week = '\n[[deliverables]]\nid = "week-1"\ntitle = "Week 1"\ndescription = "Timesheet."\nhours = 31\n'
    toml.write_text(toml.read_text() + week)
    catalogue = load_catalogue(root)
    assert not catalogue.problems
    stats = module_stats(catalogue.modules["tiny-career"])
    lesson_hours = stats.words / 1000 + stats.exercises * 0.4
    assert stats.deliverables == 2 and stats.material_hours == pytest.approx(lesson_hours + 3 + 31, abs=0.05)

    toml.write_text(toml.read_text().replace("hours = 31", "hours = 60"))
    problems = [str(p) for p in load_catalogue(root).problems]
    assert any(
        "is 60, more than one full-time week (split it into weekly deliverables)" in p for p in problems
    )


def test_stats_of_the_real_course_cover_both_tracks() -> None:
    data = collect(load_catalogue(None), {})
    assert data["modules"] and all(m["hours"] > 0 for m in data["modules"].values())


@pytest.mark.docker
def test_lessons_run_in_the_trainee_image_and_bad_ones_say_why(tmp_path: Path, docker_client) -> None:
    module = tmp_path / "mod"
    (module / "lessons").mkdir(parents=True)
    (module / "data").mkdir()
    (module / "data" / "x.csv").write_text("a\n1\n2\n")
    good = lesson(
        50, 1, [new_code_cell("import pandas as pd\nimport torch\npd.read_csv('../data/x.csv').a.sum()")]
    )
    nbformat.write(good, module / "lessons" / "01-good.ipynb")
    stored = lesson(10, 0, [new_code_cell("1 + 1")])
    stored.cells[-1].outputs = [
        nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)
    ]
    nbformat.write(stored, module / "lessons" / "02-stored.ipynb")
    broken = lesson(10, 0, [new_code_cell("import this_module_does_not_exist")])
    nbformat.write(broken, module / "lessons" / "03-broken.ipynb")
    results = {path.name: run_lesson(module, path) for path in sorted((module / "lessons").glob("*.ipynb"))}
    assert results["01-good.ipynb"].ok, results["01-good.ipynb"].reason
    assert not results["02-stored.ipynb"].ok and "stored outputs" in results["02-stored.ipynb"].reason
    assert (
        not results["03-broken.ipynb"].ok
        and "this_module_does_not_exist" in results["03-broken.ipynb"].reason
    )
