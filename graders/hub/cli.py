"""Command-line entry points of graders.hub: `bootcamp hub up|down|status|sync` and `bootcamp release`."""

from __future__ import annotations

import argparse
import secrets
import tomllib

from graders.errors import UserError
from graders.hub.settings import HubSettings
from graders.settings import Settings

DEMO_LOGINS = "demo-logins.toml"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds this part's subcommands to `bootcamp`, and the hub's part of forgetting a trainee."""
    from graders.hub.privacy import forget_trainee_on_hub
    from graders.programme.privacy import register_forgetter

    register_forgetter(forget_trainee_on_hub)
    hub = subparsers.add_parser("hub", help="run the JupyterHub for trainees (proxy, hub, grading service)")
    sub = hub.add_subparsers(dest="hub_command", metavar="ACTION")
    up = sub.add_parser("up", help="start the proxy and the hub in the background (idempotent)")
    up.add_argument("--no-demo", action="store_true", help="do not create the demo log-ins")
    up.set_defaults(func=_up)
    sub.add_parser("down", help="stop the hub, its trainee servers and the proxy").set_defaults(func=_down)
    sub.add_parser("status", help="show whether the hub and proxy run").set_defaults(func=_status)
    sync = sub.add_parser(
        "sync",
        help="create hub users and groups for a cohort's trainees and instructors, and record their hub "
        "activity for `bootcamp report progress` (run it daily, e.g. from cron)",
    )
    sync.add_argument("--cohort", action="append", help="cohort name (repeatable; default: every cohort)")
    sync.set_defaults(func=_sync)
    hub.set_defaults(func=lambda args: hub.print_help() or 2)

    release = subparsers.add_parser(
        "release", help="release a module (its lessons, data and assignments) or one assignment to a cohort"
    )
    release.add_argument(
        "assignment", metavar="NAME", help="a module (e.g. numpy) or an assignment (e.g. numpy-arrays)"
    )
    release.add_argument("--cohort", required=True, help="cohort name")
    release.set_defaults(func=_release)


def _up(args: argparse.Namespace) -> int:
    from graders.hub import launcher

    hub = HubSettings.load()
    started = launcher.up(hub)
    print(("started" if started else "already running") + f": {hub.public_url}/hub/")
    if hub.authenticator == "native" and not args.no_demo:
        for user, password in demo_logins(hub).items():
            print(f"  log in as {user!r} with password {password!r}")
        print(
            f"  (passwords kept in {hub.secrets_dir / DEMO_LOGINS}; trainees sign up at {hub.public_url}/hub/signup)"
        )
    print(f"logs: {hub.logs_dir}; stop with `bootcamp hub down`")
    return 0


def demo_logins(hub: HubSettings) -> dict[str, str]:
    """An admin and a demo trainee with known passwords, created once through NativeAuthenticator's forms."""
    from graders.hub.accounts import ensure_login

    path = hub.secrets_dir / DEMO_LOGINS
    if path.exists():
        logins = {k: str(v) for k, v in tomllib.loads(path.read_text()).items()}
    else:
        logins = {hub.admin_users[0]: secrets.token_urlsafe(9), "demo-trainee": secrets.token_urlsafe(9)}
        path.touch(mode=0o600)
        path.write_text("".join(f'"{k}" = "{v}"\n' for k, v in logins.items()))
    admin = (hub.admin_users[0], logins[hub.admin_users[0]])
    for user, password in logins.items():
        ensure_login(hub.public_url, admin, user, password)
    return logins


def _down(args: argparse.Namespace) -> int:
    from graders.hub import launcher

    stopped = launcher.down(HubSettings.load())
    print("stopped: " + ", ".join(stopped) if stopped else "nothing was running")
    return 0


def _status(args: argparse.Namespace) -> int:
    from graders.hub import launcher

    hub = HubSettings.load()
    for name, pid in launcher.status(hub).items():
        print(f"{name}: " + (f"running (pid {pid})" if pid else "stopped"))
    print(f"url: {hub.public_url}/hub/")
    _print_grading_state(hub)
    return 0


def _print_grading_state(hub: HubSettings) -> None:
    """Submissions by state, the ones grading gave up on, and, with a grading queue, its workers."""
    from collections import Counter

    from graders.hub.queue import SubmissionQueue

    if not hub.grading_db.exists():
        return
    submissions = SubmissionQueue(hub.grading_db).all()
    counts = Counter(sub.status for sub in submissions)
    print("submissions: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none yet"))
    for sub in submissions:
        if sub.status == "error":  # grading itself failed after every retry: an instructor must look
            print(f"  grading failed: {sub.id}: {sub.message[:300]}")
    if hub.queue_url:
        from graders.gradingqueue.inspect import queue_status

        state = queue_status(hub.queue_url, limit=10)
        print(
            f"grading queue: {state.live_workers} live worker(s); jobs "
            + ", ".join(f"{k} {v}" for k, v in state.counts.items())
        )
        for letter in state.dead_letters:
            print(
                f"  dead letter {letter.job_id} ({letter.label}, {letter.deliveries} deliveries): {letter.error[:300]}"
            )


def _sync(args: argparse.Namespace) -> int:
    import time

    from graders.hub import launcher
    from graders.hub.api import HubClient
    from graders.hub.cohorts import CohortOnHub, formgrader_missing, record_activity, sync_cohort
    from graders.programme.cohorts import list_cohorts

    settings, hub = Settings.load(), HubSettings.load()
    names = args.cohort or [c.name for c in list_cohorts(settings)]
    if not names:
        raise UserError("no cohorts yet: create one with `bootcamp cohort create`")
    client = HubClient.from_settings(hub)
    missing = []
    for name in names:
        cohort = CohortOnHub.from_programme(settings, name)
        sync_cohort(client, hub, cohort)
        activity = record_activity(client, settings, cohort)
        print(f"{name}: {len(cohort.trainees)} trainees, {len(cohort.instructors)} instructors on the hub")
        print(f"  hub activity for the progress report: {activity}")
        if formgrader_missing(client, name):
            missing.append(name)
    if missing:
        # JupyterHub takes managed services and roles from its configuration only: the hub process
        # restarts to read it again; trainee servers and the proxy keep running.
        started = time.monotonic()
        launcher.restart_hub(hub)
        still = [name for name in missing if formgrader_missing(client, name)]
        if still:
            raise UserError(
                f"the hub restarted but has no formgrader for {', '.join(still)}: see {hub.logs_dir}"
            )
        print(
            f"restarted the hub in {time.monotonic() - started:.1f} s for the formgrader of {', '.join(missing)}"
            " (trainee servers kept running)"
        )
    return 0


def _release(args: argparse.Namespace) -> int:
    import logging

    from graders.hub.release import is_module, release, release_module

    if not args.verbose:
        logging.getLogger("traitlets").setLevel(logging.WARNING)  # nbgrader narrates every copied file

    settings, hub = Settings.load(), HubSettings.load()
    if is_module(hub, args.assignment):
        module = release_module(settings, hub, args.assignment, args.cohort)
        print(f"released module {module.module} to cohort {module.cohort}:")
        print(f"  {len(module.lessons)} lessons (each trainee finds them in ~/lessons/{module.module}/)")
        for done in module.assignments:
            print(f"  assignment {done.assignment}: {', '.join(done.notebooks)}")
        return 0
    done = release(settings, hub, args.assignment, args.cohort)
    print(f"released {done.assignment} to cohort {done.cohort}: {', '.join(done.notebooks)}")
    return 0
