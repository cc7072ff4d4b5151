"""JupyterHub configuration for the bootcamp: DockerSpawner, NativeAuthenticator, grade on submit.

Run with `jupyterhub -f hub_config/jupyterhub_config.py` (or `bootcamp hub up`, which also starts the
proxy). Deployment choices (ports, database, images, limits, authenticator) are NOT edited here: they live
in one typed place, graders/hub/settings.py, read from hub.toml plus BOOTCAMP_HUB_* environment variables;
hub_config/hub.toml documents every setting.
"""

import logging

from graders.hub import launcher, secrets
from graders.hub.services import hub_services
from graders.hub.settings import HubSettings
from graders.programme.cohorts import list_cohorts
from graders.settings import Settings

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file
settings = HubSettings.load()
settings.state.mkdir(parents=True, exist_ok=True)
settings.logs_dir.mkdir(parents=True, exist_ok=True)

# --- Hub, proxy and database --------------------------------------------------------------------------
c.JupyterHub.ip = settings.ip
c.JupyterHub.port = settings.port
c.JupyterHub.hub_port = settings.hub_port
c.JupyterHub.db_url = settings.database_url  # SQLite by default; set db_url for PostgreSQL
c.JupyterHub.cookie_secret_file = str(secrets.secret_path(settings, secrets.COOKIE_SECRET))
c.JupyterHub.pid_file = str(settings.state / "jupyterhub.pid")
# A hub restart (a new cohort's formgrader) keeps trainee servers running; `bootcamp hub down` stops them.
c.JupyterHub.cleanup_servers = False
# The Node.js configurable-http-proxy (npm install -g configurable-http-proxy), never the Python port.
c.ConfigurableHTTPProxy.command = ["configurable-http-proxy"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
c.ConfigurableHTTPProxy.auth_token = secrets.secret(settings, secrets.PROXY_TOKEN)
c.ConfigurableHTTPProxy.should_start = settings.start_proxy
c.ConfigurableHTTPProxy.pid_file = str(settings.state / "proxy.pid")

# --- Authentication -----------------------------------------------------------------------------------
c.Authenticator.admin_users = set(settings.admin_users)
if settings.authenticator == "native":
    # Trainees sign up themselves; an admin approves them at /hub/authorize before they can log in.
    c.JupyterHub.authenticator_class = "graders.hub.auth.BootcampNativeAuthenticator"
    c.NativeAuthenticator.open_signup = False
    c.NativeAuthenticator.minimum_password_length = 8
    c.NativeAuthenticator.check_common_password = True
    c.Authenticator.allow_all = True  # NativeAuthenticator itself refuses anyone not yet approved
elif settings.authenticator == "oauth":
    c.JupyterHub.authenticator_class = "oauthenticator.generic.GenericOAuthenticator"
    c.GenericOAuthenticator.client_id = settings.oauth_client_id
    c.GenericOAuthenticator.client_secret = settings.oauth_client_secret
    c.GenericOAuthenticator.oauth_callback_url = settings.oauth_callback_url
    c.GenericOAuthenticator.authorize_url = settings.oauth_authorize_url
    c.GenericOAuthenticator.token_url = settings.oauth_token_url
    c.GenericOAuthenticator.userdata_url = settings.oauth_userdata_url
    c.GenericOAuthenticator.username_claim = settings.oauth_username_claim
    c.GenericOAuthenticator.scope = settings.oauth_scopes
    # Only people the bootcamp added (cohort members, admins) may log in with the identity provider.
    c.GenericOAuthenticator.allow_existing_users = True
else:
    raise ValueError(f"hub setting authenticator = {settings.authenticator!r}: use 'native' or 'oauth'")

# --- Trainee servers: one Docker container each ---------------------------------------------------------
c.JupyterHub.spawner_class = "graders.hub.spawner.BootcampSpawner"
c.BootcampSpawner.image = settings.trainee_image
c.BootcampSpawner.instructor_image = settings.instructor_image
c.BootcampSpawner.exchange_root = str(settings.exchange_root)
c.BootcampSpawner.container_uid = settings.container_uid
c.BootcampSpawner.name_template = settings.container_prefix + "-{username}"
c.BootcampSpawner.volumes = {f"{settings.container_prefix}-home-{{username}}": "/home/jovyan"}
c.BootcampSpawner.remove = True  # containers are disposable; the home volume persists
c.BootcampSpawner.extra_create_kwargs = {
    "labels": {launcher.SERVER_LABEL: launcher.server_label_value(settings)}
}
c.BootcampSpawner.mem_limit = settings.mem_limit
c.BootcampSpawner.cpu_limit = settings.cpu_limit
c.BootcampSpawner.start_timeout = settings.start_timeout_s
c.BootcampSpawner.http_timeout = settings.start_timeout_s
c.BootcampSpawner.default_url = "/lab"
c.BootcampSpawner.extra_host_config = {
    "pids_limit": 512,
    "security_opt": ["no-new-privileges"],
    "cap_drop": ["ALL"],
}
c.BootcampSpawner.network_name = settings.network
c.BootcampSpawner.use_internal_ip = True
if settings.network == "host":
    # Tests and single-machine demos: containers share the host network, all traffic on 127.0.0.1.
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_connect_ip = settings.hub_connect_ip or "127.0.0.1"
else:
    # Production: a user-defined bridge; containers reach the hub through the bridge's gateway address.
    import docker

    client = docker.from_env()
    try:
        network = client.networks.get(settings.network)
    except docker.errors.NotFound:
        network = client.networks.create(settings.network, driver="bridge")
    gateway = network.attrs["IPAM"]["Config"][0].get("Gateway", "")
    c.JupyterHub.hub_ip = "0.0.0.0"  # noqa: S104 - containers on the bridge must reach the hub API
    c.JupyterHub.hub_connect_ip = settings.hub_connect_ip or gateway

# --- The exchange: host folders mounted per trainee, or the exchange service (no shared disk) -------------
c.BootcampSpawner.exchange_mode = settings.exchange
if settings.exchange == "service":
    # Containers reach the service through the proxy, at the address they reach the hub by (on a bridge
    # network the proxy must listen there too: ip = "0.0.0.0" behind a firewall, see docs/hub.md).
    connect = c.JupyterHub.hub_connect_ip
    c.BootcampSpawner.exchange_url = f"http://{connect}:{settings.port}/services/exchange/"

# --- Cohorts: groups, formgrader services, roles; plus the grader, culler and CLI services -----------------
cohorts = [(cohort.name, cohort.course_dir) for cohort in list_cohorts(Settings.load())]
hub = hub_services(settings, cohorts)
c.JupyterHub.services = hub.services
c.JupyterHub.load_roles = hub.roles
c.JupyterHub.load_groups = hub.groups
logging.getLogger("graders.hub").info(
    "hub configured for cohorts: %s", ", ".join(n for n, _ in cohorts) or "none"
)
