"""The DockerSpawner the hub uses: the right image per role, the trainee's own exchange folders, host networking.

Each trainee's container gets a persistent home volume plus exactly their folders of the cohort exchange
(graders.hub.exchange); nothing else of the host. With exchange_mode = "service" it gets no exchange
folder at all: BOOTCAMP_EXCHANGE_URL points its nbgrader at the exchange service instead, and its hub token
may use that service. The cohort comes from the trainee's hub group `nbgrader-<cohort>`; members of
`formgrade-<cohort>` get the instructor image.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dockerspawner import DockerSpawner
from traitlets import Int, Unicode, default

from graders.hub.exchange import CONTAINER_LESSONS, LESSON_SYNC, CohortExchange
from graders.hub.exchange_client import URL_ENV
from graders.hub.names import INSTRUCTOR_GROUP, TRAINEE_GROUP, cohorts_of, free_port
from graders.hub.services import EXCHANGE
from graders.sandbox.job import thread_env

# With the exchange service no host folder is mounted: lessons come from the service into the container's
# own /srv/bootcamp/lessons, then new files into ~/lessons (cp -n, as LESSON_SYNC). In the background, so
# that JupyterLab's start does not wait for nbgrader's imports and the download (a second or two).
SERVICE_LESSON_SYNC = (
    f"(python -m graders.hub.exchange_client lessons {CONTAINER_LESSONS} "
    f'&& mkdir -p "$HOME/lessons" && cp -rn {CONTAINER_LESSONS}/. "$HOME/lessons/") & exec "$@"'
)

# A server's token with the exchange service: JupyterHub's "server" role plus that one service (it still
# acts only as its user). Also used by the Kubernetes configuration (hub_config/kubernetes/values.yaml).
EXCHANGE_SERVER_SCOPES = (
    "users:activity!user",
    "access:servers!server",
    f"access:services!service={EXCHANGE}",
)


class BootcampSpawner(DockerSpawner):
    """DockerSpawner plus the bootcamp's per-user choices, made when each server starts."""

    exchange_root = Unicode(help="The host folder holding every cohort's exchange.").tag(config=True)
    instructor_image = Unicode("", help="Image for members of a formgrade-<cohort> group.").tag(config=True)
    exchange_mode = Unicode(
        "filesystem", help="'filesystem': mount the exchange folders; 'service': the exchange service"
    ).tag(config=True)
    exchange_url = Unicode("", help="How trainee servers reach the exchange service (service mode).").tag(
        config=True
    )
    container_uid = Int(1000, help="The Unix user inside the images; owns the trainee's inbound folder.").tag(
        config=True
    )

    @default("server_token_scopes")
    def _token_scopes(self) -> list[str]:
        # JupyterHub's "server" role, plus the exchange service: the token still only acts as its user
        if self.exchange_mode == "service":
            return list(EXCHANGE_SERVER_SCOPES)
        return []  # the default "server" role

    def _group_names(self) -> list[str]:
        return [group.name for group in self.user.groups]

    async def start(self):  # type: ignore[override]
        groups = self._group_names()
        trainee_of = cohorts_of(groups, TRAINEE_GROUP)
        instructor_of = cohorts_of(groups, INSTRUCTOR_GROUP)
        if instructor_of and self.instructor_image:
            self.image = self.instructor_image
        volumes = {k: v for k, v in self.volumes.items() if not str(k).startswith(self.exchange_root)}
        if trainee_of:
            # One cohort at a time: nbgrader's assignment list in the container knows one course id.
            cohort = trainee_of[0]
            exchange = CohortExchange(root=Path(self.exchange_root), cohort=cohort)
            exchange.ensure_trainee(self.user.name, self.container_uid)
            environment = {"BOOTCAMP_COHORT": cohort}
            sync = LESSON_SYNC
            if self.exchange_mode == "service":
                environment[URL_ENV] = self.exchange_url
                sync = SERVICE_LESSON_SYNC
            else:
                volumes.update(exchange.mounts(self.user.name))
            self.environment = {**self.environment, **environment}  # never the shared config dict
            # released lessons into ~/lessons first, then the image's own command (jupyterhub-singleuser)
            self.cmd = ["sh", "-c", sync, "sh", "jupyterhub-singleuser"]
            if len(trainee_of) > 1:
                self.log.warning(
                    "%s is in several cohorts %s; mounting only %s", self.user.name, trainee_of, cohort
                )
        self.volumes = volumes
        # numpy/torch start a thread per host core; in a container with a CPU limit they only contend
        self.environment = {**self.environment, **thread_env(self.cpu_limit or 1)}
        if self.network_name == "host":
            # On the host network every server needs its own port (no Docker port mapping there).
            self.port = free_port()
        ip, port = await super().start()
        # The hub polls a new server with exponential back-off (up to 5 s between tries), which adds a
        # second or more to every spawn; we watch our own container's port every 50 ms instead, so the
        # hub's first try already finds JupyterLab listening.
        await wait_until_listening(ip, port, timeout_s=self.http_timeout)
        return ip, port

    async def get_ip_and_port(self):  # type: ignore[override]
        if self.network_name == "host":
            return "127.0.0.1", self.port
        return await super().get_ip_and_port()


async def wait_until_listening(host: str, port: int, timeout_s: float, every_s: float = 0.05) -> bool:
    """True once something accepts TCP connections on host:port, False after timeout_s (the hub then
    waits and reports a server that never came up, as it always does)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=1.0)
        except (TimeoutError, OSError):
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(every_s)
            continue
        writer.close()
        await writer.wait_closed()
        return True
