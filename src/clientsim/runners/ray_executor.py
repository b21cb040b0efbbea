"""The Ray executor: a batch's conversations on Ray async actors (the ``ray`` extra).

FOUNDATION PLACEHOLDER: the Ray helper replaces this module (see /tmp/issue14_design.md).
Importing this module must not import ray; ray is imported when a map starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping
from typing import ClassVar, TypeVar

from clientsim.runners.executors import Executor, OnResult, Work


__all__ = ["RayExecutor"]

T = TypeVar("T")
R = TypeVar("R")


class RayExecutor(Executor):
    """Units on Ray async actors."""

    name: ClassVar[str] = "ray"

    def __init__(
        self,
        *,
        address: str | None = None,
        workers: int | None = None,
        runtime_env: Mapping[str, object] | None = None,
    ) -> None:
        self.address = address
        self.workers = workers
        self.runtime_env = runtime_env

    async def map(
        self,
        work: Work[T, R],
        items: AsyncIterable[T],
        *,
        limit: int,
        on_result: OnResult[T, R],
        delay_seconds: float = 0.0,
    ) -> None:
        raise NotImplementedError("the Ray helper implements this")
