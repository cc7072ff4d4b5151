"""Runs every lesson notebook top to bottom in the trainee image, as a trainee's server would.

A lesson is read, not graded, so the checks are plain: it is stored without outputs (trainees see the
outputs their own run makes, never stale ones), it carries no nbgrader metadata, and it runs to the end
with its practice exercises still blank, within a time budget, with no network. Each lesson runs in a
fresh container of the trainee image so the libraries are the ones trainees have.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

from graders.curriculum.model import Catalogue
from graders.sandbox.job import thread_env

TRAINEE_IMAGE = "bootcamp-trainee:latest"
LESSON_BUDGET_S = 150.0  # per lesson, on 2 shared CPU cores
MEMORY = "2g"


@dataclass
class LessonResult:
    module: str
    lesson: str
    ok: bool
    seconds: float
    reason: str = ""


def stored_problems(path: Path) -> list[str]:
    """What is wrong with the lesson file itself, before running it."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises several types for broken JSON and schema errors
        return [f"not a readable notebook: {error}"]
    problems = []
    with_outputs = [n for n, cell in enumerate(notebook.cells, 1) if cell.get("outputs")]
    if with_outputs:
        problems.append(
            f"cells {with_outputs[:5]} have stored outputs (clear them: outputs come from the trainee's run)"
        )
    if any("nbgrader" in cell.get("metadata", {}) for cell in notebook.cells):
        problems.append("has nbgrader metadata (lessons are not graded; move graded work to an assignment)")
    return problems


def run_lesson(module_dir: Path, lesson: Path, image: str = TRAINEE_IMAGE) -> LessonResult:
    """Executes one lesson in a throwaway container: module folder read-only, a writable copy inside."""
    relative = lesson.relative_to(module_dir)
    problems = stored_problems(lesson)
    if problems:
        return LessonResult(module_dir.name, relative.as_posix(), False, 0.0, "; ".join(problems))
    if shutil.which("docker") is None:
        return LessonResult(module_dir.name, relative.as_posix(), False, 0.0, "the docker command is missing")
    script = (
        "cp -r /mnt/module /tmp/module && cd /tmp/module/lessons && "
        f"jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout={int(LESSON_BUDGET_S)} "
        f"--output /tmp/executed.ipynb '{lesson.name}' >/tmp/log 2>&1 || {{ tail -n 25 /tmp/log; exit 1; }}"
    )
    name = f"bootcamp-lesson-{uuid.uuid4().hex[:12]}"  # named, so a lesson past its budget can be removed
    # lessons run side by side (--jobs): one math thread each, as in a sandbox with one CPU
    threads = [flag for key, value in thread_env(1).items() for flag in ("-e", f"{key}={value}")]
    command = [
        "docker", "run", "--rm", "--name", name, "--network", "none", "--memory", MEMORY, "--pids-limit", "256",
        *threads, "-v", f"{module_dir.resolve()}:/mnt/module:ro", "--entrypoint", "/bin/sh", image, "-c", script,
    ]  # fmt: skip
    started = time.monotonic()
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=LESSON_BUDGET_S + 60)
    except subprocess.TimeoutExpired:
        # killing the docker client leaves the container running: remove it too
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        return LessonResult(
            module_dir.name, relative.as_posix(), False, time.monotonic() - started,
            f"did not finish within {LESSON_BUDGET_S:g} s",
        )  # fmt: skip
    seconds = time.monotonic() - started
    if finished.returncode != 0:
        text = (finished.stdout + finished.stderr).strip().splitlines()
        errors = [line for line in text if "Error" in line or "error" in line] or text
        reason = errors[-1] if errors else f"exit code {finished.returncode}"
        return LessonResult(module_dir.name, relative.as_posix(), False, seconds, reason[:400])
    return LessonResult(module_dir.name, relative.as_posix(), True, seconds)


def run_lessons(
    catalogue: Catalogue, slugs: list[str], jobs: int = 2, image: str = TRAINEE_IMAGE
) -> list[LessonResult]:
    """Every lesson of the given modules, `jobs` at a time, in catalogue order."""
    work = [
        (catalogue.modules[slug].path, lesson)
        for slug in slugs
        for lesson in sorted((catalogue.modules[slug].path / "lessons").glob("*.ipynb"))
    ]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda item: run_lesson(item[0], item[1], image), work))
