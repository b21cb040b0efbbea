"""A :class:`~clientsim.llm.budget.RateBudget` as a LangChain rate limiter, so that a
model resolved from a spec is limited even when LangChain calls it directly.

A limiter is asked only before a call, so through it a budget limits requests (and
tokens, by estimate 0); a run's model (:class:`~clientsim.llm.run_model.RunChatModel`)
finds the budget behind it and uses all of it: concurrency, tokens used, 429s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import anyio
import anyio.from_thread
from langchain_core.rate_limiters import BaseRateLimiter


if TYPE_CHECKING:
    from clientsim.llm.budget import RateBudget

__all__ = ["BudgetRateLimiter"]

T = TypeVar("T")


class BudgetRateLimiter(BaseRateLimiter):
    """Waits for a start in :attr:`budget` (see the module docstring)."""

    def __init__(self, budget: RateBudget) -> None:
        self.budget = budget

    def __repr__(self) -> str:
        return f"BudgetRateLimiter({self.budget!r})"

    @property
    def requests(self) -> int | None:
        """The budget's requests per window."""
        return self.budget.limits.requests

    @property
    def window(self) -> float:
        """The budget's window, seconds."""
        return self.budget.limits.window

    def acquire(self, *, blocking: bool = True) -> bool:
        """Wait for a start (on a worker thread's own event loop: this is the
        synchronous path)."""
        if not blocking:
            return self._try()
        self._blocking(self.budget.wait)
        return True

    async def aacquire(self, *, blocking: bool = True) -> bool:
        """Wait for a start without blocking the event loop."""
        if not blocking:
            return self._try()
        await self.budget.wait()
        return True

    def _try(self) -> bool:
        async def probe() -> float:
            return await self.budget.next_start_in()

        if self._blocking(probe) > 0:
            return False
        self._blocking(self.budget.wait)
        return True

    @staticmethod
    def _blocking(step: Callable[[], Awaitable[T]]) -> T:
        """``step`` run to its end on an event loop of its own, in a worker thread
        (LangChain's synchronous calls acquire from a thread with no loop)."""
        with anyio.from_thread.start_blocking_portal() as portal:
            return portal.call(step)
