"""A sliding-window rate limiter for LangChain chat models.

:class:`WindowRateLimiter` lets at most ``requests`` calls start in any ``window``
seconds. A call books the earliest start the window allows and waits until then (one
sleep, no polling), so waiting calls start in the order they asked, on any event
loop or thread of the process. It is what ``RATE_LIMIT_REQUESTS`` and
``RATE_LIMIT_WINDOW`` set up for each provider (see :mod:`clientsim.llm.rates`).
"""

from __future__ import annotations

import collections
import math
import threading
import time

import anyio
from langchain_core.rate_limiters import BaseRateLimiter

from clientsim.errors import ConfigError


__all__ = ["WindowRateLimiter"]


class WindowRateLimiter(BaseRateLimiter):
    """At most ``requests`` calls start in any ``window`` seconds.

    A cancelled wait keeps its booking, so the limit errs on the safe side.

    Args:
        requests: calls per window, a whole number > 0.
        window: the window, seconds > 0.

    Raises:
        ConfigError: a bad ``requests`` or ``window``.

    Example:
        >>> limiter = WindowRateLimiter(2, 60)
        >>> [limiter.acquire(blocking=False) for _ in range(3)]
        [True, True, False]
    """

    def __init__(self, requests: int, window: float) -> None:
        if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
            raise ConfigError(f"requests must be a whole number > 0; got {requests!r}")
        if (
            isinstance(window, bool)
            or not isinstance(window, int | float)
            or not math.isfinite(window)
            or not window > 0
        ):
            raise ConfigError(f"window must be a number of seconds > 0; got {window!r}")
        self.requests = requests
        self.window = float(window)
        # The start times of the last `requests` calls; some may still be ahead.
        self._starts: collections.deque[float] = collections.deque(maxlen=requests)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WindowRateLimiter({self.requests}, {self.window:g})"

    def _book(self, *, blocking: bool) -> float | None:
        """Book the next free start: the seconds until it, or ``None`` (not booked:
        ``blocking`` is false and the window is full)."""
        with self._lock:
            now = time.monotonic()
            start = now
            if len(self._starts) == self.requests:
                start = max(now, self._starts[0] + self.window)
            if start > now and not blocking:
                return None
            self._starts.append(start)
            return start - now

    def acquire(self, *, blocking: bool = True) -> bool:
        """Wait for the next free start (or, not ``blocking``, take one only if free)."""
        wait = self._book(blocking=blocking)
        if wait is None:
            return False
        if wait > 0:
            time.sleep(wait)  # until the booked start: a time, not an event
        return True

    async def aacquire(self, *, blocking: bool = True) -> bool:
        """:meth:`acquire` for async code: sleeps without blocking the event loop."""
        wait = self._book(blocking=blocking)
        if wait is None:
            return False
        if wait > 0:
            await anyio.sleep(wait)
        return True
