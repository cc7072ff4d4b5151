"""A course's own packages: a grading image derived from ours, built once per content and reused.

A stock nbgrader course may need libraries our grading images lack (plotnine, sympy, a physics helper
package ...). The course lists them in `requirements.txt` (pip format) beside `nbgrader_config.py`. We
then grade in `bootcamp-course-<hash>`: the grading image plus those packages. No registry is needed:
wheels are collected on the host (`pip download`, for the image's Python) and installed offline in the
build, exactly as the grading images themselves are built. The tag is a hash of the requirements, the
base image's id and this recipe, so an unchanged course reuses its image and any change builds anew.

The course libraries we pin (numpy, pandas, ...) stay at our versions: they are passed to pip as
constraints, so a course package cannot silently swap the numpy every other assignment is tested with.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from graders.errors import UserError

log = logging.getLogger(__name__)

REQUIREMENTS_FILE = "requirements.txt"
IMAGE_PYTHON = "3.11.2"  # Debian bookworm's Python, which the grading images run
RECIPE_VERSION = "1"  # bump when the Dockerfile below changes, so that old images are not reused

DOCKERFILE = """\
ARG BASE
FROM ${BASE}
USER root
COPY wheels /tmp/wheels
COPY requirements.txt constraints.txt /tmp/
RUN /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels \\
        -r /tmp/requirements.txt -c /tmp/constraints.txt \\
    && rm -rf /tmp/wheels /tmp/requirements.txt /tmp/constraints.txt
USER 1000:1000
"""


@dataclass(frozen=True)
class CourseImage:
    tag: str
    base: str
    requirements: tuple[str, ...]  # the course's requirement lines, for messages
    built: bool  # True when this call built it, False when it was already there


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a pip requirements file, without comments and blank lines."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def wheelhouse() -> Path:
    """Where course wheels are cached on this host (BOOTCAMP_CACHE, else ~/.cache/bootcamp)."""
    root = Path(os.environ.get("BOOTCAMP_CACHE") or Path.home() / ".cache" / "bootcamp")
    return root / "wheelhouse" / "courses"


def _docker(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    if shutil.which("docker") is None:
        raise UserError("the docker command is missing: install Docker to build a course image")
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, **kwargs)


def _image_id(tag: str) -> str | None:
    found = _docker("image", "inspect", "-f", "{{.Id}}", tag, check=False)
    return found.stdout.strip() if found.returncode == 0 else None


def _pinned_libraries(base: str) -> str:
    """`pip freeze` of the base image: the versions a course package must not replace."""
    frozen = _docker(
        "run", "--rm", "--network", "none", "--entrypoint", "/opt/venv/bin/pip", base, "freeze", check=False
    )
    if frozen.returncode != 0:
        raise UserError(f"could not list the libraries in {base}: {frozen.stderr.strip()[-300:]}")
    return "\n".join(line for line in frozen.stdout.splitlines() if "==" in line) + "\n"


def _pip_download(
    requirements: Path, constraints: Path, dest: Path, *extra: str
) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
        "--python-version", IMAGE_PYTHON, "--implementation", "cp",
        "-d", str(dest), "-r", str(requirements), "-c", str(constraints), *extra,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True)


def _collect_wheels(requirements: Path, constraints: Path, dest: Path) -> None:
    """Wheels for the requirements into `dest`: from the host cache alone when it has them all (no
    network, seconds), else downloaded into the cache first."""
    cache = wheelhouse()
    cache.mkdir(parents=True, exist_ok=True)
    dest.mkdir(parents=True, exist_ok=True)
    if (
        _pip_download(requirements, constraints, dest, "--no-index", "--find-links", str(cache)).returncode
        == 0
    ):
        return
    done = _pip_download(requirements, constraints, cache)
    if done.returncode == 0:
        done = _pip_download(requirements, constraints, dest, "--no-index", "--find-links", str(cache))
    if done.returncode != 0:
        errors = [
            line for line in done.stderr.splitlines() if line.startswith("ERROR")
        ] or done.stderr.splitlines()
        detail = errors[-1] if errors else f"pip exited with {done.returncode}"
        raise UserError(
            f"a package in {requirements} cannot be installed in the grading image (Python {IMAGE_PYTHON}, "
            f"wheels only, our pinned numpy/pandas/... kept): {detail}. Fix the line or pick a version "
            "with a wheel; nothing was graded."
        )


def course_image(course_root: Path, base: str = "bootcamp-grader:latest") -> CourseImage | None:
    """The image to grade this course in, built when missing; None when the course needs no extras."""
    requirements = course_root / REQUIREMENTS_FILE
    if not requirements.is_file():
        return None
    lines = tuple(requirement_lines(requirements))
    if not lines:
        return None
    base_id = _image_id(base)
    if base_id is None:
        raise UserError(f"the grading image {base} is missing: build it with scripts/build_images")
    digest = hashlib.sha256("\n".join([RECIPE_VERSION, base_id, *lines]).encode()).hexdigest()[:16]
    tag = f"bootcamp-course-{digest}:latest"
    if _image_id(tag) is not None:
        return CourseImage(tag, base, lines, built=False)
    log.warning("building the course image %s from %s with: %s", tag, base, ", ".join(lines))
    with tempfile.TemporaryDirectory(prefix="bootcamp-course-image-") as folder:
        context = Path(folder)
        (context / "requirements.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (context / "constraints.txt").write_text(_pinned_libraries(base), encoding="utf-8")
        (context / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
        _collect_wheels(context / "requirements.txt", context / "constraints.txt", context / "wheels")
        built = _docker("build", "-q", "--build-arg", f"BASE={base}", "-t", tag, str(context), check=False)
        if built.returncode != 0:
            raise UserError(f"building {tag} failed: {built.stderr.strip()[-500:]}")
    return CourseImage(tag, base, lines, built=True)
