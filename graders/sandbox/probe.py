"""Runs INSIDE the kernel: a fingerprint of the state that decides whether a test cell passes.

The runner compares it before and after each cell. A change (an AST transformer, a silenced traceback,
a patched assert helper, a replaced numpy function a hidden metric relies on) is reported for review.

Two layers. `fingerprint` describes where each piece comes from (installed code or a notebook cell).
`arm`, run by the runner before any student code, records the *identity* of every watched object (the
hook lists themselves and each member, numpy's and the harness's functions, key builtins) and leaves
a checker under a random name chosen per kernel; the runner calls that checker, not this module's
attributes, so replacing `probe.fingerprint` or a list's `__len__` no longer blinds it. Student code can
still reach anything in its own process, so the probe is a tripwire, not a proof: verdicts outside the
kernel (graders.verdicts) and canary cells judge the effect from outside.
"""

from __future__ import annotations

import builtins
import json
import os
import sys

_BUILTINS = (
    "AssertionError",
    "isinstance",
    "float",
    "int",
    "len",
    "abs",
    "round",
    "sum",
    "print",
    "__import__",
)
_SHELL_METHODS = (
    "run_cell",
    "run_ast_nodes",
    "run_code",
    "showtraceback",
    "_showtraceback",
    "transform_cell",
)
_NUMPY_CHECKS = ("allclose", "isclose", "array_equal")
_NUMPY_TESTING = (
    "assert_allclose",
    "assert_array_equal",
    "assert_equal",
    "assert_almost_equal",
    "assert_array_almost_equal",
)


# The grading package itself (graders.harness) counts as installed wherever it lives: /opt/bootcamp in
# the images, the source checkout for the local sandbox.
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_INSTALLED = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, _PACKAGE_ROOT, "/usr/lib/python3"})


def _origin(obj: object) -> str:
    """'installed' for code from the image's libraries; otherwise where it came from (a notebook cell)."""
    if obj is None:
        return "missing"
    code = getattr(obj, "__code__", None) or getattr(getattr(obj, "__func__", None), "__code__", None)
    if code is None:
        module = getattr(obj, "__module__", None) or type(obj).__module__
        return "installed" if module in ("builtins", "numpy") or module is None else f"module {module}"
    filename = code.co_filename
    return "installed" if filename.startswith(_INSTALLED) else f"defined in {filename}"


def fingerprint() -> str:
    state: dict[str, object] = {}
    from IPython import get_ipython

    ip = get_ipython()
    state["ast_transformers"] = len(ip.ast_transformers)
    state["input_transformers_post"] = len(ip.input_transformers_post)
    state["input_transformers_cleanup"] = len(ip.input_transformers_cleanup)
    for event in ("pre_run_cell", "pre_execute"):
        callbacks = ip.events.callbacks.get(event, [])
        state[f"events.{event}"] = sorted(
            {_origin(cb) for cb in callbacks if not getattr(cb, "__module__", "").startswith("IPython.")}
        )
    state["sys.excepthook"] = _origin(sys.excepthook)
    state["sys.displayhook"] = type(sys.displayhook).__name__
    state["shell.displayhook"] = type(ip.displayhook).__name__
    for name in _SHELL_METHODS:
        state[f"shell.{name}"] = (
            "replaced on the shell" if name in vars(ip) else _origin(getattr(type(ip), name, None))
        )
    for name in _BUILTINS:
        value = getattr(builtins, name, None)
        module = getattr(value, "__module__", None)
        state[f"builtins.{name}"] = "installed" if module == "builtins" else f"replaced ({module})"
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        for name in _NUMPY_CHECKS:
            state[f"numpy.{name}"] = _origin(getattr(numpy, name, None))
        testing = sys.modules.get("numpy.testing")
        if testing is not None:
            for name in _NUMPY_TESTING:
                state[f"numpy.testing.{name}"] = _origin(getattr(testing, name, None))
    harness = sys.modules.get("graders.harness")
    if harness is not None:
        for name in ("assert_close", "assert_equal", "partial_credit"):
            state[f"harness.{name}"] = _origin(getattr(harness, name, None))
    return json.dumps(state, sort_keys=True)


_IDENTITY_BUILTINS = _BUILTINS + (
    "open", "type", "repr", "str", "min", "max", "sorted", "any", "all", "compile", "exec", "eval",
    "getattr", "setattr", "Exception", "BaseException", "KeyboardInterrupt",
)  # fmt: skip
_HOOK_LISTS = ("ast_transformers", "input_transformers_post", "input_transformers_cleanup")
_WATCHED_EVENTS = ("pre_run_cell", "pre_execute")
_WATCHED_MODULES = ("numpy", "numpy.testing", "numpy.linalg", "graders.harness", "sklearn.metrics")


def _members(items: object) -> tuple[int, ...]:
    # list.__iter__ reads the real items even when a list subclass lies about its length or iteration
    return tuple(id(item) for item in list.__iter__(items)) if isinstance(items, list) else (-1,)


def identities() -> dict[str, object]:
    """The identity (type and id) of every object whose replacement could change a test's outcome."""
    from IPython import get_ipython

    ip = get_ipython()
    table: dict[str, object] = {}
    for name in _HOOK_LISTS:
        items = vars(ip).get(name, getattr(ip, name, None))
        table[name] = (type(items) is list, id(items), _members(items))
    for event in _WATCHED_EVENTS:
        callbacks = ip.events.callbacks.get(event)
        table[f"events.{event}"] = (type(callbacks) is list, id(callbacks), _members(callbacks))
    table["events.callbacks"] = (type(ip.events.callbacks) is dict, id(ip.events.callbacks))
    table["sys.excepthook"] = id(sys.excepthook)
    table["sys.displayhook"] = id(sys.displayhook)
    for name in _SHELL_METHODS:
        table[f"shell.{name}"] = (
            id(vars(type(ip)).get(name, getattr(type(ip), name, None))),
            name in vars(ip),
        )
    for name in _IDENTITY_BUILTINS:
        table[f"builtins.{name}"] = id(vars(builtins).get(name))
    for module_name in _WATCHED_MODULES:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for name, value in list(vars(module).items()):
            if callable(value) and not name.startswith("__"):
                table[f"{module_name}.{name}"] = id(value)
    return table


def arm(token: str) -> None:
    """Records the identities before any student code runs and leaves the checker at builtins.<token>.

    The harness is imported first, so that a notebook that patches it in the same cell that imports it
    is still compared with the real one; `check.watch(modules)` does the same for numpy once the job is
    known (the runner calls it before the first cell of a notebook that may use numpy)."""
    import importlib

    def _import(names: list[str]) -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - an image without numpy watches what it has
                pass

    _import(["graders.harness"])
    baseline = identities()
    describe, take = fingerprint, identities  # held here: later changes to this module do not matter
    loads, dumps = json.loads, json.dumps

    def check() -> str:
        state = loads(describe())
        now = take()
        changed = sorted(key for key, value in baseline.items() if now.get(key) != value)
        for key, value in now.items():  # watched modules imported later: remember their first state
            baseline.setdefault(key, value)
        state["identity"] = changed[:20]
        return dumps(state, sort_keys=True)

    def watch(names: list[str]) -> None:
        _import(names)
        for key, value in take().items():
            baseline.setdefault(key, value)

    check.watch = watch  # type: ignore[attr-defined]
    vars(builtins)[token] = check
