"""Verdicts outside the kernel: expected values of checks never enter the student's kernel.

A test cell such as

    harness.assert_close(mean([1, 2]), 1.5, name="mean")
    assert add(1, 2) == 3

hands the kernel both the value under test and the expected value, so code already running there (an
AST transformer, a patched helper, an object whose `__eq__` looks at its argument) can pass the check
without the right answer, or spare only the checks it recognises as canaries. We take the verdict away
from the kernel: on the host, each check whose expected value is a literal is rewritten into

    harness.report_value("v3f9c...", mean([1, 2]))

The kernel computes only the value under test and reports it as plain JSON (numbers, text, lists;
anything else is reported as unconvertible). The runner, PID 1 outside the kernel's reach, holds the
expected values, compares them with the same plain-value rules graders.harness uses, strips the reports
from the outputs, and adds an AssertionError to the cell when a check fails or its report is missing or
duplicated. A kernel that never sees the expected value cannot spare the real checks.

Only checks that certainly run (top level or inside `with`) and whose expected value is a literal are
moved; anything else stays in the kernel, watched by canaries as before.
"""

from __future__ import annotations

import ast
import secrets
from dataclasses import dataclass
from typing import Any

from graders.harness import tag
from graders.integrity import always_run_statements

# check name -> (kind the runner judges by, default rtol, default atol)
_HARNESS = {
    "assert_close": ("assert_close", 1e-6, 1e-9),
    "assert_array_close": ("assert_array_close", 1e-6, 1e-9),
    "assert_equal": ("assert_equal", 0.0, 0.0),
}
_NUMPY_TESTING = {
    "assert_allclose": ("np_assert_allclose", 1e-7, 0.0),
    "assert_array_equal": ("np_assert_array_equal", 0.0, 0.0),
}
REPORT_CALL = "__import__('graders.harness', fromlist=['report_value']).report_value"


@dataclass(frozen=True)
class Check:
    """One check moved out of the kernel: what the runner compares the reported value with."""

    id: str
    cell: str
    # a harness check's name, "np_assert_allclose" / "np_assert_array_equal", "eq" (Python ==), or
    # "partial_credit" (expected = [low, high, points]; the runner displays the points it computes)
    kind: str
    expected: Any
    rtol: float
    atol: float
    name: str
    hidden: bool = False

    def for_runner(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cell": self.cell,
            "kind": self.kind,
            "expected": tag(self.expected),
            "rtol": self.rtol,
            "atol": self.atol,
            "name": self.name,
            "hidden": self.hidden,
        }


def _literal(node: ast.expr) -> tuple[bool, Any]:
    """(True, value) when the node is a literal that JSON can carry exactly."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None
    return _jsonable(value), value


def _jsonable(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return not isinstance(value, int) or abs(value) < 2**53
    if isinstance(value, list | tuple):
        return all(_jsonable(item) for item in value)
    return False


def _call_name(call: ast.Call) -> str:
    return getattr(call.func, "attr", None) or getattr(call.func, "id", None) or ""


def _keyword_literals(call: ast.Call) -> dict[str, Any] | None:
    found = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            return None  # **kwargs: cannot know the tolerances
        ok, value = _literal(keyword.value)
        if not ok:
            return None
        found[keyword.arg] = value
    return found


def _harness_check(call: ast.Call) -> tuple[str, float, float, str, bool, ast.expr, Any] | None:
    """(kind, rtol, atol, name, actual node, expected) for a movable harness or numpy.testing check."""
    name = _call_name(call)
    table = _HARNESS if name in _HARNESS else _NUMPY_TESTING if name in _NUMPY_TESTING else None
    if table is None or len(call.args) < 2 or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    if len(call.args) > 2:
        return None  # positional tolerances or messages: leave it in the kernel
    keywords = _keyword_literals(call)
    if keywords is None:
        return None
    allowed = {"rtol", "atol", "name", "hidden"} if table is _HARNESS else {"rtol", "atol", "err_msg"}
    if set(keywords) - allowed:
        return None
    ok, expected = _literal(call.args[1])
    if not ok:
        return None
    kind, rtol, atol = table[name]
    label = str(keywords.get("name") or "value")
    hidden = bool(keywords.get("hidden", False))
    return (
        kind,
        float(keywords.get("rtol", rtol)),
        float(keywords.get("atol", atol)),
        label,
        hidden,
        call.args[0],
        expected,
    )


def _partial_credit(call: ast.Call) -> tuple[str, float, float, str, bool, ast.expr, Any] | None:
    """`harness.partial_credit(metric, low, high, points)` as the cell's last expression, bounds literal:
    the runner computes the points from the reported metric and displays them itself."""
    if _call_name(call) != "partial_credit" or call.keywords or len(call.args) != 4:
        return None
    bounds = [_literal(arg) for arg in call.args[1:]]
    if not all(ok and isinstance(value, int | float) and not isinstance(value, bool) for ok, value in bounds):
        return None
    return "partial_credit", 0.0, 0.0, "score", False, call.args[0], [float(value) for _, value in bounds]


def _assert_check(statement: ast.Assert) -> tuple[str, float, float, str, bool, ast.expr, Any] | None:
    """`assert <expr> == <literal>` (either side), the plain form most nbgrader courses use."""
    test = statement.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return None
    left, right = test.left, test.comparators[0]
    for actual, literal in ((left, right), (right, left)):
        ok, expected = _literal(literal)
        if ok:
            if _literal(actual)[0]:
                return None  # literal == literal: nothing of the student's is checked
            return "eq", 0.0, 0.0, "value", False, actual, expected
    return None


def _report_statement(check_id: str, actual: str, like: ast.stmt) -> str:
    indent = " " * like.col_offset
    return f"{indent}{REPORT_CALL}({check_id!r}, ({actual}))"


def extract_checks(cell_id: str, source: str) -> tuple[str, list[Check]]:
    """The cell's source with its movable checks replaced by reports, and the checks moved out.

    The source keeps every other line as it was, so tracebacks and line numbers stay meaningful."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source, []
    lines = source.splitlines(keepends=True)
    replacements: list[tuple[ast.stmt, str]] = []
    checks: list[Check] = []
    last = tree.body[-1] if tree.body else None
    for statement in always_run_statements(tree.body):
        found = None
        if statement is last and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            found = _partial_credit(statement.value)
        if found is None and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            found = _harness_check(statement.value)
        elif isinstance(statement, ast.Assert):
            found = _assert_check(statement)
        if found is None or statement.end_lineno is None:
            continue
        kind, rtol, atol, name, hidden, actual, expected = found
        actual_source = ast.get_source_segment(source, actual)
        if actual_source is None:
            continue
        check = Check(f"v{secrets.token_hex(8)}", cell_id, kind, expected, rtol, atol, name, hidden)
        checks.append(check)
        replacements.append((statement, _report_statement(check.id, actual_source, statement)))
    # from the bottom up, so that earlier line numbers stay valid
    for statement, text in sorted(replacements, key=lambda item: item[0].lineno, reverse=True):
        first, last = statement.lineno - 1, statement.end_lineno - 1  # type: ignore[operator]
        prefix = lines[first][: statement.col_offset] if statement.col_offset else ""
        if prefix.strip() or (lines[last][statement.end_col_offset :].strip() not in ("", "\\")):
            continue  # shares its line with another statement (`a = 1; assert ...`): leave it alone
        # keep the line count: the report on the first line, blank lines for the rest
        lines[first : last + 1] = [text + "\n"] + ["\n"] * max(0, last - first - text.count("\n"))
    rewritten = "".join(lines)
    # a check left in place (it shares its line with another statement) is judged in the kernel as before
    return rewritten, [check for check in checks if check.id in rewritten]
