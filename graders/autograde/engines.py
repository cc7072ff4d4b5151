"""One SQLAlchemy engine per gradebook while grading, instead of nbgrader's one per gradebook open.

nbgrader opens its Gradebook about ten times per submission, and each open makes a new engine, which
throws away SQLAlchemy's cache of compiled statements; compiling them again was the largest part of the
host-side time per submission. Within `shared_engines()` nbgrader gets the same engine back for the same
database URL; `Gradebook.close()` still disposes of its connections, which keeps the cache. The patch is
scoped to one grading run and restored afterwards.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import nbgrader.api
from sqlalchemy import create_engine

_lock = threading.Lock()


@contextlib.contextmanager
def shared_engines() -> Iterator[None]:
    engines: dict[tuple, object] = {}
    original = nbgrader.api.create_engine

    def cached_engine(url, *args, **kwargs):
        key = (str(url), args, tuple(sorted(kwargs.items())))
        with _lock:
            if key not in engines:
                engines[key] = create_engine(url, *args, **kwargs)
            return engines[key]

    nbgrader.api.create_engine = cached_engine
    try:
        yield
    finally:
        nbgrader.api.create_engine = original
        for engine in engines.values():
            engine.dispose()
