"""activity.json: when each trainee was last active on the hub (written by `bootcamp hub sync`), as the
course side reads it for the progress report's "no hub activity for N days" rule and for data exports."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from graders.errors import UserError

log = logging.getLogger(__name__)


def read_activity(path: Path) -> dict[str, datetime | None] | None:
    """Reads activity.json; None when the hub side has not written one (activity is then not judged)."""
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"{path} is not valid JSON ({error}): it must map user names to ISO timestamps")
    if not isinstance(raw, dict):
        raise UserError(f"{path} must be a JSON object mapping user names to ISO timestamps")
    out: dict[str, datetime | None] = {}
    for user, stamp in raw.items():
        if stamp in (None, ""):
            out[str(user)] = None
            continue
        try:
            when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        except ValueError:
            log.warning("activity.json: ignoring an entry whose timestamp is not ISO 8601")
            continue
        out[str(user)] = when if when.tzinfo else when.replace(tzinfo=UTC)
    return out
