"""How a surface that runs a batch takes its ``executor`` argument.

An :class:`~clientsim.runners.executors.Executor` instance is the caller's (it is
used, never closed); a name or config (``"ray"``, ``{"strategy": "ray", "workers":
2}``) is built through :func:`clientsim.factory.build_executor` for the batch and
closed after it; ``None`` is ``local``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from clientsim.registry import StrategyConfig
from clientsim.runners.executors import Executor


__all__ = ["ExecutorArg", "check_executor", "executor_for"]

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
