"""Times stock `nbgrader autograde` against sandboxed `bootcamp autograde` on the same 16 submissions.

Both run on the same machine in one session, alternating, each on its own copy of one course built with
stock nbgrader. Prints each run, the medians and the ratio bootcamp / stock (below 1.0: faster).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from graders import demo_course

BIN = Path(sys.executable).parent


def build_course(root: Path, submissions: int) -> Path:
    course = demo_course.create_course(root)
    kinds = ["right", "partial", "wrong"]
    for index in range(submissions):
        demo_course.submit(course, f"trainee{index:02d}", demo_course.ANSWERS[kinds[index % len(kinds)]])
    return course


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed


def _engine_for(sandboxes: list[str]) -> None:
    """gVisor needs an engine that knows runsc; when this one does not, every sandbox of the run (docker
    too, for a fair comparison) goes to the second daemon the tests use (tests/second_host.py)."""
    if "gvisor" not in sandboxes:
        return
    import docker

    if "runsc" in (docker.from_env().info().get("Runtimes") or {}):
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from second_host import second_docker_host

    os.environ["DOCKER_HOST"] = second_docker_host()
    print(f"gVisor: grading on the second Docker daemon {os.environ['DOCKER_HOST']} (runsc registered there)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None, help="bootcamp --jobs (default: cores)")
    parser.add_argument(
        "--sandbox", default="docker", help="sandbox backends to time, comma-separated: docker,gvisor,local"
    )
    args = parser.parse_args()
    sandboxes = args.sandbox.split(",")
    _engine_for(sandboxes)

    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        template = build_course(Path(tmp) / "template", args.submissions)
        stock_times: list[float] = []
        ours_times: dict[str, list[float]] = {name: [] for name in sandboxes}
        for round_number in range(1, args.rounds + 1):
            stock_course = Path(tmp) / f"stock{round_number}"
            shutil.copytree(template, stock_course)
            stock = timed(
                [str(BIN / "nbgrader"), "autograde", demo_course.ASSIGNMENT, "--force"], stock_course
            )
            stock_times.append(stock)
            line = f"round {round_number}: stock nbgrader {stock:6.1f} s"
            for name in sandboxes:
                ours_course = Path(tmp) / f"{name}{round_number}"
                shutil.copytree(template, ours_course)
                command = [str(BIN / "bootcamp"), "autograde", demo_course.ASSIGNMENT, "--force", "--json",
                           "--sandbox", name, "--course-dir", str(ours_course)]  # fmt: skip
                if args.jobs:
                    command += ["--jobs", str(args.jobs)]
                ours_times[name].append(timed(command, ours_course))
                line += f"   bootcamp ({name}) {ours_times[name][-1]:6.1f} s"
            print(line, flush=True)
        stock_median = statistics.median(stock_times)
        print(f"\n{args.submissions} submissions, {args.rounds} rounds, median wall time:")
        print(f"  stock nbgrader autograde (serial, unsandboxed): {stock_median:6.1f} s")
        medians = {name: statistics.median(times) for name, times in ours_times.items()}
        for name, median in medians.items():
            print(f"  bootcamp autograde ({name} sandbox): {median:6.1f} s   ratio bootcamp / stock: "
                  f"{median / stock_median:.2f}")  # fmt: skip
        if "docker" in medians and "gvisor" in medians:
            print(f"  gVisor's cost: gvisor / docker = {medians['gvisor'] / medians['docker']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
