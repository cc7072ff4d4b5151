"""Erasing a trainee from the hub side: hub user, home volume, exchange folders and grading-queue rows.

graders.programme.privacy removes the course side (programme.db, gradebooks, cohort files); `bootcamp
trainee forget` calls both and prints everything that was removed or could not be.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

from graders.errors import UserError
from graders.hub.api import HubClient
from graders.hub.exchange import CohortExchange
from graders.hub.settings import HubSettings
from graders.programme.privacy import ElsewhereErasure

log = logging.getLogger(__name__)


def forget_on_hub(hub: HubSettings, trainee: str) -> ElsewhereErasure:
    """Removes every hub-side trace of `trainee`; never raises for a part that is already gone."""
    erasure = ElsewhereErasure()
    if _hub_has_run(hub):
        _delete_hub_user(hub, trainee, erasure)
    erasure.removed.extend(_remove_volume(hub, trainee, erasure))
    if hub.exchange_root.is_dir():
        for course in sorted(p for p in hub.exchange_root.iterdir() if p.is_dir()):
            exchange = CohortExchange(root=hub.exchange_root, cohort=course.name)
            for folder in (exchange.inbound(trainee), exchange.feedback(trainee)):
                if folder.exists() and not folder.is_symlink():
                    shutil.rmtree(folder)
                    erasure.removed.append(f"exchange folder {folder.relative_to(hub.exchange_root)}")
    if hub.grading_db.exists():
        with sqlite3.connect(hub.grading_db) as conn:
            deleted = conn.execute("DELETE FROM submissions WHERE trainee = ?", (trainee,)).rowcount
        if deleted:  # rewrite the file (and fold the WAL into it) so no deleted page keeps their name
            conn = sqlite3.connect(hub.grading_db, isolation_level=None)
            try:
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
            erasure.removed.append(f"grading queue: {deleted} submission record(s)")
    return erasure


def _hub_has_run(hub: HubSettings) -> bool:
    """A hub database exists: there may be a hub user to delete (none can exist without one)."""
    prefix = "sqlite:///"
    url = hub.database_url
    return not url.startswith(prefix) or Path(url[len(prefix) :]).exists()


def _delete_hub_user(hub: HubSettings, trainee: str, erasure: ElsewhereErasure) -> None:
    try:
        client = HubClient.from_settings(hub)
        if client.user(trainee) is not None:
            client.stop_server(trainee)
            client.delete_user(trainee)
            erasure.removed.append("hub user and its server")
    except UserError as error:
        erasure.not_done.append(f"hub user: {error} (run `bootcamp trainee forget` again once the hub runs)")


def _remove_volume(hub: HubSettings, trainee: str, erasure: ElsewhereErasure) -> list[str]:
    try:
        import docker

        client = docker.from_env()
        volume = client.volumes.get(f"{hub.container_prefix}-home-{trainee}")
    except Exception:  # noqa: BLE001 - no engine or no such volume: nothing to remove here
        return []
    try:
        volume.remove(force=True)
        return [f"home volume {volume.name}"]
    except Exception as error:  # noqa: BLE001
        erasure.not_done.append(f"home volume {volume.name}: {error}")
        return []


def forget_trainee_on_hub(trainee: str) -> ElsewhereErasure:
    """`bootcamp trainee forget` calls this through graders.programme.privacy.FORGETTERS."""
    return forget_on_hub(HubSettings.load(), trainee)
