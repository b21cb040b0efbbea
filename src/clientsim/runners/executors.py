"""Executors: where a batch's units of work run.

Every surface that runs many independent units (the batch runner's conversations, and
through it the experiment files, :func:`~clientsim.simulate`, the pytest fixture and
the population runners) hands them to one :class:`Executor`:

- ``local`` (:class:`LocalExecutor`, the default): an anyio task group in this
  process, at most ``limit`` units at once;
- ``ray`` (:class:`~clientsim.runners.ray_executor.RayExecutor`, the ``ray`` extra):
  Ray async actors, many units per actor, results streamed back to this process.

An executor is chosen by name, from Python (``executor="ray"``), a file
(``executor: {strategy: ray, workers: 2}``) or the command line (``--executor ray``),
through :func:`clientsim.factory.build_executor`; plugins add theirs with the
``clientsim_register_executors`` hook.

The contract (:meth:`Executor.map`): ``work(item)`` runs for every item, at most
``limit`` at once; ``on_result(item, result)`` runs in the caller's process, one
finished unit at a time as they finish, so the caller (not the workers) writes the
store. ``work`` must not raise for a unit that merely failed (it records the failure
in its result); a :class:`~clientsim.errors.ConfigError` it raises stops the whole
map and propagates as itself. A remote executor pickles ``work`` (with cloudpickle)
and runs a unit again elsewhere if the process running it dies, so ``work`` must be
deterministic for an item (the batch runner's conversations are: each is seeded from
the run seed and its cell).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, ClassVar, Self, TypeVar

import anyio

from clientsim._runtime import task_group
from clientsim._validators import check_int, check_seconds
from clientsim.registry import StrategyConfig


if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "Executor",
    "ExecutorArg",
    "LocalExecutor",
    "OnResult",
    "Work",
    "check_executor",
    "executor_for",
]

T = TypeVar("T")
R = TypeVar("R")

Work = Callable[[T], Awaitable[R]]
"""``work(item) -> result``: one unit (for a remote executor, picklable)."""

OnResult = Callable[[T, R], Awaitable[None]]
"""``on_result(item, result)``: called in the caller's process as each unit finishes."""


class Executor(ABC):
    """Runs units of work; see the module docstring.

    An executor may hold resources (a Ray connection, actors); use it with
    ``async with`` or call :meth:`aclose`. One executor may run several maps one
    after another.
    """

    name: ClassVar[str] = ""
    """The name it is registered under (``local``, ``ray``, ...)."""

    @abstractmethod
    async def map(
        self,
        work: Work[T, R],
        items: AsyncIterable[T],
        *,
        limit: int,
        on_result: OnResult[T, R],
        delay_seconds: float = 0.0,
    ) -> None:
        """Run ``work(item)`` for every item of ``items``, at most ``limit`` at once.

        Items are taken one at a time, as a slot frees, so an endless or huge source
        is never held in memory. ``on_result`` is awaited in this process once per
        item, as each finishes (never two at once for one slot; a slot is freed only
        after its ``on_result`` returns).

        Cancellation (Ctrl-C, a caller's deadline) stops taking items, cancels the
        units in flight (on every worker) and propagates. ``on_result`` is cancelled
        with the rest: it shields what must finish (the batch runner shields its
        store write).

        Args:
            work: the unit of work.
            items: the units' inputs.
            limit: how many units run at once, in total over every worker (>= 1).
            on_result: what to do with each finished unit.
            delay_seconds: the pause between two starts (>= 0).

        Raises:
            ConfigError: ``work`` raised one (nothing new is started after it), or a
                bad ``limit`` / ``delay_seconds``.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release what the executor holds (idempotent)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with anyio.CancelScope(shield=True):
            await self.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class LocalExecutor(Executor):
    """Units as tasks of one anyio task group in this process (the default).

    Example:
        >>> import anyio
        >>> async def items():
        ...     for number in range(5):
        ...         yield number
        >>> async def square(number):
        ...     return number * number
        >>> async def main():
        ...     seen = []
        ...     async def keep(number, result):
        ...         seen.append(result)
        ...     await LocalExecutor().map(square, items(), limit=2, on_result=keep)
        ...     return sorted(seen)
        >>> anyio.run(main)
        [0, 1, 4, 9, 16]
    """

    name: ClassVar[str] = "local"

    async def map(
        self,
        work: Work[T, R],
        items: AsyncIterable[T],
        *,
        limit: int,
        on_result: OnResult[T, R],
        delay_seconds: float = 0.0,
    ) -> None:
        check_int("limit", limit, low=1)
        check_seconds("delay_seconds", delay_seconds, zero=True)
        slots = anyio.CapacityLimiter(limit)

        async def slot(token: object, item: T) -> None:
            try:
                await on_result(item, await work(item))
            finally:
                slots.release_on_behalf_of(token)

        started = 0
        # A ConfigError from any unit comes out as itself (no group).
        async with task_group() as group:
            async for item in items:
                if started and delay_seconds:
                    await anyio.sleep(delay_seconds)
                started += 1
                token = object()
                await slots.acquire_on_behalf_of(token)
                group.start_soon(slot, token, item)


ExecutorArg = Executor | StrategyConfig | None
"""What a batch surface accepts as ``executor=``."""


def check_executor(executor: ExecutorArg) -> None:
    """Check a name or config before any work starts.

    Raises:
        UnknownStrategyError: no executor of that name (the message lists them).
        ConfigError: an option the executor does not take.
    """
    if executor is not None and not isinstance(executor, Executor):
        from clientsim.factory import executors  # noqa: PLC0415

        executors.check(executor)


@asynccontextmanager
async def executor_for(executor: ExecutorArg) -> AsyncIterator[Executor]:
    """The executor to run a batch on, closed afterwards if it was built here."""
    if isinstance(executor, Executor):
        yield executor
        return
    from clientsim.factory import build_executor  # noqa: PLC0415

    built = build_executor(executor if executor is not None else "local")
    try:
        yield built
    finally:
        with anyio.CancelScope(shield=True):
            await built.aclose()
