"""Builders for curriculum tests: real module folders, track files and git repositories in tmp_path.

Other test_curriculum_* files import these; the tests here check that the builders make what the
tooling accepts, so a broken builder fails in one obvious place.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from graders.curriculum.catalogue import load_catalogue

FIXTURES = Path(__file__).parent / "fixtures" / "curriculum"


def copy_fixtures(tmp_path: Path) -> Path:
    """A private copy of the fixture curriculum (tiny-sums, tiny-career) that a test may change."""
    root = tmp_path / "curriculum"
    shutil.copytree(FIXTURES, root)
    (root / "tracks").mkdir(exist_ok=True)
    return root


def write_module(
    root: Path,
    slug: str,
    *,
    kind: str = "project",
    prerequisites: Sequence[str] = (),
    hours: float = 10,
    version: str = "1.0.0",
) -> Path:
    """A module assessed by one deliverable (so it needs no notebook), with a matching CHANGELOG."""
    folder = root / "modules" / slug
    folder.mkdir(parents=True, exist_ok=True)
    prereqs = ", ".join(f'"{p}"' for p in prerequisites)
    (folder / "module.toml").write_text(
        f'id = "{slug}"\ntitle = "{slug.title()}"\nversion = "{version}"\nkind = "{kind}"\n'
        f'summary = "Test module."\noutcomes = ["Something"]\nprerequisites = [{prereqs}]\nhours = {hours}\n\n'
        f'[[deliverables]]\nid = "{slug}-work"\ntitle = "Work"\ndescription = "Hand it in."\n',
        encoding="utf-8",
    )
    write_changelog(folder, version)
    return folder


def write_changelog(folder: Path, *versions: str) -> None:
    """CHANGELOG.md with one heading per version, newest first."""
    entries = "".join(f"## {v} - 2025-01-0{i + 1}\n\n- Changes in {v}.\n\n" for i, v in enumerate(versions))
    (folder / "CHANGELOG.md").write_text(f"# Changelog\n\n{entries}", encoding="utf-8")


def set_version(folder: Path, version: str, *previous: str) -> None:
    """Bumps module.toml's version and adds the CHANGELOG entry, as an author would."""
    toml = folder / "module.toml"
    lines = [
        f'version = "{version}"' if line.startswith("version =") else line
        for line in toml.read_text().splitlines()
    ]
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_changelog(folder, version, *previous)


def write_track(
    root: Path,
    name: str,
    weeks: Sequence[Sequence[str]],
    *,
    midterm: str = "mid",
    capstone: str = "cap",
    demo: str = "demo",
    max_hours: float = 40,
    min_hours: float | None = None,
) -> Path:
    """A track file whose week N teaches weeks[N - 1]."""
    text = (
        f'name = "{name}"\ntitle = "Test track"\nmax_hours_per_week = {max_hours}\n'
        f'midterm_project = "{midterm}"\ncapstone = "{capstone}"\ndemo_day = "{demo}"\n'
    )
    if min_hours is not None:
        text += f"min_hours_per_week = {min_hours}\n"
    for number, modules in enumerate(weeks, start=1):
        listed = ", ".join(f'"{m}"' for m in modules)
        text += f'\n[[weeks]]\nweek = {number}\ntheme = "Week {number}"\nmodules = [{listed}]\n'
    path = root / "tracks" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def small_programme(root: Path) -> list[list[str]]:
    """Six modules forming a programme, and a valid six-week schedule for them."""
    write_module(root, "basics", kind="technical", hours=10)
    write_module(root, "models", kind="technical", prerequisites=["basics"], hours=20)
    write_module(root, "extra", kind="technical", prerequisites=["basics"], hours=10)
    write_module(root, "mid", prerequisites=["models"], hours=40)
    write_module(root, "cap", prerequisites=["mid"], hours=60)
    write_module(root, "demo", kind="career", prerequisites=["cap"], hours=4)
    return [["basics", "models"], ["extra"], ["mid"], ["cap"], ["cap"], ["cap", "demo"]]


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout


def git_repo(root: Path) -> None:
    """Makes `root` a git repository with a deterministic identity."""
    git(root, "init", "-q")
    git(root, "config", "user.email", "tests@example.org")
    git(root, "config", "user.name", "Tests")


def commit_all(root: Path, message: str) -> None:
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", message)


def test_fixture_curriculum_loads_without_problems(tmp_path: Path) -> None:
    catalogue = load_catalogue(copy_fixtures(tmp_path))
    assert catalogue.problems == []
    assert sorted(catalogue.modules) == ["tiny-career", "tiny-sums"]
    assert catalogue.modules["tiny-sums"].points == 5


def test_generated_modules_load_without_problems(tmp_path: Path) -> None:
    small_programme(tmp_path)
    catalogue = load_catalogue(tmp_path)
    assert [str(p) for p in catalogue.problems if "technical module has no" not in p.message] == []
    assert len(catalogue.modules) == 6
