"""`bootcamp curriculum diff`: changes between two versions from git history, notebooks by cell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_curriculum_builders import commit_all, copy_fixtures, git_repo, set_version

from graders.cli import main
from graders.curriculum.catalogue import load_catalogue
from graders.curriculum.diff import diff_versions, version_commits
from graders.errors import UserError


def two_versions(tmp_path: Path) -> Path:
    """A repository where tiny-sums went 1.0.0 -> 1.1.0, changing one line of one notebook cell."""
    root = copy_fixtures(tmp_path)
    git_repo(tmp_path)
    commit_all(tmp_path, "tiny-sums 1.0.0")
    folder = root / "modules" / "tiny-sums"
    notebook = folder / "assignments" / "tiny-sums" / "tiny-sums.ipynb"
    data = json.loads(notebook.read_text())
    source = "".join(data["cells"][2]["source"])  # nbformat stores source as a list of lines on disk
    data["cells"][2]["source"] = source.replace("total([1, 2, 3]), 6", "total([1, 2, 3, 4]), 10")
    notebook.write_text(json.dumps(data, indent=1))
    (folder / "assignments" / "tiny-sums" / "numbers.txt").unlink()
    set_version(folder, "1.1.0", "1.0.0")
    commit_all(tmp_path, "tiny-sums 1.1.0")
    return root


def test_versions_are_found_in_history(tmp_path: Path) -> None:
    root = two_versions(tmp_path)
    assert sorted(version_commits(load_catalogue(root), "tiny-sums")) == ["1.0.0", "1.1.0"]


def test_notebooks_are_diffed_by_cell_source(tmp_path: Path) -> None:
    text = diff_versions(load_catalogue(two_versions(tmp_path)), "tiny-sums", "1.0.0", "1.1.0")
    assert "--- a/tiny-sums/assignments/tiny-sums/tiny-sums.ipynb (1.0.0)" in text
    assert '-assert_close(total([1, 2, 3]), 6, name="total([1, 2, 3])")' in text
    assert '+assert_close(total([1, 2, 3, 4]), 10, name="total([1, 2, 3])")' in text
    assert "# ---- cell 3 [code] (grade, locked, grade_id=tiny-test-total, points=2)" in text
    assert '"source"' not in text and "\\n" not in text  # no raw JSON
    assert '-version = "1.0.0"' in text and '+version = "1.1.0"' in text
    assert "+++ /dev/null" in text and "-1.5" in text  # the removed data file
    assert "lessons" not in text  # unchanged files are left out


def test_diff_against_the_working_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = two_versions(tmp_path)
    (root / "modules" / "tiny-sums" / "lessons" / "notes.md").write_text("draft\n")
    assert main(["curriculum", "diff", "--root", str(root), "tiny-sums", "1.1.0", "working"]) == 0
    assert "+draft" in capsys.readouterr().out


def test_unknown_version_lists_the_known_ones(tmp_path: Path) -> None:
    root = two_versions(tmp_path)
    with pytest.raises(
        UserError, match=r"tiny-sums has no version 0.9.0 in git history \(versions: 1.0.0, 1.1.0"
    ):
        diff_versions(load_catalogue(root), "tiny-sums", "0.9.0", "1.1.0")
