"""The hub-managed services and their least-privilege RBAC roles, as JupyterHub configuration values.

Each entry is plain data that jupyterhub_config.py hands to `c.JupyterHub.services` / `load_roles`.
No service gets the admin flag; each role lists only the scopes that service needs.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from graders.hub.names import INSTRUCTOR_GROUP, TRAINEE_GROUP, free_port
from graders.hub.secrets import MANAGER_TOKEN, secret
from graders.hub.settings import HubSettings

MANAGER = "bootcamp-manager"
GRADER = "grader"
PAGES = "cohort"
EXCHANGE = "exchange"
CULLER = "idle-culler"


def formgrader_name(cohort: str) -> str:
    return f"formgrader-{cohort}"


@dataclass
class HubServices:
    """What jupyterhub_config.py needs: services, roles and the groups they refer to."""

    services: list[dict]
    roles: list[dict]
    groups: dict[str, dict]


def _service_env(settings: HubSettings) -> dict[str, str]:
    # Services start with an almost empty environment; pass on where things are and our overrides.
    env = {k: v for k, v in os.environ.items() if k.startswith("BOOTCAMP_")}
    env.update({"BOOTCAMP_HOME": str(settings.home), "PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    for key in ("DOCKER_HOST", "HOME", "LANG"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def manager_service(settings: HubSettings) -> tuple[dict, dict]:
    """The `bootcamp` command's own identity: creates hub users and groups, starts and stops servers."""
    service = {"name": MANAGER, "api_token": secret(settings, MANAGER_TOKEN), "display": False}
    role = {
        "name": MANAGER,
        "description": "bootcamp CLI: hub users, cohort groups, trainee servers",
        "scopes": ["admin:users", "admin:groups", "admin:servers", "tokens", "list:services"],
        "services": [MANAGER],
    }
    return service, role


def grader_service(settings: HubSettings) -> tuple[dict, dict]:
    """Grade on submit: watches the exchange on disk; it needs no hub API scope at all."""
    service = {
        "name": GRADER,
        "command": [sys.executable, "-m", "graders.hub.grading_service"],
        "environment": _service_env(settings),
        "display": False,
    }
    role = {
        "name": GRADER,
        "description": "grading service: no hub permissions",
        "scopes": [],
        "services": [GRADER],
    }
    return service, role


def pages_service(settings: HubSettings) -> tuple[dict, list[dict]]:
    """The cohort pages (graders.hub.pages): every signed-in user may open them, the page itself decides
    what each person sees from the programme's records (own cohort; dashboards for its instructors)."""
    service = {
        "name": PAGES,
        "display": True,  # listed on the hub's home page
        "url": f"http://127.0.0.1:{free_port()}",
        "command": [sys.executable, "-m", "graders.hub.pages"],
        "environment": _service_env(settings),
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": [f"access:services!service={PAGES}"],
    }
    roles = [
        {
            # JupyterHub's default role for every user, plus opening the cohort pages
            "name": "user",
            "description": "every user: their own server, and the cohort pages",
            "scopes": ["self", f"access:services!service={PAGES}"],
        },
        {"name": PAGES, "description": "cohort pages: no hub permissions", "scopes": [], "services": [PAGES]},
    ]
    return service, roles


def exchange_service(settings: HubSettings) -> tuple[dict, dict]:
    """The exchange without a shared disk (graders.hub.exchange_service), for exchange = "service": trainee
    servers reach it with their own token; it acts on the exchange folders on this host, not on the hub."""
    service = {
        "name": EXCHANGE,
        "display": False,
        "url": f"http://127.0.0.1:{free_port()}",
        "command": [sys.executable, "-m", "graders.hub.exchange_service"],
        "environment": _service_env(settings),
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": [f"access:services!service={EXCHANGE}"],
    }
    role = {"name": EXCHANGE, "description": "exchange service: no hub permissions", "scopes": [],
            "services": [EXCHANGE]}  # fmt: skip
    return service, role


def culler_service(settings: HubSettings) -> tuple[dict, dict] | None:
    """jupyterhub-idle-culler stops servers idle for `cull_idle_s` (their home volume stays)."""
    if settings.cull_idle_s <= 0:
        return None
    service = {
        "name": CULLER,
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={settings.cull_idle_s}"],
        "display": False,
    }
    role = {
        "name": CULLER,
        "description": "stop idle servers",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": [CULLER],
    }
    return service, role


def formgrader_service(
    settings: HubSettings, cohort: str, course_dir: Path, config_dir: Path
) -> tuple[dict, list[dict]]:
    """A cohort's formgrader: nbgrader's instructor UI over that cohort's course, for its instructors only."""
    name = formgrader_name(cohort)
    env = _service_env(settings)
    env.update({"JUPYTERHUB_DEFAULT_URL": "/formgrader", "JUPYTER_CONFIG_PATH": str(config_dir)})
    service = {
        "name": name,
        "display": True,
        "url": f"http://127.0.0.1:{free_port()}",
        "command": [sys.executable, "-m", "jupyterhub.singleuser", f"--ServerApp.root_dir={course_dir}"]
        # On our one-machine setup the hub runs as root; the course files are the hub's own.
        + (["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []),
        "cwd": str(course_dir),
        "environment": env,
        "oauth_no_confirm": True,
        "oauth_client_allowed_scopes": [f"access:services!service={name}"],
    }
    roles = [
        {
            # Instructors of the cohort may open its formgrader; nobody else may.
            "name": f"{INSTRUCTOR_GROUP}{cohort}",
            "description": f"open the formgrader of cohort {cohort}",
            "scopes": [f"access:services!service={name}"],
            "groups": [f"{INSTRUCTOR_GROUP}{cohort}"],
        },
        {
            # The service itself only needs to know who is in its cohort, not the whole hub.
            "name": f"{name}-service",
            "description": f"formgrader of {cohort}: read its trainees' names and groups",
            "scopes": [
                f"read:users:name!group={TRAINEE_GROUP}{cohort}",
                f"read:groups!group={TRAINEE_GROUP}{cohort}",
            ],
            "services": [name],
        },
    ]
    return service, roles


def write_instructor_nbgrader_config(settings: HubSettings) -> Path:
    """nbgrader settings for host-side instructor tools (formgrader, release): where the exchange is."""
    folder = settings.state / "nbgrader"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nbgrader_config.py").write_text(
        "# Written by graders.hub: instructor tools on the host use the hub's exchange.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.Exchange.root = {str(settings.exchange_root)!r}\n",
        encoding="utf-8",
    )
    return folder


def hub_services(settings: HubSettings, cohorts: list[tuple[str, Path]]) -> HubServices:
    """All services, roles and cohort groups for the cohorts (name, course dir) that exist now."""
    services: list[dict] = []
    roles: list[dict] = []
    groups: dict[str, dict] = {}
    for pair in (manager_service(settings), grader_service(settings), culler_service(settings)):
        if pair:
            services.append(pair[0])
            roles.append(pair[1])
    pages, pages_roles = pages_service(settings)
    services.append(pages)
    roles.extend(pages_roles)
    if settings.exchange == "service":
        exchange, exchange_role = exchange_service(settings)
        services.append(exchange)
        roles.append(exchange_role)
        user_role = next(role for role in roles if role["name"] == "user")
        user_role["scopes"].append(f"access:services!service={EXCHANGE}")  # each acts only as themselves
    elif settings.exchange != "filesystem":
        raise ValueError(f"hub setting exchange = {settings.exchange!r}: use 'filesystem' or 'service'")
    config_dir = write_instructor_nbgrader_config(settings)
    for cohort, course_dir in cohorts:
        groups[f"{TRAINEE_GROUP}{cohort}"] = {"users": []}
        groups[f"{INSTRUCTOR_GROUP}{cohort}"] = {"users": []}
        service, cohort_roles = formgrader_service(settings, cohort, course_dir, config_dir)
        services.append(service)
        roles.extend(cohort_roles)
    return HubServices(services=services, roles=roles, groups=groups)
