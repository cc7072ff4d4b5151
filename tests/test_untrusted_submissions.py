"""Submission folders hold whatever a trainee (or a careless copy) put there: links, devices, pipes, swaps.

Nothing outside the submission may be read through them, during grading or into the feedback, and a
folder swapped for a link while it is copied must not take the copy elsewhere.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import TEST_SANDBOX
from nbgrader.api import Gradebook

from graders import demo_course
from graders.autograde import AutogradeOptions, autograde
from graders.programme.feedback import generate_course_feedback
from graders.untrusted import UntrustedCopyError, copy_untrusted_tree

BOOTCAMP = str(Path(sys.executable).parent / "bootcamp")


def _tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def test_links_devices_and_pipes_are_refused_with_reasons(tmp_path):
    secret = tmp_path / "gradebook.db"
    secret.write_text("grades of everyone")
    src = tmp_path / "submission"
    (src / "sub").mkdir(parents=True)
    (src / "answers.ipynb").write_text("{}")
    (src / "sub" / "data.csv").write_text("1,2\n")
    (src / "steal.csv").symlink_to(secret)
    (src / "zero").symlink_to("/dev/zero")
    (src / "linked-folder").symlink_to(tmp_path)
    os.mkfifo(src / "pipe")
    report = copy_untrusted_tree(src, tmp_path / "out")
    assert _tree(tmp_path / "out") == ["answers.ipynb", "sub", "sub/data.csv"]
    reasons = "\n".join(report.refused)
    assert "steal.csv: a symbolic link" in reasons and "zero: a symbolic link" in reasons
    assert "linked-folder: a symbolic link" in reasons and "pipe: a named pipe" in reasons
    assert report.files == 2


def test_size_and_count_caps_hold_while_copying(tmp_path):
    src = tmp_path / "submission"
    src.mkdir()
    (src / "big.bin").write_bytes(b"x" * 5000)
    (src / "small.txt").write_text("ok")
    report = copy_untrusted_tree(src, tmp_path / "out1", max_file_bytes=1000)
    assert _tree(tmp_path / "out1") == ["small.txt"] and "big.bin" in report.refused[0]
    with pytest.raises(UntrustedCopyError, match="larger"):
        copy_untrusted_tree(src, tmp_path / "out2", max_total_bytes=1000)
    with pytest.raises(UntrustedCopyError, match="more than 1 files"):
        copy_untrusted_tree(src, tmp_path / "out3", max_files=1)


def test_a_folder_swapped_for_a_link_while_copying_never_copies_what_it_points_to(tmp_path):
    """A thread flips sub/ between a real folder and a link to the instructor's files every few ms."""
    instructor = tmp_path / "source"
    instructor.mkdir()
    (instructor / "solution.ipynb").write_text("THE SOLUTION")
    src = tmp_path / "submission"
    src.mkdir()
    (src / "a.txt").write_text("mine")
    stop = threading.Event()

    def flip() -> None:
        real, link = src / "sub", src / "sub-link"
        while not stop.is_set():
            try:
                real.mkdir(exist_ok=True)
                (real / "solution.ipynb").write_text("harmless")
                shutil.rmtree(real)
                link.symlink_to(instructor, target_is_directory=True)
                os.replace(link, real)
                time.sleep(0.003)
                real.unlink()
            except OSError:
                pass

    flipper = threading.Thread(target=flip, daemon=True)
    flipper.start()
    try:
        for attempt in range(100):
            out = tmp_path / f"out{attempt}"
            copy_untrusted_tree(src, out)
            for path in out.rglob("*"):
                if path.is_file():
                    assert path.read_text() != "THE SOLUTION", f"copy {attempt} followed the link"
    finally:
        stop.set()
        flipper.join()


@pytest.mark.docker
def test_symlinked_notebooks_and_data_are_not_graded_or_shown(course, docker_client, tmp_path):
    """A submission whose notebook links to the instructor's source scores nothing, and files that
    link to the gradebook or /etc/hostname reach neither the sandbox nor the feedback."""
    folder = course / "submitted" / "linker" / demo_course.ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{demo_course.NOTEBOOK}.ipynb").symlink_to(
        course / "source" / demo_course.ASSIGNMENT / f"{demo_course.NOTEBOOK}.ipynb"
    )
    secret = tmp_path / "instructor-only.txt"
    secret.write_text("INSTRUCTOR-ONLY-3f7a9c")
    (folder / "data.csv").symlink_to(course / "gradebook.db")
    (folder / "hostname.txt").symlink_to("/etc/hostname")
    honest = demo_course.submit(course, "honest", demo_course.ANSWERS["right"]).parent
    (honest / "notes.txt").symlink_to(secret)
    report = autograde(course, demo_course.ASSIGNMENT, options=AutogradeOptions(sandbox=TEST_SANDBOX, jobs=2))
    by_student = {r.student: r for r in report.results}
    assert by_student["linker"].status == "failed"
    reasons = " ".join(by_student["linker"].reasons)
    assert "a symbolic link" in reasons and "no notebook" in reasons
    assert by_student["honest"].score == 10.0
    assert any("notes.txt: a symbolic link" in reason for reason in by_student["honest"].reasons)
    generate_course_feedback(course, demo_course.ASSIGNMENT)
    feedback = course / "feedback" / "honest" / demo_course.ASSIGNMENT
    assert sorted(p.name for p in feedback.iterdir()) == [f"{demo_course.NOTEBOOK}.html"]
    assert "INSTRUCTOR-ONLY-3f7a9c" not in (feedback / f"{demo_course.NOTEBOOK}.html").read_text()


@pytest.mark.docker
def test_a_run_killed_mid_grading_regrades_what_was_in_flight(course, docker_client):
    """SIGKILL while submissions are being graded, then the same command again without --force."""
    students = [f"t{i:02d}" for i in range(12)]
    for student in students:
        demo_course.submit(course, student, demo_course.ANSWERS["right"])
    records = course / ".bootcamp" / "autograde" / demo_course.ASSIGNMENT
    command = [
        BOOTCAMP,
        "autograde",
        demo_course.ASSIGNMENT,
        "--course-dir",
        str(course),
        "--jobs",
        "2",
        "--sandbox",
        TEST_SANDBOX,
    ]
    first = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(list(records.glob("*.json"))) < 3:
        time.sleep(0.1)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    in_flight = sorted(p.stem for p in records.glob("*.pending"))
    assert in_flight, "the kill came after the run had finished; nothing was tested"
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s: gb.find_submission(demo_course.ASSIGNMENT, s).score for s in students}
    assert scores == {s: 10.0 for s in students}, (in_flight, scores)
    assert not list(records.glob("*.pending"))
