"""Pieces of the Ray executor that need no Ray at import time: the actor class (made
remote when a map starts), how ``work`` is pickled for the workers, and how a
pickling failure is explained.

The actor holds one unpickled copy of the map's ``work`` and runs many units at once
on its event loop. ``work`` is pickled once, in the driver, with cloudpickle; a few
things that hold live handles are rebuilt on the way instead of copied (LangChain's
in-memory rate limiter: a fresh one per worker, with the rate split evenly).
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from types import CodeType, ModuleType

__all__ = ["UnitActor", "dumps_work", "unpicklable_part"]

_DEPTH = 6


class UnitActor:
    """One Ray worker process of a map: ``run(item)`` awaits ``work(item)``.

    Made a Ray async actor (``ray.remote(UnitActor)``) when a map starts, so many
    units share its event loop.
    """

    def __init__(self, work: bytes, paths: Sequence[str] = ()) -> None:
        # The driver's import paths (e.g. an experiment's working_directory), those
        # that exist here, so the work's modules import as they did there.
        missing = [
            path for path in paths if path not in sys.path and Path(path).is_dir()
        ]
        sys.path[:0] = missing
        self._work: Callable[[object], Awaitable[object]] = pickle.loads(work)  # noqa: S301 - made by our own driver

    async def run(self, item: object) -> object:
        """The result of one unit."""
        return await self._work(item)

    def pid(self) -> int:
        """This worker's process id (for tests and for the logs)."""
        return os.getpid()

    async def flush(self) -> None:
        """Write what this worker's copy of the work keeps in memory (the response
        cache's waiting answers) before the worker is let go."""
        cache = getattr(self._work, "response_cache", None)
        flush = getattr(cache, "flush", None)
        if flush is not None:
            await flush()


def dumps_work(work: object, *, cloudpickle: ModuleType, workers: int) -> bytes:
    """``work`` pickled for ``workers`` worker processes.

    Raises:
        Exception: what the pickler raised (see :func:`unpicklable_part`).
    """
    buffer = io.BytesIO()
    pickler = _pickler(cloudpickle, workers)(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dump(work)
    return buffer.getvalue()


def _pickler(cloudpickle: ModuleType, workers: int) -> type[pickle.Pickler]:
    from clientsim.llm.travel import rebuilt as _rebuilt  # noqa: PLC0415 - loads LangChain

    base: type[pickle.Pickler] = cloudpickle.CloudPickler

    class WorkPickler(base):  # type: ignore[valid-type,misc]
        def reducer_override(self, obj: object) -> object:
            rebuilt = _rebuilt(obj, workers)
            if rebuilt is not None:
                return rebuilt
            return super().reducer_override(obj)

    return WorkPickler


def unpicklable_part(
    work: object, *, cloudpickle: ModuleType, workers: int = 1
) -> str | None:
    """Where in ``work`` the first thing that cannot be pickled sits, as a path
    (``work.build.<closure 'lock'> (lock)``); ``None`` if no part of it fails alone."""
    return _below(work, "work", cloudpickle, workers, _DEPTH)


def _below(
    obj: object, path: str, cloudpickle: ModuleType, workers: int, depth: int
) -> str | None:
    if not depth:
        return None
    for child_path, child in _children(obj, path):
        try:
            dumps_work(child, cloudpickle=cloudpickle, workers=workers)
        except Exception:  # noqa: BLE001 - any pickling failure: look closer
            deeper = _below(child, child_path, cloudpickle, workers, depth - 1)
            return deeper or f"{child_path} ({type(child).__name__})"
    return None


def _children(obj: object, path: str) -> Iterator[tuple[str, object]]:
    """The parts ``obj`` is pickled from: a function's closure variables and the
    globals it names, a container's items, an object's attributes."""
    code = getattr(obj, "__code__", None)
    if code is not None:
        yield from _function_parts(obj, code, path)
    elif isinstance(obj, list | tuple | set | frozenset):
        for index, value in enumerate(obj):
            yield f"{path}[{index}]", value
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield f"{path}[{key!r}]", value
    else:
        for name, value in _attributes(obj).items():
            yield f"{path}.{name}", value


def _function_parts(
    function: object, code: CodeType, path: str
) -> Iterator[tuple[str, object]]:
    closure = getattr(function, "__closure__", None) or ()
    for name, cell in zip(code.co_freevars, closure, strict=False):
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        yield f"{path}.<closure {name!r}>", value
    names = getattr(function, "__globals__", {})
    for name in code.co_names:
        if name in names:
            yield f"{path}.<global {name!r}>", names[name]


def _attributes(obj: object) -> dict[str, object]:
    """An object's attributes: its ``__dict__`` and its slots (a partial's
    function and arguments too)."""
    values: dict[str, object] = dict(getattr(obj, "__dict__", {}))
    names = [
        name
        for klass in type(obj).__mro__
        for name in getattr(klass, "__slots__", ())
        if isinstance(name, str)
    ]
    if isinstance(obj, functools.partial):
        names += ["func", "args", "keywords"]
    for name in names:
        if name not in values and hasattr(obj, name):
            values[name] = getattr(obj, name)
    return values
