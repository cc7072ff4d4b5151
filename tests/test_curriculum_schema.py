"""module.toml and track files: every mistake is reported with the file, the field and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_curriculum_builders import copy_fixtures, write_track

from graders.curriculum.catalogue import get_track, load_catalogue
from graders.curriculum.model import Problem
from graders.curriculum.schema import load_track
from graders.errors import UserError


def problems_after_edit(tmp_path: Path, old: str, new: str, slug: str = "tiny-sums") -> list[str]:
    root = copy_fixtures(tmp_path)
    toml = root / "modules" / slug / "module.toml"
    text = toml.read_text()
    assert old in text
    toml.write_text(text.replace(old, new))
    return [str(problem) for problem in load_catalogue(root).problems]


def test_bad_version_names_file_field_and_fix(tmp_path: Path) -> None:
    (problem,) = problems_after_edit(tmp_path, 'version = "1.0.0"', 'version = "1.0"')
    assert "tiny-sums/module.toml: field 'version' has the wrong form: '1.0'" in problem
    assert 'semantic version such as "1.0.0"' in problem


def test_missing_field_and_unknown_field_are_reported_together(tmp_path: Path) -> None:
    problems = problems_after_edit(tmp_path, 'title = "Tiny sums"', 'titel = "Tiny sums"')
    assert any("field 'title' is missing" in p for p in problems)
    assert any("field 'titel' is not a known field" in p and "known fields are" in p for p in problems)


def test_id_must_match_folder(tmp_path: Path) -> None:
    (problem,) = problems_after_edit(tmp_path, 'id = "tiny-sums"', 'id = "tiny-sum"')
    assert "is 'tiny-sum' but the folder is named 'tiny-sums'" in problem


def test_assignment_fields_are_checked(tmp_path: Path) -> None:
    problems = problems_after_edit(tmp_path, 'image = "grader"', 'image = "gpu"\npoints_total = 3')
    assert any("field 'assignments[0].image' is 'gpu' (use one of grader, grader-dl)" in p for p in problems)
    assert any("field 'assignments[0].points_total' is not a known field" in p for p in problems)


def test_missing_notebook_is_reported(tmp_path: Path) -> None:
    (problem,) = problems_after_edit(tmp_path, 'name = "tiny-sums"', 'name = "tiny-sum"')
    assert "assignments/tiny-sum/tiny-sum.ipynb does not exist" in problem


def test_career_module_cannot_have_assignments(tmp_path: Path) -> None:
    root = copy_fixtures(tmp_path)
    toml = root / "modules" / "tiny-career" / "module.toml"
    toml.write_text(
        toml.read_text()
        + '\n[[assignments]]\nname = "x"\ntitle = "x"\npoints = 1\ntime_budget_s = 1\nimage = "grader"\n'
    )
    problems = [str(p) for p in load_catalogue(root).problems]
    assert any("a career module has [[assignments]] (use [[deliverables]] instead)" in p for p in problems)


def test_version_without_changelog_entry(tmp_path: Path) -> None:
    (problem,) = problems_after_edit(tmp_path, 'version = "1.0.0"', 'version = "1.1.0"')
    assert "CHANGELOG.md: newest entry is 1.0.0 but module.toml says version 1.1.0" in problem
    assert "add '## 1.1.0 - YYYY-MM-DD'" in problem


def test_invalid_toml_is_reported_not_raised(tmp_path: Path) -> None:
    (problem,) = problems_after_edit(tmp_path, "hours = 6", "hours = ")
    assert "tiny-sums/module.toml: not valid TOML" in problem


def test_missing_modules_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="has no modules/ folder: pass --root"):
        load_catalogue(tmp_path)


def test_track_file_errors(tmp_path: Path) -> None:
    path = write_track(tmp_path, "short", [["a"], []])
    path.write_text(path.read_text().replace('name = "short"', 'name = "long"') + "\nweeks_total = 3\n")
    problems: list[Problem] = []
    load_track(path, problems)
    text = [str(p) for p in problems]
    assert any("field 'name' is 'long' but the file is short.toml" in p for p in text)
    assert any("field 'weeks[1].modules' is empty" in p for p in text)


def test_unknown_track_lists_the_known_ones(tmp_path: Path) -> None:
    root = copy_fixtures(tmp_path)
    write_track(root, "tiny", [["tiny-sums"]])
    with pytest.raises(UserError, match=r"no track named 'huge' .*\(tracks: tiny\)"):
        get_track(load_catalogue(root), "huge")
