"""One set of course libraries: the trainee's server, the grading images and the venv run the same versions.

A notebook that passes in a trainee's JupyterLab must behave the same in the grading sandbox. The
libraries come from one list (images/course/); these tests import every library the curriculum imports
inside each image and compare the versions.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "images" / "course"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)$")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins |= _pins(path.parent / line[3:].strip())
        elif match := PIN.match(line):
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def curriculum_imports() -> set[str]:
    """Top-level modules imported by any curriculum notebook, other than the standard library."""
    names: set[str] = set()
    for path in (ROOT / "curriculum").rglob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(
                line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
            )
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names}


PROBE = """
import importlib, importlib.metadata as md, json, sys
found = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as error:
        found[name] = "MISSING: " + type(error).__name__
        continue
    dists = md.packages_distributions().get(name, [])
    found[name] = md.version(dists[0]) if dists else "(no distribution)"
print(json.dumps(found))
"""


def run_in(image: str, entrypoint: str, *args: str) -> subprocess.CompletedProcess:
    """A command in a throwaway container of the image, without network; fails the test if it fails."""
    command = ["docker", "run", "--rm", "--network", "none", "--entrypoint", entrypoint, image, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def versions_in(image: str, modules: list[str]) -> dict[str, str]:
    done = run_in(image, "python3", "-c", PROBE, *modules)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_ml_extra_pins_exactly_the_course_libraries():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extra = {}
    for line in project["project"]["optional-dependencies"]["ml"]:
        match = PIN.match(line)
        assert match, f"the ml extra must pin exact versions: {line!r}"
        extra[match.group(1).lower().replace("_", "-")] = match.group(2)
    course = {
        k: v
        for k, v in _pins(COURSE / "requirements-dl.txt").items()
        if k not in ("ipykernel", "jupyter-client")
    }
    assert extra == course


@pytest.mark.docker
def test_trainee_and_grading_images_import_every_curriculum_library_at_the_same_versions(docker_client):
    modules = sorted(curriculum_imports())
    assert {"numpy", "pandas", "sklearn", "torch", "graders"} <= set(modules)
    trainee = versions_in("bootcamp-trainee:latest", modules)
    grading_dl = versions_in("bootcamp-grader-dl:latest", modules)
    assert not [m for m, v in trainee.items() if v.startswith("MISSING")], trainee
    assert not [m for m, v in grading_dl.items() if v.startswith("MISSING")], grading_dl
    assert trainee == grading_dl
    slim = versions_in("bootcamp-grader:latest", [m for m in modules if m != "torch"])
    assert slim == {m: v for m, v in grading_dl.items() if m != "torch"}
    pins = _pins(COURSE / "requirements-dl.txt")
    for module, dist in (
        ("numpy", "numpy"),
        ("pandas", "pandas"),
        ("sklearn", "scikit-learn"),
        ("torch", "torch"),
    ):
        # a local version label (torch's "+cpu") names the build, not another release
        assert trainee[module].split("+")[0] == pins[dist], (module, trainee[module], pins[dist])


@pytest.mark.docker
def test_trainee_image_has_git_and_the_resource_indicator(docker_client):
    script = "git --version && python3 -c 'import jupyter_resource_usage'"
    done = run_in("bootcamp-trainee:latest", "sh", "-c", script)
    assert done.stdout.startswith("git version")
