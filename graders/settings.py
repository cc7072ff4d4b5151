"""Where the platform keeps its state on one machine (the embedded defaults)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Paths every part agrees on; see docs/contracts.md."""

    home: Path

    @classmethod
    def load(cls) -> Settings:
        home = os.environ.get("BOOTCAMP_HOME") or str(Path.home() / ".local" / "share" / "bootcamp")
        return cls(home=Path(home).expanduser().resolve())

    @property
    def cohorts_dir(self) -> Path:
        return self.home / "cohorts"

    def cohort_dir(self, cohort: str) -> Path:
        return self.cohorts_dir / cohort

    def course_dir(self, cohort: str) -> Path:
        return self.cohort_dir(cohort) / "course"

    @property
    def programme_db(self) -> Path:
        return self.home / "programme.db"


def repo_root() -> Path:
    """The source checkout (curriculum/, images/), found from this file."""
    return Path(__file__).resolve().parent.parent
