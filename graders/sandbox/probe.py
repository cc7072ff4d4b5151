"""Runs INSIDE the kernel: a fingerprint of the state that decides whether a test cell passes.

The runner compares it before and after each cell. A change (an AST transformer, a silenced traceback,
a patched assert helper) is reported for review. Student code can also patch this module, so the probe
is a tripwire, not a proof: canary cells judge the effect from outside the kernel.
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
