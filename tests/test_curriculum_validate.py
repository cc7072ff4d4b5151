"""`bootcamp curriculum validate` and `list`: real nbgrader, real files, and (marked `docker`) the real
grading sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from test_curriculum_builders import copy_fixtures, write_module, write_track

from graders.cli import main
from graders.curriculum.catalogue import load_catalogue
from graders.curriculum.validate import CheckResult, ValidateOptions, validate


def programme(tmp_path: Path) -> Path:
    """The fixture modules plus project and demo-day modules and a track teaching all of them."""
    root = copy_fixtures(tmp_path)
    write_module(root, "mid", prerequisites=["tiny-sums"], hours=30)
    write_module(root, "cap", prerequisites=["mid"], hours=30)
    write_module(root, "demo", kind="career", prerequisites=["cap"], hours=4)
    write_track(root, "short", [["tiny-sums", "tiny-career"], ["mid"], ["cap"], ["cap", "demo"]])
    assert main(["curriculum", "bump-check", "--root", str(root), "--write"]) == 0
    return root


def by_check(results: list[CheckResult]) -> dict[tuple[str, str], CheckResult]:
    return {(result.check, result.subject): result for result in results}


def edit_notebook(root: Path, change) -> None:  # type: ignore[no-untyped-def]
    path = root / "modules" / "tiny-sums" / "assignments" / "tiny-sums" / "tiny-sums.ipynb"
    notebook = nbformat.read(path, as_version=4)
    change(notebook)
    nbformat.write(notebook, path)


def test_whole_catalogue_passes_without_sandbox(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = programme(tmp_path)
    capsys.readouterr()
    assert main(["curriculum", "validate", "--root", str(root), "--no-sandbox"]) == 0
    out = capsys.readouterr().out
    assert "nbgrader generate" in out and "no leaks in release" in out and "track" in out
    assert "0 failed (sandbox skipped)" in out


def test_reasons_are_printed_as_written_not_as_terminal_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reason naming `[[assignments]]` must reach the reader whole (the table renders rich markup)."""
    root = programme(tmp_path)
    toml = root / "modules" / "tiny-sums" / "module.toml"
    toml.write_text(toml.read_text().split("[[assignments]]")[0])
    capsys.readouterr()
    assert main(["curriculum", "validate", "--root", str(root), "--no-sandbox"]) == 1
    assert "a technical module has no [[assignments]] (add at least one)" in capsys.readouterr().out


def test_solution_text_left_in_the_release_is_a_leak(tmp_path: Path) -> None:
    root = programme(tmp_path)

    def add_leaky_cells(notebook) -> None:  # type: ignore[no-untyped-def]
        # A "hint" that repeats the solution, and a hidden test pasted into an ordinary cell.
        hint = (
            "Hint:\n\n    result = 0.0\n    for value in values:\n        result += value\n    return result"
        )
        notebook.cells.insert(1, nbformat.v4.new_markdown_cell(hint))
        notebook.cells.append(
            nbformat.v4.new_code_cell(
                'assert_close(mean_of_file("numbers.txt"), 8 / 3, '
                "name=\"mean_of_file('numbers.txt')\", hidden=True)"
            )
        )

    edit_notebook(root, add_leaky_cells)
    results = validate(load_catalogue(root), ValidateOptions(module="tiny-sums", sandbox=None))
    leak = by_check(results)["no leaks in release", "tiny-sums"]
    assert not leak.ok
    assert "solution of source cell 3 appears in the release: 'result = 0.0'" in leak.reason
    assert "hidden test of source cell 6 appears in the release" in leak.reason


def test_points_must_match_module_toml_and_grade_ids_must_be_unique(tmp_path: Path) -> None:
    root = programme(tmp_path)
    toml = root / "modules" / "tiny-sums" / "module.toml"
    toml.write_text(toml.read_text().replace("points = 5", "points = 6"))
    # A second assignment reusing a grade_id of the first.
    other = root / "modules" / "tiny-sums" / "assignments" / "tiny-copy"
    other.mkdir()
    source = root / "modules" / "tiny-sums" / "assignments" / "tiny-sums" / "tiny-sums.ipynb"
    (other / "tiny-copy.ipynb").write_bytes(source.read_bytes())
    toml.write_text(
        toml.read_text()
        + '\n[[assignments]]\nname = "tiny-copy"\ntitle = "Copy"\npoints = 5\ntime_budget_s = 60\nimage = "grader"\n'
    )
    results = by_check(validate(load_catalogue(root), ValidateOptions(module="tiny-sums", sandbox=None)))
    assert (
        "grade cells add up to 5 points but module.toml says points = 6"
        in results["points", "tiny-sums"].reason
    )
    assert "'tiny-test-total' also in tiny-copy" in results["unique grade_ids", "tiny-sums"].reason


def test_nbgrader_errors_are_reported(tmp_path: Path) -> None:
    root = programme(tmp_path)

    def unmark_solution(notebook) -> None:  # type: ignore[no-untyped-def]
        notebook.cells[1].metadata.nbgrader["solution"] = False  # markers in a non-solution cell

    edit_notebook(root, unmark_solution)
    results = by_check(validate(load_catalogue(root), ValidateOptions(module="tiny-sums", sandbox=None)))
    generate = results["nbgrader generate", "tiny-sums"]
    assert not generate.ok and "nbgrader generate_assignment failed" in generate.reason


def test_list_json_describes_modules_and_tracks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = programme(tmp_path)
    capsys.readouterr()
    assert main(["curriculum", "list", "--root", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    modules = {m["slug"]: m for m in data["modules"]}
    assert modules["tiny-sums"]["points"] == 5
    assert modules["tiny-sums"]["assignments"][0] == {
        "name": "tiny-sums",
        "title": "Sums and means",
        "points": 5,
        "time_budget_s": 60,
        "image": "grader",
    }
    week = data["tracks"]["short"]["weeks"][0]
    assert week == {
        "week": 1,
        "theme": "Week 1",
        "modules": ["tiny-sums", "tiny-career"],
        "hours": 10,
        "milestone": "",
    }
    assert main(["curriculum", "list", "--root", str(root), "--track", "short"]) == 0
    assert "Test track (short, 4 weeks)" in capsys.readouterr().out
    assert main(["curriculum", "list", "--root", str(root), "--track", "long"]) == 2


@pytest.mark.docker
def test_reference_scores_full_and_blank_scores_nothing_in_docker(tmp_path: Path) -> None:
    root = programme(tmp_path)
    results = validate(load_catalogue(root), ValidateOptions(module="tiny-sums", sandbox="docker"))
    failed = [r for r in results if not r.ok]
    assert failed == []
    checks = by_check(results)
    assert checks["sandbox reference", "tiny-sums"].reason.startswith("5/5 autograded points in")
    assert checks["sandbox blank", "tiny-sums"].reason.startswith("0/5 autograded points in")


@pytest.mark.docker
def test_tests_that_pass_without_an_answer_fail_validation(tmp_path: Path) -> None:
    root = programme(tmp_path)

    def weaken_tests(notebook) -> None:  # type: ignore[no-untyped-def]
        notebook.cells[4].source = "assert True  # a test that checks nothing"

    edit_notebook(root, weaken_tests)
    results = by_check(validate(load_catalogue(root), ValidateOptions(module="tiny-sums", sandbox="docker")))
    blank = results["sandbox blank", "tiny-sums"]
    assert not blank.ok
    assert "the blank notebook scores 3/5, above 20%: the tests pass without an answer" in blank.reason


CALIBRATION = """
[[solutions]]
label = "counts-instead"
kind = "wrong"
why = "returns how many values there are, the usual mix-up of sum and count"
targets = ["tiny-test-total"]
[solutions.cells]
tiny-total = \"\"\"
def total(values):
    return float(len(values))
\"\"\"

[[solutions]]
label = "builtin-sum"
kind = "baseline"
why = "the built-in sum: exactly what the task asks for, so the tests cannot tell it apart"
targets = ["tiny-test-total"]
[solutions.cells]
tiny-total = \"\"\"
def total(values):
    return float(sum(values))
\"\"\"
"""


def write_calibration(root: Path, text: str) -> None:
    folder = root / "modules" / "tiny-sums" / "calibration"
    folder.mkdir(exist_ok=True)
    (folder / "tiny-sums.toml").write_text(text)


def test_calibration_files_are_checked_without_a_sandbox(tmp_path: Path) -> None:
    root = programme(tmp_path)
    write_calibration(
        root, CALIBRATION.replace('targets = ["tiny-test-total"]', 'targets = ["tiny-total"]', 1)
    )
    results = by_check(validate(load_catalogue(root), ValidateOptions(module="tiny-sums", sandbox=None)))
    row = results["calibration file", "tiny-sums"]
    assert not row.ok and "'tiny-total' is not an autograded test cell" in row.reason

    def add_metric_cell(notebook) -> None:  # type: ignore[no-untyped-def]
        cell = nbformat.v4.new_code_cell(
            "from graders import harness\nharness.partial_credit(total([1.0]), 0, 1, 1)"
        )
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 1,
                                     "grade_id": "tiny-test-quality", "schema_version": 3, "task": False}  # fmt: skip
        notebook.cells.append(cell)

    write_calibration(root, CALIBRATION)
    edit_notebook(root, add_metric_cell)
    results = by_check(validate(load_catalogue(root), ValidateOptions(module="tiny-sums", sandbox=None)))
    row = results["calibration file", "tiny-sums"]
    assert (
        not row.ok and "'tiny-test-quality' scores a model's quality but no baseline targets it" in row.reason
    )


@pytest.mark.docker
def test_the_gate_fails_a_baseline_the_tests_cannot_tell_apart_and_passes_a_caught_mistake(
    tmp_path: Path,
) -> None:
    root = programme(tmp_path)
    write_calibration(root, CALIBRATION)
    results = by_check(validate(load_catalogue(root), ValidateOptions(module="tiny-sums", sandbox="docker")))
    assert results["calibration file", "tiny-sums"].ok
    wrong = results["sandbox calibration-counts-instead", "tiny-sums"]
    assert wrong.ok and wrong.reason.startswith("wrong 'counts-instead' earns 0/2 on its targets"), (
        wrong.reason
    )
    baseline = results["sandbox calibration-builtin-sum", "tiny-sums"]
    assert not baseline.ok
    assert "baseline 'builtin-sum' earns 2/2 on its targets, but may earn at most 1" in baseline.reason
    assert results["sandbox reference", "tiny-sums"].ok
