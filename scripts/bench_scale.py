"""Grading through the PostgreSQL queue with 1, 2 and 3 workers: throughput and queue latency.

One course with N submissions (right, partly right, wrong answers in turn) is graded with
`bootcamp autograde --queue` once per worker count, each time on a fresh queue database, and once with
stock `nbgrader autograde` on the same machine for reference. Queue latency is procrastinate's own
record: from a job's `deferred` event to its `started` event. Prints one table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

# the same course of right, partly right and wrong submissions as the autograde benchmark
from bench_autograde import BIN, build_course  # a sibling script: scripts/ is on sys.path

from graders.gradingqueue import store
from graders.gradingqueue.dev_postgres import DevPostgres


def run_queue(
    course: Path, server: DevPostgres, workers: int, concurrency: int, hosts: list[str | None]
) -> dict:
    name = f"bench_{workers}w_{int(time.time())}"
    url = server.create_database(name)
    store.ensure_schema(url)
    processes = []
    for index in range(workers):
        env = dict(os.environ)
        host = hosts[index % len(hosts)]
        if host:
            env["DOCKER_HOST"] = host
        processes.append(
            subprocess.Popen(
                [str(BIN / "bootcamp"), "grading-worker", "--queue", url, "--concurrency", str(concurrency),
                 "--name", f"w{index}"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            )
        )  # fmt: skip
    time.sleep(3)  # workers connect and warm their pools before the clock starts
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "bootcamp"), "autograde", "ps1", "--force", "--course-dir", str(course), "--queue", url,
         "--json"],
        capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"bootcamp autograde --queue failed:\n{done.stderr[-3000:]}")
    with psycopg.connect(url) as conn:
        latencies = [
            row[0]
            for row in conn.execute(
                "SELECT extract(epoch FROM s.at - d.at) FROM procrastinate_events d "
                "JOIN procrastinate_events s ON s.job_id = d.job_id AND s.type = 'started' "
                "WHERE d.type = 'deferred'"
            ).fetchall()
        ]
        graded = conn.execute("SELECT count(*) FROM bootcamp_grading_results").fetchone()[0]
    latencies = sorted(float(x) for x in latencies)
    return {
        "seconds": elapsed,
        "graded": graded,
        "latency_median": statistics.median(latencies),
        "latency_p95": latencies[int(0.95 * (len(latencies) - 1))],
    }


def run_stock(course: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "nbgrader"), "autograde", "ps1", "--force"], cwd=course, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"nbgrader autograde failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--workers", default="1,2,3", help="worker counts to measure")
    parser.add_argument("--concurrency", type=int, default=1, help="jobs at once per worker")
    parser.add_argument(
        "--second-docker-host",
        default=os.environ.get("BOOTCAMP_BENCH_SECOND_DOCKER_HOST", ""),
        help="DOCKER_HOST of a second daemon: every other worker runs there (default: all on this daemon)",
    )
    parser.add_argument("--no-stock", action="store_true", help="skip the stock nbgrader reference run")
    args = parser.parse_args()
    counts = [int(x) for x in args.workers.split(",")]
    hosts: list[str | None] = [None, args.second_docker_host] if args.second_docker_host else [None]
    scratch = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    server = DevPostgres.start()
    try:
        print(f"building a course with {args.submissions} submissions ...", flush=True)
        course = build_course(scratch / "course", args.submissions)
        rows = []
        for workers in counts:
            print(f"grading with {workers} worker(s) ...", flush=True)
            rows.append((workers, run_queue(course, server, workers, args.concurrency, hosts)))
        stock = None if args.no_stock else run_stock(course)
    finally:
        server.remove()
        shutil.rmtree(scratch, ignore_errors=True)
    base = rows[0][1]["seconds"]
    print()
    print(f"{args.submissions} submissions, {os.cpu_count()} cores, worker concurrency {args.concurrency}")
    print(
        f"{'workers':>7} {'graded':>6} {'seconds':>8} {'subs/min':>9} {'speed-up':>9} {'queue latency median':>21} {'p95':>7}"
    )
    for workers, row in rows:
        print(
            f"{workers:>7} {row['graded']:>6} {row['seconds']:>8.1f} {60 * args.submissions / row['seconds']:>9.1f} "
            f"{base / row['seconds']:>8.2f}x {row['latency_median']:>20.1f}s {row['latency_p95']:>6.1f}s"
        )
    if stock is not None:
        print(f"{'stock nbgrader autograde (one process, no sandbox)':<44} {stock:>8.1f} s, "
              f"{60 * args.submissions / stock:.1f} subs/min; best queue run / stock = "
              f"{min(r['seconds'] for _, r in rows) / stock:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
