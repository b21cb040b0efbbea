"""A plugin's executor for tests: every unit goes through pickle, as it would to reach
a remote worker, and is recorded, so a test can see the work went through it."""

from __future__ import annotations

import pickle
from collections.abc import AsyncIterable
from typing import Any, ClassVar, TypeVar

from clientsim import hookimpl
from clientsim.runners.executors import Executor, LocalExecutor, OnResult, Work


__all__ = ["ExecutorPlugin", "RecordingExecutor", "round_trip"]

T = TypeVar("T")


def round_trip(value: T) -> T:
    """``value`` after a trip through pickle (our own bytes, never untrusted)."""
    again: T = pickle.loads(pickle.dumps(value))  # noqa: S301 - bytes made just now
    return again


class RecordingExecutor(Executor):
    """Runs units in this process, each shipped through pickle; keeps every unit."""

    name: ClassVar[str] = "recording"
    units: ClassVar[list[Any]] = []
    limits: ClassVar[list[int]] = []

    async def map(
        self,
        work: Work[Any, Any],
        items: AsyncIterable[Any],
        *,
        limit: int,
        on_result: OnResult[Any, Any],
        delay_seconds: float = 0.0,
    ) -> None:
        self.limits.append(limit)
        shipped = round_trip(work)

        async def remote(item: Any) -> Any:
            self.units.append(item)
            return round_trip(await shipped(round_trip(item)))

        await LocalExecutor().map(
            remote, items, limit=limit, on_result=on_result, delay_seconds=delay_seconds
        )


class ExecutorPlugin:
    """Registers :class:`RecordingExecutor` as ``recording``."""

    @hookimpl
    def clientsim_register_executors(self, register: Any) -> None:
        register("recording", RecordingExecutor)
