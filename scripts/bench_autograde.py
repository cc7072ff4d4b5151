"""Times stock `nbgrader autograde` against sandboxed `bootcamp autograde` on the same 16 submissions.

Both run on the same machine in one session, alternating, each on its own copy of one course built with
stock nbgrader. Prints each run, the medians and the ratio bootcamp / stock (below 1.0: faster).
"""

from __future__ import annotations

import argparse
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None, help="bootcamp --jobs (default: cores)")
    parser.add_argument("--sandbox", choices=["docker", "local"], default="docker")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        template = build_course(Path(tmp) / "template", args.submissions)
        stock_times, bootcamp_times = [], []
        for round_number in range(1, args.rounds + 1):
            stock_course = Path(tmp) / f"stock{round_number}"
            ours_course = Path(tmp) / f"ours{round_number}"
            shutil.copytree(template, stock_course)
            shutil.copytree(template, ours_course)
            stock = timed([str(BIN / "nbgrader"), "autograde", demo_course.ASSIGNMENT, "--force"], stock_course)
            ours_command = [str(BIN / "bootcamp"), "autograde", demo_course.ASSIGNMENT, "--force", "--json",
                            "--sandbox", args.sandbox, "--course-dir", str(ours_course)]
            if args.jobs:
                ours_command += ["--jobs", str(args.jobs)]
            ours = timed(ours_command, ours_course)
            stock_times.append(stock)
            bootcamp_times.append(ours)
            print(f"round {round_number}: stock nbgrader {stock:6.1f} s   bootcamp ({args.sandbox}) {ours:6.1f} s")
        stock_median = statistics.median(stock_times)
        ours_median = statistics.median(bootcamp_times)
        print(f"\n{args.submissions} submissions, {args.rounds} rounds, median wall time:")
        print(f"  stock nbgrader autograde (serial, unsandboxed): {stock_median:6.1f} s")
        print(f"  bootcamp autograde ({args.sandbox} sandbox):          {ours_median:6.1f} s")
        print(f"  ratio bootcamp / stock: {ours_median / stock_median:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
