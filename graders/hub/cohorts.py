"""The hub side of a cohort: hub users for its people and the groups that give them their rights.

The course side (cohort folder, gradebook, programme.db) belongs to graders.programme.cohorts; this module
only mirrors it onto the hub: trainees join `nbgrader-<cohort>` (their server gets that cohort's exchange),
instructors join `formgrade-<cohort>` (they may open the cohort's formgrader service).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from graders.hub.api import HubClient
from graders.hub.exchange import CohortExchange
from graders.hub.names import INSTRUCTOR_GROUP, TRAINEE_GROUP
from graders.hub.settings import HubSettings
from graders.programme import cohorts as programme
from graders.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class CohortOnHub:
    """Who the hub should know for one cohort."""

    name: str
    trainees: list[str] = field(default_factory=list)
    instructors: list[str] = field(default_factory=list)

    @classmethod
    def from_programme(cls, settings: Settings, name: str) -> CohortOnHub:
        return cls(
            name=name,
            trainees=[t.id for t in programme.trainees(settings, name)],
            instructors=[i.id for i in programme.instructors(settings, name)],
        )


def sync_cohort(client: HubClient, hub_settings: HubSettings, cohort: CohortOnHub) -> None:
    """Creates missing hub users and group memberships for the cohort (never removes anyone)."""
    CohortExchange(root=hub_settings.exchange_root, cohort=cohort.name).ensure()
    for user in cohort.trainees + cohort.instructors:
        client.ensure_user(user)
    if cohort.trainees:
        client.add_to_group(f"{TRAINEE_GROUP}{cohort.name}", cohort.trainees)
    else:
        client.ensure_group(f"{TRAINEE_GROUP}{cohort.name}")
    if cohort.instructors:
        client.add_to_group(f"{INSTRUCTOR_GROUP}{cohort.name}", cohort.instructors)
    else:
        client.ensure_group(f"{INSTRUCTOR_GROUP}{cohort.name}")
    log.info(
        "cohort %s on the hub: %d trainees, %d instructors",
        cohort.name,
        len(cohort.trainees),
        len(cohort.instructors),
    )


def formgrader_missing(client: HubClient, cohort: str) -> bool:
    """True when the hub was started before the cohort existed (its formgrader needs a hub restart)."""
    return f"formgrader-{cohort}" not in client.services()


def record_activity(client: HubClient, settings: Settings, cohort: CohortOnHub) -> Path:
    """Writes cohorts/<name>/activity.json ({user: last_activity or null}) for the progress report's
    "no hub activity for N days" rule; the format is documented in graders.programme.activity."""
    path = settings.cohort_dir(cohort.name) / "activity.json"
    try:
        known = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        known = {}
    activity = {}
    for user in cohort.trainees:
        model = client.user(user) or {}
        # the hub forgets nothing it saw, but a user made later has no activity yet: keep what we knew
        activity[user] = model.get("last_activity") or known.get(user)
    path.write_text(json.dumps(activity, indent=1, sort_keys=True))
    return path
