"""Canary planning and judging, and the result validation at the sandbox boundary (pure unit tests)."""

from __future__ import annotations

import json
import random

import pytest

from graders import integrity
from graders.sandbox.job import Job, Limits, SandboxError, validate_result

CELLS = [
    {"id": "c0", "source": "def f(x):\n    return 2 * x\n"},
    {
        "id": "c1",
        "source": "# public test\nassert f(2) == 4\n### BEGIN HIDDEN TESTS\nassert f(5) == 10\n### END HIDDEN TESTS\n",
    },
    {"id": "c2", "source": "for v in []:\n    assert v == 3\n"},
]


def test_canary_is_a_test_cell_with_one_expected_literal_changed():
    plan = integrity.plan_canaries(CELLS, ["c1"], rng=random.Random(1))
    fails = [c for c in plan.canaries.values() if c.expect == "fail"]
    assert len(fails) == 1
    canary = fails[0].source
    assert canary != CELLS[1]["source"]
    assert canary.count("\n") == CELLS[1]["source"].count("\n")  # formatting and comments kept
    assert "### BEGIN HIDDEN TESTS" in canary
    namespace: dict = {}
    exec(CELLS[0]["source"], namespace)
    with pytest.raises(AssertionError):
        exec(canary, namespace)  # honest code fails every canary


def test_literals_in_loops_or_branches_are_never_mutated():
    plan = integrity.plan_canaries(CELLS, ["c2"], rng=random.Random(2))
    assert all(c.mimics == "c2" for c in plan.canaries.values())
    generic = [c for c in plan.canaries.values() if c.expect == "fail"][0]
    assert "for v in" not in generic.source  # fell back to a plain failing check


def test_canaries_sit_next_to_the_cell_they_mimic_and_keep_real_order():
    plan = integrity.plan_canaries(CELLS, ["c1"], rng=random.Random(3))
    real = [c["id"] for c in plan.cells if c["id"] in {"c0", "c1", "c2"}]
    assert real == ["c0", "c1", "c2"]
    ids = [c["id"] for c in plan.cells]
    for canary in plan.canaries.values():  # right before or after the test it mimics, never elsewhere
        assert ids.index("c0") < ids.index(canary.id) < ids.index("c2")


def _result(plan, canary_outputs):
    cells = []
    for cell in plan.cells:
        outputs, status = canary_outputs.get(cell["id"], ([], "ok"))
        cells.append({"id": cell["id"], "status": status, "outputs": outputs})
    return {"cells": cells, "integrity": []}


def test_judge_flags_a_passing_canary_and_accepts_failing_ones():
    plan = integrity.plan_canaries(CELLS, ["c1"], rng=random.Random(4))
    error = [{"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": []}]
    honest = {}
    for canary in plan.canaries.values():
        if canary.expect == "fail":
            honest[canary.id] = (error, "error")
        else:
            honest[canary.id] = (
                [{"output_type": "execute_result", "data": {"text/plain": canary.value}}],
                "ok",
            )
    assert integrity.judge(plan, _result(plan, honest)) == []
    tampered = {cid: ([], "ok") for cid in honest}
    reasons = integrity.judge(plan, _result(plan, tampered))
    assert any("must fail passed" in r for r in reasons)


def test_judge_flags_rewritten_displayed_values():
    plan = integrity.plan_canaries(CELLS, ["c1"], rng=random.Random(5))
    outputs = {}
    for canary in plan.canaries.values():
        if canary.expect == "fail":
            outputs[canary.id] = (
                [{"output_type": "error", "ename": "E", "evalue": "", "traceback": []}],
                "error",
            )
        else:
            outputs[canary.id] = ([{"output_type": "execute_result", "data": {"text/plain": "4.0"}}], "ok")
    assert any("rewritten" in r for r in integrity.judge(plan, _result(plan, outputs)))


def _valid(job):
    return {
        "version": 1,
        "cells": [{"id": c["id"], "status": "ok", "outputs": []} for c in job.cells],
        "events": [],
        "integrity": [],
    }


def test_result_validation_rejects_anything_unexpected():
    job = Job(cells=[{"id": "c0", "source": "1"}])
    limits = Limits()
    assert validate_result(json.dumps(_valid(job)).encode(), job, limits)["cells"][0]["id"] == "c0"
    bad = [
        b"not json",
        json.dumps({**_valid(job), "version": 2}).encode(),
        json.dumps({**_valid(job), "cells": []}).encode(),
        json.dumps({**_valid(job), "cells": [{"id": "c0", "status": "great", "outputs": []}]}).encode(),
        json.dumps(
            {**_valid(job), "cells": [{"id": "c0", "status": "ok", "outputs": [{"output_type": "pickle"}]}]}
        ).encode(),
        json.dumps({"version": 1, "fatal": "boom"}).encode(),
    ]
    for raw in bad:
        with pytest.raises(SandboxError):
            validate_result(raw, job, limits)
    with pytest.raises(SandboxError):
        validate_result(b" " * (limits.result_bytes + 1), job, limits)


def test_job_files_skip_notebooks_and_symlinks(tmp_path):
    (tmp_path / "data.csv").write_text("1,2\n")
    (tmp_path / "problems.ipynb").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "more.txt").write_text("x")
    secret = tmp_path.parent / "gradebook.db"
    secret.write_text("secret")
    (tmp_path / "link.db").symlink_to(secret)
    assert sorted(Job.collect_files(tmp_path)) == ["data.csv", "sub/more.txt"]
