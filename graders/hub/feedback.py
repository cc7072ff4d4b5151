"""Delivers feedback to a trainee on the hub: the HTML pages Course.generate_feedback wrote (without hidden
tests), or a short notice in their place, go to the trainee's own exchange folder, named as nbgrader's
fetch_feedback expects (md5 of the submission secret and notebook name), so the assignment list shows them.
"""

from __future__ import annotations

import html
import logging
import shutil
from pathlib import Path

from nbgrader.utils import notebook_hash

log = logging.getLogger(__name__)


def deliver(html_files: list[Path], secret: str, trainee_feedback_dir: Path) -> list[Path]:
    """Copies feedback into the trainee's exchange folder under the names fetch_feedback looks for."""
    delivered = []
    for path in html_files:
        target = trainee_feedback_dir / f"{notebook_hash(secret=secret, notebook_id=path.stem)}.html"
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(path, tmp)
        tmp.chmod(0o644)
        tmp.replace(target)  # atomic: the trainee never fetches half a file
        delivered.append(target)
    return delivered


def deliver_notice(
    notebook_ids: list[str], secret: str, trainee_feedback_dir: Path, title: str, message: str
) -> None:
    """A short HTML page in place of feedback (submission refused, grading failed), one per notebook."""
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
    for notebook_id in notebook_ids:
        target = trainee_feedback_dir / f"{notebook_hash(secret=secret, notebook_id=notebook_id)}.html"
        target.write_text(page, encoding="utf-8")
        target.chmod(0o644)
