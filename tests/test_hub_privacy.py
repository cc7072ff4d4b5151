"""`trainee forget` on the hub side: exchange folders and grading-queue rows go; a stopped hub is reported."""

from __future__ import annotations

import sqlite3

from graders.hub.exchange import CohortExchange
from graders.hub.privacy import forget_on_hub
from graders.hub.queue import Submission, SubmissionQueue
from graders.hub.settings import HubSettings


def test_forget_removes_exchange_folders_and_queue_rows_and_reports_the_stopped_hub(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOTCAMP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BOOTCAMP_HUB_PORT", "1")  # nothing listens there: the hub is "not running"
    hub = HubSettings.load()
    exchange = CohortExchange(root=hub.exchange_root, cohort="c1")
    exchange.ensure()
    for folder in (exchange.inbound("amina"), exchange.feedback("amina"), exchange.inbound("bilal")):
        folder.mkdir(parents=True)
        (folder / "note.txt").write_text("amina's work")
    hub.state.mkdir(parents=True, exist_ok=True)
    (hub.state / "jupyterhub.sqlite").write_bytes(b"")  # a hub has run here, and is stopped now
    queue = SubmissionQueue(hub.grading_db)
    for trainee in ("amina", "bilal"):
        stamp = "2026-11-27 10:00:00"
        queue.add(
            Submission(
                Submission.make_id("c1", trainee, "ps1", stamp), "c1", trainee, "ps1", stamp, "/x", "queued"
            )
        )

    erasure = forget_on_hub(hub, "amina")

    assert not exchange.inbound("amina").exists() and not exchange.feedback("amina").exists()
    assert exchange.inbound("bilal").exists()
    with sqlite3.connect(hub.grading_db) as conn:
        assert [row[0] for row in conn.execute("SELECT trainee FROM submissions")] == ["bilal"]
    assert b"amina" not in hub.grading_db.read_bytes()
    assert any("hub user" in line for line in erasure.not_done)
    assert any("grading queue" in line for line in erasure.removed)
