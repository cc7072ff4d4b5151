"""Grading on many hosts: a PostgreSQL job queue (procrastinate) between nbgrader and the sandboxes.

The cut is the sandbox interface. nbgrader's host-side steps (sanitize, score, record in the gradebook)
stay where `bootcamp autograde` or the hub's grading service runs; only `Sandbox.run(job)` travels:
    remote.QueueSandbox   enqueues the job and waits for its result (it *is* a Sandbox);
    worker                `bootcamp grading-worker` on each grading host runs jobs in that host's Docker;
    store                 the tables beside procrastinate's: file archives, results, failures;
    archive               the job's data files as one content-hashed archive, cached on each host.
See docs/scale-out.md.
"""
