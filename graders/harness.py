"""Plain-value checks for nbgrader test cells, importable inside the grading images.

Test cells compare what a trainee's code produced with an expected answer. Python lets any object
decide what `==` means, so a submission could return an object whose `__eq__` always says True, or a
float subclass with rigged comparisons. Every check here therefore first converts both sides to plain
built-in values (float, int, str, ... or a base NumPy float array) using the base types' own methods,
and compares only those. Objects that are not numbers, strings or containers of them are rejected.

Messages are written for the trainee ("value 'predictions' has shape (10,), expected shape (20,)").
With `hidden=True` a message never shows the expected value, only what was wrong with the actual one.

This module imports nothing but the standard library at import time: NumPy, pandas, scikit-learn and
torch are imported inside the functions that need them, because many notebooks use none of them.
"""

from __future__ import annotations

import json
import math
import operator
import random
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from fractions import Fraction
from typing import Any

__all__ = [
    "assert_array_close",
    "assert_close",
    "assert_equal",
    "assert_fitted",
    "assert_frame_equal",
    "assert_no_loops",
    "final_step",
    "partial_credit",
    "report_value",
    "self_check",
    "seeded",
    "time_budget",
]

_REPR_LIMIT = 120


class TimeBudgetExceeded(AssertionError):
    """Raised by `time_budget` when the code inside it ran too long."""


# ---------------------------------------------------------------------------------------------------
# Conversion to plain values
# ---------------------------------------------------------------------------------------------------


def _fail(message: str) -> None:
    # `from None` keeps nbgrader's feedback short: the trainee needs our sentence, not our internals.
    raise AssertionError(message) from None


def _short(value: Any) -> str:
    """A repr that fits in one line of feedback."""
    try:
        text = repr(value)
    except Exception:  # a rigged __repr__ must not hide the real failure
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 3] + "..."


def _kind(value: Any) -> str:
    return type(value).__name__


def _numpy() -> Any | None:
    """NumPy if the notebook already imported it; an object can only be a NumPy type if it did."""
    return sys.modules.get("numpy")


def _is_array_like(value: Any) -> bool:
    """NumPy arrays and scalars, pandas Series/Index and torch tensors: things NumPy can read safely."""
    module = type(value).__module__.split(".")[0]
    if module in {"numpy", "pandas", "torch"}:
        return True
    np = _numpy()  # ndarray subclasses defined in the notebook are read through the base class
    return np is not None and isinstance(value, np.ndarray | np.generic)


def _as_ndarray(value: Any, name: str) -> Any:
    """A base-class NumPy array of the values (never an ndarray subclass with its own operators)."""
    import numpy as np

    if type(value).__module__.split(".")[0] == "torch":
        value = value.detach().cpu().numpy()
    if hasattr(value, "to_numpy") and type(value).__module__.split(".")[0] == "pandas":
        value = value.to_numpy()
    try:
        # np.asarray returns the base ndarray class for subclasses, so their operators are not used.
        array = np.asarray(value)
    except Exception as error:
        _fail(f"{name} could not be read as an array: {error}")
    return array


def _plain_float(value: Any, name: str) -> float:
    """One real number as a built-in float, read through the base types' own conversion."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, float):
        # float.__float__ reads the stored double even when a subclass overrides __float__.
        return float.__float__(value)
    if isinstance(value, int):
        return float(int.__index__(value))
    if type(value) in (Fraction, Decimal):
        return float(value)
    np = _numpy()
    if np is not None and isinstance(value, np.generic | np.ndarray):
        array = np.asarray(value)
        if array.shape == () and array.dtype.kind in "biuf":
            return float(array.astype(float))
    if isinstance(value, str | bytes):
        _fail(f"{name} is the text {_short(value)}, expected a number")
    _fail(f"{name} is a {_kind(value)}, expected a number (int or float)")
    raise AssertionError  # unreachable; keeps type checkers content


def _float_array(value: Any, name: str) -> Any:
    """A NumPy float array of the values; text, complex numbers and unknown objects are rejected."""
    import numpy as np

    if isinstance(value, str | bytes):
        _fail(f"{name} is the text {_short(value)}, expected a number or numbers")
    if _is_array_like(value):
        array = _as_ndarray(value, name)
    elif isinstance(value, list | tuple) or _is_number(value):
        try:
            # NumPy reads built-in numbers (and float subclasses' stored doubles) directly; anything
            # else ends up in an object array and is converted element by element below.
            array = np.asarray(value)
        except Exception:
            array = np.asarray(value, dtype=object)
    else:
        _fail(f"{name} is a {_kind(value)}, expected a number, a list of numbers or an array")
    if array.dtype.kind in "biuf":
        return array.astype(float)
    if array.dtype.kind == "O":
        # Each element goes through the same plain conversion, so rigged elements are caught too.
        flat = [_plain_float(item, f"an element of {name}") for item in array.reshape(-1)]
        return np.array(flat, dtype=float).reshape(array.shape)
    if array.dtype.kind in "USa":
        _fail(f"{name} contains text, expected numbers")
    _fail(f"{name} has values of type {array.dtype}, expected real numbers")
    raise AssertionError  # unreachable


def _is_number(value: Any) -> bool:
    if isinstance(value, bool | int | float) or type(value) in (Fraction, Decimal):
        return True
    np = _numpy()
    return np is not None and isinstance(value, np.generic)


def _plain(value: Any, name: str) -> Any:
    """A deep copy made of built-in types only: None, bool, int, float, str, bytes, list, tuple,
    dict, set. Subclasses are rebuilt as their base type through the base type's own methods."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bytes):
        return bytes(memoryview(value))
    if type(value) in (Fraction, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {_plain(k, f"a key of {name}"): _plain(v, f"{name}[{k!r}]") for k, v in dict.items(value)}
    if isinstance(value, list):
        return [_plain(item, f"{name}[{i}]") for i, item in enumerate(list.__iter__(value))]
    if isinstance(value, tuple):
        return tuple(_plain(item, f"{name}[{i}]") for i, item in enumerate(tuple.__iter__(value)))
    if isinstance(value, set | frozenset):
        return frozenset(_plain(item, f"an element of {name}") for item in frozenset(value))
    if _is_array_like(value):
        array = _as_ndarray(value, name)
        if array.dtype.kind == "O":
            return _plain(array.tolist(), name)
        # tolist() on a base ndarray yields built-in Python values.
        return array.tolist()
    _fail(f"{name} is a {_kind(value)}, expected a plain value (number, text, list, tuple, dict or set)")


# ---------------------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------------------


def _label(name: str) -> str:
    return f"value {name!r}"


def _tolerance(rtol: float, atol: float) -> str:
    return f"(rtol={rtol:g}, atol={atol:g})"


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    name: str = "value",
    hidden: bool = False,
) -> None:
    """Numbers (or arrays of numbers) equal within |actual - expected| <= atol + rtol * |expected|.

    NaN equals NaN, so "missing stays missing" can be checked too.
    """
    label = _label(name)
    if _is_number(actual) and _is_number(expected):
        got = _plain_float(actual, label)
        want = _plain_float(expected, "the expected value")
        if math.isnan(got) and math.isnan(want):
            return
        if math.isnan(got) or abs(got - want) > atol + rtol * abs(want):
            if hidden:
                _fail(f"{label} is {got!r}, which is not the expected number {_tolerance(rtol, atol)}")
            _fail(f"{label} is {got!r}, expected {want!r} {_tolerance(rtol, atol)}")
        return
    assert_array_close(actual, expected, rtol=rtol, atol=atol, name=name, hidden=hidden)


def assert_array_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    name: str = "value",
    hidden: bool = False,
) -> None:
    """Arrays of the same shape whose elements are close (see `assert_close`)."""
    import numpy as np

    label = _label(name)
    got = _float_array(actual, label)
    want = _float_array(expected, "the expected value")
    if got.shape != want.shape:
        _fail(f"{label} has shape {got.shape}, expected shape {want.shape}")
    close = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if bool(close.all()):
        return
    wrong = np.argwhere(~close)
    where = tuple(int(i) for i in wrong[0])
    first = f"first at index {where}: got {float(got[where])!r}"
    if not hidden:
        first += f", expected {float(want[where])!r}"
    _fail(f"{label} differs at {len(wrong)} of {got.size} positions {_tolerance(rtol, atol)}; {first}")


def _difference(actual: Any, expected: Any, path: str, hidden: bool) -> str | None:
    """Where two plain values first differ, in words; None when they are equal."""
    if _is_plain_number(actual) and _is_plain_number(expected):
        if actual == expected or (_is_nan(actual) and _is_nan(expected)):
            return None
        return _mismatch(actual, expected, path, hidden)
    if isinstance(actual, list | tuple) and isinstance(expected, list | tuple):
        if len(actual) != len(expected):
            return f"{path} has {len(actual)} items, expected {len(expected)}"
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            found = _difference(a, e, f"{path}[{index}]", hidden)
            if found:
                return found
        return None
    if isinstance(actual, dict) and isinstance(expected, dict):
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"is missing {len(missing)} key(s)" + ("" if hidden else f" {_short(missing)}"))
            if extra:
                parts.append(f"has unexpected key(s) {_short(extra)}")
            return f"{path} " + " and ".join(parts)
        for key in expected:
            found = _difference(actual[key], expected[key], f"{path}[{key!r}]", hidden)
            if found:
                return found
        return None
    if type(actual) is not type(expected):
        wanted = "" if hidden else f" {_short(expected)}"
        return f"{path} is a {_kind(actual)} ({_short(actual)}), expected a {_kind(expected)}{wanted}"
    if actual == expected:
        return None
    return _mismatch(actual, expected, path, hidden)


def _is_plain_number(value: Any) -> bool:
    # True == 1 in Python, but a trainee who returns True for a count has a bug: bools stay apart.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _mismatch(actual: Any, expected: Any, path: str, hidden: bool) -> str:
    if hidden:
        return f"{path} is {_short(actual)}, which is not the expected value"
    return f"{path} is {_short(actual)}, expected {_short(expected)}"


def assert_equal(actual: Any, expected: Any, *, name: str = "value", hidden: bool = False) -> None:
    """Exact equality of plain values (numbers, text, lists, tuples, dicts, sets, arrays as lists).

    Lists and tuples compare alike (a trainee's tuple is as good as a list); True is not 1.
    """
    label = _label(name)
    got = _plain(actual, label)
    want = _plain(expected, "the expected value")
    found = _difference(got, want, label, hidden)
    if found:
        _fail(found)


def assert_frame_equal(
    actual: Any,
    expected: Any,
    *,
    check_dtype: bool = False,
    check_index: bool = True,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    name: str = "value",
    hidden: bool = False,
) -> None:
    """Two pandas DataFrames with the same shape, columns, index and (close) values.

    `check_index=False` ignores the row labels, for answers where only the order of rows matters.
    """
    import pandas as pd

    label = _label(name)
    if not isinstance(actual, pd.DataFrame):
        _fail(f"{label} is a {_kind(actual)}, expected a pandas DataFrame")
    # Rebuild as the base class, so a DataFrame subclass cannot bring its own comparison.
    got = pd.DataFrame(actual, copy=True)
    want = pd.DataFrame(expected, copy=True)
    if not check_index:
        got = got.reset_index(drop=True)
        want = want.reset_index(drop=True)
    if got.shape != want.shape:
        _fail(f"{label} has shape {got.shape} (rows, columns), expected shape {want.shape}")
    got_columns = [str(c) for c in got.columns]
    want_columns = [str(c) for c in want.columns]
    if got_columns != want_columns:
        missing = [c for c in want_columns if c not in got_columns]
        if missing and not hidden:
            _fail(f"{label} has columns {got_columns}, expected {want_columns} (missing {missing})")
        if missing:
            _fail(f"{label} has columns {got_columns}; {len(missing)} expected column(s) are missing")
        _fail(f"{label} has the right columns in a different order: {got_columns}")
    options = {"check_dtype": check_dtype, "rtol": rtol, "atol": atol}
    try:
        pd.testing.assert_index_equal(got.index, want.index, exact=False)
    except AssertionError as error:
        _fail(f"{label} has a different index (row labels)" + ("" if hidden else f": {error}"))
    for column in want.columns:
        try:
            pd.testing.assert_series_equal(got[column], want[column], check_names=False, **options)
        except AssertionError as error:
            detail = "" if hidden else f": {str(error).strip()}"
            _fail(f"{label} differs in column {str(column)!r}{detail}")


def assert_fitted(model: Any, *, name: str = "model") -> None:
    """A scikit-learn estimator (or pipeline) on which `fit` has been called."""
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    label = f"{name} {name!r}" if name != "model" else "the model"
    if not isinstance(model, BaseEstimator):
        _fail(f"{label} is a {_kind(model)}, expected a scikit-learn estimator such as LinearRegression()")
    try:
        check_is_fitted(model)
    except NotFittedError:
        _fail(f"{label} ({_kind(model)}) has not been fitted yet: call .fit(X, y) on it first")


def partial_credit(value: Any, low: float, high: float, points: float) -> float:
    """Points scaled linearly: `low` earns 0, `high` earns all, values beyond are clamped.

    `high` may be below `low` for "smaller is better" scores such as an error. Make the result the
    last expression of a test cell and nbgrader records it as that cell's partial credit.
    """
    score = _plain_float(value, _label("score"))
    low_f, high_f, points_f = (_plain_float(x, "a partial_credit bound") for x in (low, high, points))
    if low_f == high_f:
        raise ValueError("partial_credit needs low != high")
    if math.isnan(score):
        return 0.0
    fraction = min(1.0, max(0.0, (score - low_f) / (high_f - low_f)))
    return round(points_f * fraction, 2)


@contextmanager
def seeded(seed: int = 0) -> Iterator[None]:
    """Seeds `random`, NumPy and torch (when installed) for reproducible checks, then restores the
    previous random state so the rest of the notebook is unaffected."""
    import importlib.util

    seed = operator.index(seed)
    saved_random = random.getstate()
    random.seed(seed)
    np = None
    torch = None
    if importlib.util.find_spec("numpy") is not None:
        import numpy as np

        saved_numpy = np.random.get_state()
        np.random.seed(seed)
    if importlib.util.find_spec("torch") is not None:
        import torch

        saved_torch = torch.random.get_rng_state()
        torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(saved_random)
        if np is not None:
            np.random.set_state(saved_numpy)
        if torch is not None:
            torch.random.set_rng_state(saved_torch)


@contextmanager
def time_budget(seconds: float, *, name: str = "this step") -> Iterator[None]:
    """Fails with a clear message when the code inside takes longer than `seconds`.

    On the main thread an interval timer interrupts runaway code at the deadline, so an endless loop
    is reported as too slow instead of running into the notebook's cell timeout. The elapsed time is
    checked again on exit, in case the submission caught the interruption.
    """
    limit = _plain_float(seconds, "the time budget")
    message = (
        f"{name} took longer than its time budget of {limit:g} s; look for loops that could be vectorised"
    )
    use_timer = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    previous_handler: Any = None

    def interrupt(signum: int, frame: Any) -> None:
        raise TimeBudgetExceeded(message)

    outer_remaining = 0.0
    if use_timer:
        previous_handler = signal.signal(signal.SIGALRM, interrupt)
        outer_remaining = signal.setitimer(signal.ITIMER_REAL, limit)[0]
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        if use_timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
            if outer_remaining > 0:  # an enclosing time_budget keeps its own deadline
                signal.setitimer(signal.ITIMER_REAL, max(outer_remaining - elapsed, 1e-3))
    if elapsed > limit:
        raise TimeBudgetExceeded(f"{name} took {elapsed:.2f} s, longer than its time budget of {limit:g} s")


# ---------------------------------------------------------------------------------------------------
# Stated constraints and lesson practice
# ---------------------------------------------------------------------------------------------------

_LOOP_NODES = ("For", "AsyncFor", "While", "ListComp", "SetComp", "DictComp", "GeneratorExp")
_LOOPING_CALLS = ("vectorize", "apply_along_axis", "map", "frompyfunc")


def _loops_in(func: Any, seen: set[int]) -> list[str]:
    """Loops in `func` and in the notebook functions it calls, as 'where: what' lines."""
    import ast
    import inspect
    import textwrap

    if id(func) in seen:
        return []
    seen.add(id(func))
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return [f"{getattr(func, '__name__', func)!s}: its source cannot be read, so it cannot be checked"]
    name = getattr(func, "__name__", "function")
    found: list[str] = []
    called: list[str] = []
    for node in ast.walk(tree):
        kind = type(node).__name__
        if kind in _LOOP_NODES:
            found.append(f"{name}, line {getattr(node, 'lineno', '?')}: a Python {kind.lower()}")
        if isinstance(node, ast.Call):
            target = node.func
            called_name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if called_name in _LOOPING_CALLS:
                found.append(f"{name}, line {node.lineno}: {called_name}() loops in Python")
            elif isinstance(target, ast.Name):
                called.append(target.id)
    namespace = getattr(func, "__globals__", {})
    for helper_name in called:
        helper = namespace.get(helper_name)
        # Only the notebook's own functions: library code (NumPy, pandas) may loop in C or Python freely.
        if inspect.isfunction(helper) and getattr(helper, "__module__", None) == func.__module__:
            found += _loops_in(helper, seen)
    return found


def assert_no_loops(func: Any, *, name: str | None = None) -> None:
    """Fails when `func`, or a notebook function it calls, contains a Python loop or comprehension.

    For tasks that state "no Python loops": the rule is checked on the code, not only written down.
    """
    if not callable(func):
        _fail(f"{_label(name or 'value')} is a {_kind(func)}, expected a function")
    loops = _loops_in(func, set())
    if loops:
        _fail(
            f"{name or getattr(func, '__name__', 'the function')} must not use Python loops: "
            + "; ".join(loops[:3])
            + " (use vectorised NumPy/pandas operations instead)"
        )


def final_step(model: Any) -> Any:
    """The estimator at the end of a scikit-learn Pipeline (or the model itself), for checks such as
    `isinstance(final_step(model), RandomForestClassifier)` that enforce a required model family."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps:
        return final_step(steps[-1][1])
    return model


@contextmanager
def self_check(name: str) -> Iterator[None]:
    """For practice exercises in lessons: runs the checks inside, then prints whether they passed.

    It never raises, so a lesson runs top to bottom with exercises still blank, and the trainee sees
    "not right yet" with the reason (write the checks with `hidden=True` so the answer is not shown).
    """
    try:
        yield
    except NotImplementedError:
        print(f"[ ] {name}: not done yet")
    except Exception as error:  # any mistake in the trainee's code is feedback, not a crash
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"[x] {name}: not right yet: {reason}")
    else:
        print(f"[ok] {name}: correct")


# ---------------------------------------------------------------------------------------------------
# Verdicts outside the kernel (see graders/verdicts.py)
# ---------------------------------------------------------------------------------------------------

REPORT_MIME = "application/vnd.bootcamp.check+json"


def tag(value: Any) -> Any:
    """A plain value as JSON that keeps the distinctions Python's `==` makes (tuple vs list, sets)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, tuple):
        return {"tuple": [tag(item) for item in value]}
    if isinstance(value, list):
        return [tag(item) for item in value]
    if isinstance(value, dict):
        return {"dict": [[tag(k), tag(v)] for k, v in value.items()]}
    if isinstance(value, frozenset | set):
        return {"set": [tag(item) for item in value]}
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    raise TypeError(f"cannot carry a {_kind(value)}")


def untag(value: Any) -> Any:
    """The inverse of `tag`."""
    if isinstance(value, list):
        return [untag(item) for item in value]
    if isinstance(value, dict):
        ((key, inner),) = value.items()
        if key == "float":
            return float(inner)
        if key == "tuple":
            return tuple(untag(item) for item in inner)
        if key == "dict":
            return {untag(k): untag(v) for k, v in inner}
        if key == "set":
            return frozenset(untag(item) for item in inner)
        if key == "bytes":
            return bytes.fromhex(inner)
        if key in ("array", "dtype"):
            return {key: untag(inner)}
        raise ValueError(f"unknown tag {key!r}")
    return value


def _own_equality(value: Any, depth: int = 0) -> str:
    """Names a class defined in the notebook that decides its own equality, if the value (or an item of
    a list, tuple or dict in it) is one: the shape of an always-equal answer, worth an instructor's look."""
    for klass in type(value).__mro__[:-1]:
        if klass.__module__ == "__main__" and ({"__eq__", "__ne__"} & set(vars(klass))):
            return f"{type(value).__name__} defines its own equality in the notebook"
    if depth < 2 and isinstance(value, list | tuple | dict):
        items = list(dict.values(value)) if isinstance(value, dict) else list(value)
        return next((found for item in items[:50] if (found := _own_equality(item, depth + 1))), "")
    return ""


def report_value(check_id: str, value: Any) -> None:
    """Hands the value under test to the runner, which holds the expected value and gives the verdict.

    The host rewrote the check into this call; the kernel never sees the expected value. Values go as
    plain JSON (arrays as nested lists); anything that is not a plain value is reported as such and the
    check fails, as the harness's own checks would fail it.
    """
    try:
        if _is_array_like(value) and getattr(_as_ndarray(value, "value"), "ndim", 0) > 0:
            payload: dict[str, Any] = {"value": {"array": tag(_plain(value, "the value"))}}
        elif (
            type(value).__module__.split(".")[0] in ("numpy", "pandas")
            and "dtype" in type(value).__name__.lower()
        ):
            payload = {"value": {"dtype": str.__str__(str(value))}}
        else:
            payload = {"value": tag(_plain(value, "the value"))}
    except Exception as error:  # the verdict is the runner's: it fails the check with this reason
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        payload = {"error": message[:300]}
    suspect = _own_equality(value)
    if suspect:
        payload["suspicious"] = suspect
    payload["id"] = str(check_id)
    from IPython.display import publish_display_data

    publish_display_data({REPORT_MIME: json.dumps(payload)})
