"""Per-deployment hub settings in one typed place: defaults here, a TOML file, then environment overrides.

Read order (later wins):
1. the defaults below (the embedded one-machine setup: SQLite, local Docker, state under $BOOTCAMP_HOME/hub);
2. the TOML file named by $BOOTCAMP_HUB_CONFIG, else $BOOTCAMP_HOME/hub/hub.toml when it exists
   (hub_config/hub.toml is the documented template: copy it there and edit);
3. one environment variable per field, BOOTCAMP_HUB_<FIELD> in upper case (e.g. BOOTCAMP_HUB_PORT=8000,
   BOOTCAMP_HUB_DB_URL=postgresql://hub:secret@db/hub), which is how tests and containers override.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from graders.errors import UserError
from graders.gradebook_db import sqlalchemy_url
from graders.settings import Settings

ENV_PREFIX = "BOOTCAMP_HUB_"


@dataclass
class HubSettings:
    """Everything a deployment may change about the hub. Field comments are the documentation."""

    # -- where things live -------------------------------------------------------------------------
    home: Path = Path()  # $BOOTCAMP_HOME (cohorts/, programme.db); filled from graders.settings
    state_dir: Path | None = None  # hub state (database, logs, secrets, exchange); default home/hub
    curriculum_dir: Path | None = None  # where `bootcamp release` finds assignments; default repo curriculum/

    # -- network -------------------------------------------------------------------------------------
    ip: str = "127.0.0.1"  # the public (proxy) address; "" or 0.0.0.0 to serve other machines
    port: int = 8000  # the public (proxy) port trainees open in their browser
    hub_port: int = 8081  # the hub's own API port, behind the proxy
    proxy_api_port: int = 8001  # configurable-http-proxy's REST API port
    start_proxy: bool = True  # False when `bootcamp hub up` runs the proxy as its own process

    # -- database --------------------------------------------------------------------------------------
    db_url: str = ""  # "" = SQLite in state_dir; "postgresql://user:pw@host/db" for PostgreSQL (psycopg 3)

    # -- authentication ----------------------------------------------------------------------------
    authenticator: str = "native"  # "native": self sign-up, instructors/admins approve; "oauth": GenericOAuth
    admin_users: list[str] = field(default_factory=lambda: ["admin"])
    oauth_authorize_url: str = ""
    oauth_token_url: str = ""
    oauth_userdata_url: str = ""
    oauth_client_id: str = ""
    oauth_client_secret: str = ""  # prefer setting it through BOOTCAMP_HUB_OAUTH_CLIENT_SECRET
    oauth_callback_url: str = ""  # e.g. https://hub.example.org/hub/oauth_callback
    oauth_username_claim: str = "preferred_username"
    oauth_scopes: list[str] = field(default_factory=lambda: ["openid", "profile", "email"])

    # -- trainee servers (DockerSpawner) -------------------------------------------------------------
    trainee_image: str = "bootcamp-trainee:latest"
    instructor_image: str = "bootcamp-instructor:latest"
    network: str = "bootcamp-hub"  # a user-defined bridge network; "host" keeps all traffic on 127.0.0.1
    hub_connect_ip: str = ""  # how containers reach the hub; "" = worked out from the network
    container_prefix: str = "bootcamp"  # containers are <prefix>-<user>, volumes <prefix>-home-<user>
    container_uid: int = 1000  # the Unix user inside the images (jovyan); owns the trainee's exchange folders
    mem_limit: str = "2G"
    cpu_limit: float = 1.0
    start_timeout_s: int = 120
    cull_idle_s: int = 3600  # stop servers idle this long (jupyterhub-idle-culler); 0 turns the culler off

    # -- grading on submit ------------------------------------------------------------------------------
    poll_interval_s: float = 0.2  # how often the grading service looks for new submissions
    max_submissions: int = 10  # per trainee and assignment; later ones are answered, not graded
    max_submissions_per_assignment: dict[str, int] = field(default_factory=dict)
    max_submission_mb: float = 20.0  # a submission larger than this is refused
    sandbox: str = "docker"  # graders.autograde sandbox: "docker" (default) or "local" (development only)
    # "" = grade in the hub's own sandboxes; a postgresql:// URL = enqueue each submission on that PostgreSQL
    # grading queue, graded by `bootcamp grading-worker` hosts (docs/scale-out.md)
    queue_url: str = ""
    # submissions graded at once; 0 = 1 in the hub's own sandboxes, 16 through a queue
    grading_concurrency: int = 0

    # -- the nbgrader exchange -------------------------------------------------------------------------
    # "filesystem": per-trainee host folders bind-mounted into each container (trainee servers on this host);
    # "service": the exchange service over HTTP (graders/hub/exchange_service.py), no shared disk needed
    exchange: str = "filesystem"

    @property
    def state(self) -> Path:
        return self.state_dir or self.home / "hub"

    @property
    def exchange_root(self) -> Path:
        return self.state / "exchange"

    @property
    def secrets_dir(self) -> Path:
        return self.state / "secrets"

    @property
    def logs_dir(self) -> Path:
        return self.state / "logs"

    @property
    def grading_db(self) -> Path:
        return self.state / "grading.db"

    @property
    def database_url(self) -> str:
        return sqlalchemy_url(self.db_url) if self.db_url else f"sqlite:///{self.state / 'jupyterhub.sqlite'}"

    @property
    def public_url(self) -> str:
        host = self.ip if self.ip not in ("", "0.0.0.0") else "127.0.0.1"  # noqa: S104 - only a display URL
        return f"http://{host}:{self.port}"

    def submission_limit(self, assignment: str) -> int:
        return self.max_submissions_per_assignment.get(assignment, self.max_submissions)

    @property
    def curriculum(self) -> Path:
        from graders.settings import default_curriculum_dir

        return self.curriculum_dir or default_curriculum_dir()

    @classmethod
    def load(cls, environ: typing.Mapping[str, str] | None = None) -> HubSettings:
        environ = os.environ if environ is None else environ
        settings = cls(home=Settings.load().home)
        path = environ.get(ENV_PREFIX + "CONFIG") or environ.get("BOOTCAMP_HUB_CONFIG")
        toml_path = Path(path) if path else settings.state / "hub.toml"
        if toml_path.exists():
            try:
                doc = tomllib.loads(toml_path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as error:
                raise UserError(f"{toml_path} is not valid TOML: {error}")
            settings._apply(doc, str(toml_path))
        elif path:
            raise UserError(f"hub settings file {toml_path} (from BOOTCAMP_HUB_CONFIG) does not exist")
        overrides = {
            f.name: environ[ENV_PREFIX + f.name.upper()]
            for f in dataclasses.fields(cls)
            if ENV_PREFIX + f.name.upper() in environ
        }
        settings._apply(overrides, "the environment")
        return settings

    def _apply(self, values: typing.Mapping[str, object], source: str) -> None:
        hints = typing.get_type_hints(type(self))
        known = {f.name for f in dataclasses.fields(self)}
        for key, raw in values.items():
            if key not in known:
                raise UserError(
                    f"{source}: unknown hub setting {key!r}; the settings are listed in hub_config/hub.toml"
                )
            try:
                setattr(self, key, _coerce(raw, hints[key]))
            except (TypeError, ValueError) as error:
                raise UserError(f"{source}: hub setting {key!r} = {raw!r} is not a {hints[key]}: {error}")


def _coerce(raw: object, hint: object) -> object:
    """Turns a TOML value or an environment string into the field's declared type."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if raw in (None, ""):
            return None
        inner = [a for a in typing.get_args(hint) if a is not type(None)][0]
        return _coerce(raw, inner)
    if hint is bool:
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("1", "true", "yes", "on"):
            return True
        if str(raw).lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError("expected true or false")
    if hint in (int, float, str):
        return hint(raw)
    if hint is Path:
        return Path(str(raw)).expanduser()
    if origin is list:
        return (
            [str(x) for x in raw]
            if isinstance(raw, list)
            else [s.strip() for s in str(raw).split(",") if s.strip()]
        )
    if origin is dict:
        if isinstance(raw, dict):
            return {str(k): int(v) for k, v in raw.items()}
        pairs = (item.split("=", 1) for item in str(raw).split(",") if item.strip())
        return {k.strip(): int(v) for k, v in pairs}
    raise TypeError(f"unsupported setting type {hint}")
