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


def hub_exchange(exchange_root: Path) -> Config:
    """The settings that point nbgrader's API at the hub's exchange."""
    config = Config()
    config.Exchange.root = str(exchange_root)
    return config


def release(settings: Settings, hub: HubSettings, assignment: str, cohort_name: str) -> Released:
    cohort = load_cohort(settings, cohort_name)
    src = find_assignment(hub.curriculum, assignment)
    dest = cohort.course_dir / "source" / assignment
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest)
    exchange = CohortExchange(root=hub.exchange_root, cohort=cohort.name)
    exchange.ensure()
    cohort.course.generate_assignment(assignment, hub_exchange(hub.exchange_root))
    # release_assignment refuses to overwrite; a re-release replaces the outbound copy on purpose.
    if (exchange.outbound / assignment).exists():
        shutil.rmtree(exchange.outbound / assignment)
    result = cohort.course.nbgrader_api(hub_exchange(hub.exchange_root)).release_assignment(assignment)
    if not result["success"]:
        raise UserError(f"nbgrader release_assignment {assignment} failed:\n{result['log']}{result['error']}")
    notebooks = sorted(p.name for p in (exchange.outbound / assignment).glob("*.ipynb"))
    log.info("released %s to cohort %s (%s)", assignment, cohort.name, ", ".join(notebooks))
    return Released(assignment, cohort.name, dest, exchange.outbound / assignment, notebooks)


@dataclass
class ReleasedModule:
    module: str
    cohort: str
    lessons: list[str]  # paths under the cohort's lessons folder, e.g. numpy/lessons/01-arrays.ipynb
    assignments: list[Released]


def release_lessons(hub: HubSettings, cohort: str, module_dir: Path) -> list[str]:
    """Copies a module's lessons/ and data/ into the cohort's lessons folder, which every trainee server
    mounts read-only and copies from into ~/lessons (graders.hub.exchange.LESSON_SYNC). The module's
    layout is kept, so a lesson's `../data/x.csv` still resolves. A re-release replaces the originals
    as one rename; the trainees' own copies are never touched."""
    exchange = CohortExchange(root=hub.exchange_root, cohort=cohort)
    exchange.ensure()
    target = exchange.lessons / module_dir.name
    staging = exchange.lessons / f".{module_dir.name}.new"
    shutil.rmtree(staging, ignore_errors=True)
    for part in ("lessons", "data"):
        if (module_dir / part).is_dir():
            shutil.copytree(
                module_dir / part, staging / part, ignore=shutil.ignore_patterns(".*", "__pycache__")
            )
    if not staging.exists():
        raise UserError(f"module {module_dir.name} has no lessons/ or data/ to release")
    for path in [staging, *staging.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    old = exchange.lessons / f".{module_dir.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    released = sorted(str(p.relative_to(exchange.lessons)) for p in target.rglob("*.ipynb"))
    log.info("released %d lessons of %s to cohort %s", len(released), module_dir.name, cohort)
    return released


def release_module(settings: Settings, hub: HubSettings, module: str, cohort_name: str) -> ReleasedModule:
    """A whole module to a cohort: its lessons and data into the trainees' servers, and each assignment
    into the exchange (generate + release, as `release` does for one)."""
    from graders.curriculum.catalogue import load_catalogue

    cohort = load_cohort(settings, cohort_name)
    catalogue = load_catalogue(hub.curriculum)
    found = catalogue.modules.get(module)
    if found is None:
        raise UserError(f"no module {module!r} in {hub.curriculum}/modules (see `bootcamp curriculum list`)")
    lessons = release_lessons(hub, cohort.name, found.path)
    assignments = [release(settings, hub, a.name, cohort.name) for a in found.assignments]
    return ReleasedModule(module, cohort.name, lessons, assignments)


def is_module(hub: HubSettings, name: str) -> bool:
    return (hub.curriculum / "modules" / name / "module.toml").is_file()
