"""Where the platform keeps its state on one machine (the embedded defaults)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Paths every part agrees on; see docs/contracts.md."""

    home: Path
    # "" = each cohort's gradebook is a SQLite file in its course; a postgresql:// URL = one schema per
    # cohort in that database (graders.gradebook_db), for several graders or hosts sharing gradebooks
    gradebook_url: str = ""

    @classmethod
    def load(cls) -> Settings:
        home = os.environ.get("BOOTCAMP_HOME") or str(Path.home() / ".local" / "share" / "bootcamp")
        return cls(
            home=Path(home).expanduser().resolve(), gradebook_url=os.environ.get("BOOTCAMP_GRADEBOOK_URL", "")
        )

    @property
    def cohorts_dir(self) -> Path:
        return self.home / "cohorts"

    def cohort_dir(self, cohort: str) -> Path:
        return self.cohorts_dir / cohort

    def course_dir(self, cohort: str) -> Path:
        return self.cohort_dir(cohort) / "course"

    def is_cohort(self, name: str) -> bool:
        """`bootcamp cohort create` made it: its cohort.toml exists (the one test used everywhere)."""
        return (self.cohort_dir(name) / "cohort.toml").is_file()

    @property
    def programme_db(self) -> Path:
        return self.home / "programme.db"


def repo_root() -> Path:
    """The source checkout (curriculum/, images/), found from this file."""
    return Path(__file__).resolve().parent.parent


def default_curriculum_dir() -> Path:
    """The curriculum that ships in this checkout; commands take --curriculum to use another."""
    return repo_root() / "curriculum"
