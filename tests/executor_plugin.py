"""A plugin executor for the tests: it runs every unit through ``LocalExecutor`` and
records the key of each unit it ran, in :data:`RAN` (this process) and, when the
``RECORDING_EXECUTOR_LOG`` environment variable names a file, one key a line there
(a child process). Its source is also written into a fake distribution for the CLI's
child processes, so it must stay self-contained."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable
from pathlib import Path
from typing import Any, ClassVar

import anyio

from clientsim.plugins import hookimpl
from clientsim.runners.executors import LocalExecutor, OnResult, Work


RAN: list[str] = []
"""The keys of the units run in this process, in the order they finished."""


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")


class RecordingExecutor(LocalExecutor):
    """``LocalExecutor`` that writes down what it ran; ``label`` is an option a file
    may give, to check that options reach the factory."""

    name: ClassVar[str] = "recording"
    built: ClassVar[list[str]] = []

    def __init__(self, *, label: str = "") -> None:
        self.label = label
        RecordingExecutor.built.append(label)

    async def map(
        self,
        work: Work[Any, Any],
        items: AsyncIterable[Any],
        *,
        limit: int,
        on_result: OnResult[Any, Any],
        delay_seconds: float = 0.0,
    ) -> None:
        async def recorded(item: Any) -> Any:
            result = await work(item)
            key = item.cell.key
            RAN.append(key)
            log = os.environ.get("RECORDING_EXECUTOR_LOG")
            if log:
                await anyio.to_thread.run_sync(
                    _append, Path(log), f"{self.label}|{key}"
                )
            return result

        await super().map(
            recorded,
            items,
            limit=limit,
            on_result=on_result,
            delay_seconds=delay_seconds,
        )


@hookimpl
def clientsim_register_executors(register: Any) -> None:
    """Register :class:`RecordingExecutor` as ``recording``."""
    register("recording", RecordingExecutor)
