"""Tamper detection that does not trust the kernel: canary cells and their verdicts.

A submission can patch anything inside its own kernel (IPython, builtins, numpy.testing, `__eq__`), so no
check that runs there can be trusted. We judge the effect instead: among the real test cells we hide
canaries, copies of real test cells whose expected literal was changed to a random wrong value. Honest
code fails them. Any trick that makes failing tests pass (stripping asserts, blanking cells, always-equal
objects, faked replies) makes a canary pass too. A value canary checks that displayed results (nbgrader's
partial credit) are not rewritten.
"""

from __future__ import annotations

import ast
import random
import secrets
from dataclasses import dataclass, field
from typing import Any

# Calls whose literal arguments are expected values: mutating one makes an honest check fail.
_RAISING_CHECKS = {
    "assert_close",
    "assert_equal",
    "assert_array_close",
    "assert_allclose",
    "assert_array_equal",
    "assert_almost_equal",
    "assert_array_almost_equal",
}
_BOOLEAN_CHECKS = {"isclose", "allclose", "array_equal"}


@dataclass
class Canary:
    id: str
    source: str
    expect: str  # "fail": must end in an error; "value": must display exactly `value`
    value: str = ""
    mimics: str = ""  # id of the real cell it was made from (placed next to it)


@dataclass
class CanaryPlan:
    """The cells to run, in order, with the canaries mixed in."""

    cells: list[dict[str, str]]
    canaries: dict[str, Canary] = field(default_factory=dict)


# default tolerances of the checks whose literals we mutate: (rtol, atol)
_TOLERANCES = {
    "assert_close": (1e-6, 1e-9),
    "assert_array_close": (1e-6, 1e-9),
    "isclose": (1e-5, 1e-8),
    "allclose": (1e-5, 1e-8),
    "assert_allclose": (1e-7, 0.0),
    "assert_almost_equal": (0.0, 1.5e-7),
    "assert_array_almost_equal": (0.0, 1.5e-6),
}


def _decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".", 1)[1]) if "." in text and "e" not in text else 3


def _similar(value: Any, rtol: float, atol: float, rng: random.Random) -> Any:
    """A wrong value that looks like the original: same type, same magnitude, same style (49 -> 52,
    0.25 -> 0.27, 'setosa' -> 'setosb'), and far enough outside the check's tolerance that honest code
    certainly fails it. None when no such value exists."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        step = max(1, round(abs(value) * rng.uniform(0.02, 0.15)))
        changed = value + rng.choice([-1, 1]) * step
        return changed if abs(changed - value) > 3 * (rtol * abs(value) + atol) else None
    if isinstance(value, float):
        if value == 0.0:
            changed = round(rng.choice([-1, 1]) * rng.uniform(0.05, 0.5), 2)
        else:
            changed = value * (1 + rng.choice([-1, 1]) * rng.uniform(0.03, 0.2))
            places = _decimals(value)
            rounded = round(changed, places)
            changed = rounded if rounded != value else round(changed, places + 1)
        return changed if abs(changed - value) > 3 * (rtol * abs(value) + atol) else None
    if isinstance(value, str):
        spots = [i for i, char in enumerate(value) if char.isalnum() and char.isascii()]
        if not spots:
            return None
        i = rng.choice(spots)
        pool = "0123456789" if value[i].isdigit() else "abcdefghijklmnopqrstuvwxyz"
        char = rng.choice([c for c in pool if c != value[i].lower()])
        return value[:i] + (char.upper() if value[i].isupper() else char) + value[i + 1 :]
    return None


def hidden_lines(source: str) -> set[int]:
    """1-based numbers of the lines inside BEGIN/END HIDDEN TESTS regions."""
    inside, found = False, set()
    for number, line in enumerate(source.splitlines(), start=1):
        if "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END HIDDEN TESTS" in line:
            inside = False
        elif inside:
            found.add(number)
    return found


def always_run_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that run whenever the cell runs: top level and `with` bodies, never loops or branches.

    A literal inside `if`, `for` or `try` might never be checked, and a canary made from it could pass for
    honest code; we only mutate checks that certainly run.
    """
    statements: list[ast.stmt] = []
    for statement in body:
        statements.append(statement)
        if isinstance(statement, ast.With):
            statements.extend(always_run_statements(statement.body))
    return statements


def _tolerance(call: ast.Call, name: str) -> tuple[float, float] | None:
    """The check's (rtol, atol): its literal keywords over the defaults; None when they are not literals."""
    rtol, atol = _TOLERANCES.get(name, (0.0, 0.0))
    for keyword in call.keywords:
        if keyword.arg in ("rtol", "atol", "decimal"):
            try:
                value = float(ast.literal_eval(keyword.value))
            except (ValueError, TypeError, SyntaxError):
                return None
            if keyword.arg == "rtol":
                rtol = value
            elif keyword.arg == "atol":
                atol = value
            else:
                atol = 1.5 * 10 ** (-value)
    return rtol, atol


def _expected_literals(tree: ast.Module) -> list[tuple[ast.Constant, float, float]]:
    """Literals that are an expected value, with the tolerance of their check: `assert x == 3`,
    `assert_close(x, 0.5)`, `np.isclose(x, 2)`."""
    found: list[tuple[ast.Constant, float, float]] = []
    for statement in always_run_statements(tree.body):
        if isinstance(statement, ast.Assert):
            expression, checks = statement.test, _RAISING_CHECKS | _BOOLEAN_CHECKS
        elif isinstance(statement, ast.Expr):
            expression, checks = statement.value, _RAISING_CHECKS  # a bare boolean check raises nothing
        else:
            continue
        if isinstance(expression, ast.Compare) and isinstance(statement, ast.Assert):
            if len(expression.ops) == 1 and isinstance(expression.ops[0], ast.Eq):
                found.extend(
                    (side, 0.0, 0.0)
                    for side in (expression.left, expression.comparators[0])
                    if isinstance(side, ast.Constant)
                )
        elif isinstance(expression, ast.Call):
            name = getattr(expression.func, "attr", None) or getattr(expression.func, "id", None)
            tolerance = _tolerance(expression, name) if name in checks else None
            if tolerance is not None:
                found.extend(
                    (arg, *tolerance) for arg in expression.args[1:2] if isinstance(arg, ast.Constant)
                )
    return [
        (c, rtol, atol)
        for c, rtol, atol in found
        if not isinstance(c.value, bool) and isinstance(c.value, int | float | str)
    ]


def _mutate(source: str, rng: random.Random) -> str | None:
    """The cell's own text with one expected literal of its hidden tests changed to a plausible wrong
    value, formatting and comments kept. Visible literals are never used: the trainee holds the released
    notebook and could tell a changed visible test from the real one."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    hidden = hidden_lines(source)
    candidates = [item for item in _expected_literals(tree) if item[0].lineno in hidden]
    rng.shuffle(candidates)
    for node, rtol, atol in candidates:
        new_value = _similar(node.value, rtol, atol, rng)
        if new_value is None or node.end_lineno is None or node.end_col_offset is None:
            continue
        if node.lineno != node.end_lineno:
            continue
        lines = source.splitlines(keepends=True)
        line = lines[node.lineno - 1]
        # col offsets are in UTF-8 bytes
        encoded = line.encode()
        replaced = encoded[: node.col_offset] + repr(new_value).encode() + encoded[node.end_col_offset :]
        lines[node.lineno - 1] = replaced.decode()
        return "".join(lines)
    return None


def plan_canaries(
    cells: list[dict[str, str]], test_ids: list[str], *, rng: random.Random | None = None, count: int = 3
) -> CanaryPlan:
    """Mixes canaries into `cells` (each {"id", "source"}); `test_ids` are the autograded test cells."""
    rng = rng or random.Random(secrets.randbits(64))
    by_id = {cell["id"]: cell for cell in cells}
    mutations = []
    for test_id in test_ids:
        mutated = _mutate(by_id[test_id]["source"], rng)
        if mutated is not None:
            mutations.append((test_id, mutated))
    rng.shuffle(mutations)
    canaries: list[Canary] = [
        Canary(id=f"k{secrets.token_hex(4)}", source=src, expect="fail", mimics=test_id)
        for test_id, src in mutations[:count]
    ]
    if not canaries and test_ids:
        # No literal to mutate: a plain assertion shaped like a test, on numbers no honest code changes.
        a = rng.randint(10_000, 99_999)
        name = rng.choice(["expected", "result", "answer", "value"])
        source = (
            f'{name}_check = {a}\nassert {name}_check == {a + rng.randint(1, 999)}, "{name} is not correct"\n'
        )
        canaries.append(
            Canary(id=f"k{secrets.token_hex(4)}", source=source, expect="fail", mimics=rng.choice(test_ids))
        )
    if test_ids:
        number = round(rng.uniform(0.05, 0.95), 2)
        a, b = sorted((round(rng.uniform(0, 1), 2), round(rng.uniform(1, 2), 2)))
        source = f"score = {a} + ({b} - {a}) * {number}\nround(score, 2)\n"
        value = repr(round(a + (b - a) * number, 2))
        canaries.append(
            Canary(
                id=f"k{secrets.token_hex(4)}",
                source=source,
                expect="value",
                value=value,
                mimics=rng.choice(test_ids),
            )
        )
    ordered = list(cells)
    for canary in canaries:
        position = next(i for i, cell in enumerate(ordered) if cell["id"] == canary.mimics)
        ordered.insert(position + rng.choice([0, 1]), {"id": canary.id, "source": canary.source})
    return CanaryPlan(cells=ordered, canaries={c.id: c for c in canaries})


def _failed(outcome: dict[str, Any]) -> bool:
    return outcome.get("status") != "ok" or any(
        o.get("output_type") == "error" for o in outcome.get("outputs", [])
    )


def judge(plan: CanaryPlan, result: dict[str, Any]) -> list[str]:
    """Reasons to withhold the autograded points; empty when nothing was tampered with."""
    reasons: list[str] = []
    by_id = {cell["id"]: cell for cell in result.get("cells", [])}
    for canary in plan.canaries.values():
        outcome = by_id.get(canary.id)
        if outcome is None or outcome.get("status") in ("not_run", "dead"):
            continue  # the kernel was gone: nothing to judge, and no points gained either
        if canary.expect == "fail" and not _failed(outcome):
            reasons.append(
                "a hidden check that must fail passed: the notebook changes how tests run "
                "(for example assert statements removed, errors silenced or an object that equals anything)"
            )
        elif canary.expect == "value":
            shown = [
                o.get("data", {}).get("text/plain")
                for o in outcome.get("outputs", [])
                if o.get("output_type") == "execute_result"
            ]
            if shown != [canary.value] and not _failed(outcome):
                reasons.append("displayed results are rewritten: partial-credit values cannot be trusted")
    for finding in result.get("integrity", []):
        details = "; ".join(str(d) for d in finding.get("detail", []))[:400]
        if finding.get("kind") == "own_equality":
            reasons.append(f"a checked answer is an object that decides its own equality ({details})")
        else:
            reasons.append(f"the notebook changed the grading machinery of its kernel ({details})")
    return sorted(set(reasons))
