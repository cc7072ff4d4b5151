"""Content hashes, the version-bump rule (in a real git repository), and cohort pin files."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from test_curriculum_builders import (
    commit_all,
    copy_fixtures,
    git_repo,
    set_version,
    write_module,
    write_track,
)

from graders.cli import main
from graders.curriculum.catalogue import load_catalogue
from graders.curriculum.versioning import (
    LOCK_NAME,
    check_versions,
    content_hash,
    read_recorded,
    record_new_versions,
    rewritten_records,
    verify_pins,
)


def test_content_hash_is_stable_and_ignores_caches(tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path) / "modules" / "tiny-sums"
    first = content_hash(folder)
    assert first.startswith("sha256:") and len(first) == 71
    (folder / "lessons" / ".ipynb_checkpoints").mkdir()
    (folder / "lessons" / ".ipynb_checkpoints" / "01-sums-checkpoint.ipynb").write_text("{}")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    assert content_hash(folder) == first


def test_content_hash_changes_with_bytes_and_names(tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path) / "modules" / "tiny-sums"
    data = folder / "assignments" / "tiny-sums" / "numbers.txt"
    first = content_hash(folder)
    data.write_text(data.read_text() + "5\n")
    second = content_hash(folder)
    data.rename(data.with_name("numbers2.txt"))
    assert len({first, second, content_hash(folder)}) == 3


def states(root: Path) -> dict[str, str]:
    return {status.slug: status.state for status in check_versions(load_catalogue(root))}


def test_content_change_without_version_bump_fails(tmp_path: Path) -> None:
    root = copy_fixtures(tmp_path)
    git_repo(tmp_path)
    catalogue = load_catalogue(root)
    assert states(root) == {"tiny-career": "new", "tiny-sums": "new"}
    record_new_versions(catalogue, check_versions(catalogue))
    commit_all(tmp_path, "release 1.0.0")
    assert states(root) == {"tiny-career": "recorded", "tiny-sums": "recorded"}

    notebook = root / "modules" / "tiny-sums" / "lessons" / "01-sums.ipynb"
    notebook.write_text(notebook.read_text().replace("adds up", "sums up"))
    (status,) = check_versions(load_catalogue(root), ["tiny-sums"])
    assert status.state == "changed"
    assert "content changed since version 1.0.0 was recorded" in status.message
    assert "bump version in tiny-sums/module.toml, add a CHANGELOG.md entry" in status.fix

    # Bumping without a CHANGELOG entry is not enough...
    toml = root / "modules" / "tiny-sums" / "module.toml"
    toml.write_text(toml.read_text().replace('version = "1.0.0"', 'version = "1.0.1"'))
    (status,) = check_versions(load_catalogue(root), ["tiny-sums"])
    assert status.state == "invalid" and "CHANGELOG.md has no entry for 1.0.1" in status.message
    # ...with one, the new version is recorded next to the old one, which stays as it was.
    set_version(root / "modules" / "tiny-sums", "1.0.1", "1.0.0")
    catalogue = load_catalogue(root)
    record_new_versions(catalogue, check_versions(catalogue))
    recorded = read_recorded(catalogue)
    assert sorted(recorded["tiny-sums"]) == ["1.0.0", "1.0.1"]
    assert states(root)["tiny-sums"] == "recorded"


def test_an_uncommitted_version_may_be_recorded_again(tmp_path: Path) -> None:
    """A version is released (immutable) once the lock file recording it is committed."""
    root = copy_fixtures(tmp_path)
    git_repo(tmp_path)
    commit_all(tmp_path, "modules without a lock file")
    catalogue = load_catalogue(root)
    record_new_versions(catalogue, check_versions(catalogue))
    data = root / "modules" / "tiny-sums" / "assignments" / "tiny-sums" / "numbers.txt"
    data.write_text("1\n2\n")
    (status,) = check_versions(load_catalogue(root), ["tiny-sums"])
    assert status.state == "new" and "changed after it was recorded (not committed yet)" in status.message


def test_a_version_must_grow(tmp_path: Path) -> None:
    root = tmp_path / "curriculum"
    folder = write_module(root, "mod", version="2.0.0")
    catalogue = load_catalogue(root)
    record_new_versions(catalogue, check_versions(catalogue))
    set_version(folder, "1.5.0", "2.0.0")
    (status,) = check_versions(load_catalogue(root))
    assert (
        status.state == "invalid" and "version 1.5.0 is not newer than the recorded 2.0.0" in status.message
    )


def test_editing_a_committed_hash_is_caught(tmp_path: Path) -> None:
    root = copy_fixtures(tmp_path)
    git_repo(tmp_path)
    catalogue = load_catalogue(root)
    record_new_versions(catalogue, check_versions(catalogue))
    commit_all(tmp_path, "release")
    lock = root / LOCK_NAME
    recorded = read_recorded(catalogue)
    lock.write_text(lock.read_text().replace(recorded["tiny-sums"]["1.0.0"], "sha256:" + "0" * 64))
    (problem,) = rewritten_records(catalogue, read_recorded(catalogue))
    assert "the recorded hash of tiny-sums 1.0.0 was changed or removed since the last commit" in str(problem)


def test_bump_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_fixtures(tmp_path)
    assert main(["curriculum", "bump-check", "--root", str(root)]) == 1
    assert "not recorded yet" in capsys.readouterr().out
    assert main(["curriculum", "bump-check", "--root", str(root), "--write"]) == 0
    assert main(["curriculum", "bump-check", "--root", str(root), "--module", "tiny-sums"]) == 0
    assert main(["curriculum", "bump-check", "--root", str(root), "--module", "nope"]) == 2


def test_lock_pins_a_track_and_records_its_versions(tmp_path: Path) -> None:
    root = copy_fixtures(tmp_path)
    write_module(root, "mid")
    write_module(root, "cap", prerequisites=["mid"])
    write_module(root, "demo", kind="career", prerequisites=["cap"])
    weeks = [["tiny-sums"], ["mid", "tiny-career"], ["cap"], ["cap", "demo"]]
    write_track(root, "short", weeks)
    output = tmp_path / "cohort" / "curriculum.lock.toml"
    assert main(["curriculum", "lock", "--root", str(root), "--track", "short", "--output", str(output)]) == 0
    pins = tomllib.loads(output.read_text())
    assert pins["track"] == "short"
    assert pins["modules"]["tiny-sums"] == {
        "version": "1.0.0",
        "hash": content_hash(root / "modules" / "tiny-sums"),
    }
    assert sorted(pins["modules"]) == ["cap", "demo", "mid", "tiny-career", "tiny-sums"]
    catalogue = load_catalogue(root)
    assert set(read_recorded(catalogue)) == set(pins["modules"])
    assert verify_pins(catalogue, output) == []
    data = root / "modules" / "tiny-sums" / "assignments" / "tiny-sums" / "numbers.txt"
    data.write_text("9\n")
    (problem,) = verify_pins(load_catalogue(root), output)
    assert "pins tiny-sums 1.0.0 but the catalogue has 1.0.0 with other content" in str(problem)


def test_lock_refuses_changed_content(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_fixtures(tmp_path)
    write_module(root, "mid")
    write_track(root, "short", [["tiny-sums", "mid"]], capstone="mid", demo="mid")
    assert main(["curriculum", "bump-check", "--root", str(root), "--write"]) == 0
    data = root / "modules" / "tiny-sums" / "assignments" / "tiny-sums" / "numbers.txt"
    data.write_text("9\n")
    assert main(["curriculum", "lock", "--root", str(root), "--track", "short"]) == 2
    assert "cannot pin track short: tiny-sums: content changed since version 1.0.0" in capsys.readouterr().err
