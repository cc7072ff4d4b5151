"""`bootcamp release ASSIGNMENT --cohort NAME`: from the curriculum into the cohort's course and out to trainees.

Three steps, each stock nbgrader where nbgrader has one: copy curriculum/modules/*/assignments/<name>/
into course/source/<name>/, `generate_assignment` (student version, gradebook entry), `release_assignment`
into the hub's exchange (outbound/, which every trainee container of the cohort mounts read-only).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from graders.errors import UserError
from graders.hub.exchange import CohortExchange
from graders.hub.settings import HubSettings
from graders.programme.cohorts import load_cohort
from graders.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Released:
    assignment: str
    cohort: str
    source: Path
    outbound: Path
    notebooks: list[str]


def find_assignment(curriculum: Path, assignment: str) -> Path:
    """The assignment folder in the curriculum; its name is unique across modules."""
    matches = sorted(curriculum.glob(f"modules/*/assignments/{assignment}"))
    matches = [m for m in matches if m.is_dir()]
    if not matches:
        raise UserError(
            f"no assignment {assignment!r} under {curriculum}/modules/*/assignments/: "
            "check the name in the module's module.toml"
        )
    if len(matches) > 1:
        raise UserError(f"assignment {assignment!r} is in several modules: {', '.join(map(str, matches))}")
    return matches[0]


def nbgrader_api(
    course_dir: Path, cohort: str, exchange_root: Path, extra: Config | None = None
) -> NbGraderAPI:
    """nbgrader's Python API on a cohort's course, pointed at the hub's exchange."""
    config = Config()
    config.CourseDirectory.root = str(course_dir)
    config.CourseDirectory.course_id = cohort
    config.CourseDirectory.db_url = f"sqlite:///{course_dir / 'gradebook.db'}"
    config.Exchange.root = str(exchange_root)
    if extra is not None:
        config.merge(extra)
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def release(settings: Settings, hub: HubSettings, assignment: str, cohort_name: str) -> Released:
    cohort = load_cohort(settings, cohort_name)
    src = find_assignment(hub.curriculum, assignment)
    dest = cohort.course_dir / "source" / assignment
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest)
    exchange = CohortExchange(root=hub.exchange_root, cohort=cohort.name)
    exchange.ensure()
    api = nbgrader_api(cohort.course_dir, cohort.name, hub.exchange_root)
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result["success"] and "because there are submissions associated with it" in result.get(
        "error", ""
    ) + result.get("log", ""):
        raise UserError(
            f"{assignment} already has submissions in cohort {cohort.name}, and its notebook now has other "
            "cells: nbgrader cannot change a graded assignment's cells. Release the changed version under a "
            "new assignment name (a new module version), or keep the old one."
        )
    if not result["success"]:
        raise UserError(
            f"nbgrader generate_assignment {assignment} failed:\n{result['log']}{result['error']}"
        )
    # release_assignment refuses to overwrite; a re-release replaces the outbound copy on purpose.
    if (exchange.outbound / assignment).exists():
        shutil.rmtree(exchange.outbound / assignment)
    result = api.release_assignment(assignment)
    if not result["success"]:
        raise UserError(f"nbgrader release_assignment {assignment} failed:\n{result['log']}{result['error']}")
    notebooks = sorted(p.name for p in (exchange.outbound / assignment).glob("*.ipynb"))
    log.info("released %s to cohort %s (%s)", assignment, cohort.name, ", ".join(notebooks))
    return Released(assignment, cohort.name, dest, exchange.outbound / assignment, notebooks)
