"""Finds the modules and tracks under a curriculum root (default: the checkout's curriculum/)."""

from __future__ import annotations

import logging
from pathlib import Path

from graders.curriculum.model import Catalogue, Problem, Track
from graders.curriculum.schema import load_module, load_track
from graders.errors import UserError
from graders.settings import default_curriculum_dir

log = logging.getLogger(__name__)


def load_catalogue(root: Path | None = None) -> Catalogue:
    """Every module under `<root>/modules/`; problems in the files are collected, not raised."""
    root = (root or default_curriculum_dir()).resolve()
    catalogue = Catalogue(root=root)
    if not catalogue.modules_dir.is_dir():
        raise UserError(f"{root} has no modules/ folder: pass --root with the path of a curriculum folder")
    for folder in sorted(path for path in catalogue.modules_dir.iterdir() if path.is_dir()):
        if folder.name.startswith((".", "_")):
            continue
        if not (folder / "module.toml").is_file():
            catalogue.problems.append(
                Problem(
                    folder, "is a module folder without module.toml", "add module.toml or remove the folder"
                )
            )
            continue
        module = load_module(folder, catalogue.problems)
        if module is not None:
            catalogue.modules[module.slug] = module
    log.debug("found %d modules under %s", len(catalogue.modules), root)
    return catalogue


def load_tracks(catalogue: Catalogue, problems: list[Problem]) -> dict[str, Track]:
    """The tracks in `<root>/tracks/*.toml`, by name."""
    tracks: dict[str, Track] = {}
    for file in sorted(catalogue.tracks_dir.glob("*.toml")):
        track = load_track(file, problems)
        if track is not None:
            tracks[track.name] = track
    return tracks


def get_track(catalogue: Catalogue, name: str) -> Track:
    """One track by name, or a UserError listing the ones that exist."""
    problems: list[Problem] = []
    tracks = load_tracks(catalogue, problems)
    if name not in tracks:
        known = ", ".join(tracks) or "none"
        raise UserError(f"no track named {name!r} in {catalogue.tracks_dir} (tracks: {known})")
    if problems:
        raise UserError("; ".join(str(problem) for problem in problems))
    return tracks[name]


def module_problems(catalogue: Catalogue, slug: str) -> list[Problem]:
    """The problems found in one module's files."""
    folder = catalogue.modules_dir / slug
    return [p for p in catalogue.problems if p.file == folder or folder in p.file.parents]
