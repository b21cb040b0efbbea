"""Rate limiting model calls, on LangChain's rate limiters.

Two limits, which add up when both are set:

- a run's: one limiter shared by every model call of a run (``--rate-limit``; see
  :class:`~clientsim.llm.run_model.RunChatModel`), :func:`rate_limiter`;
- a provider's, per process: with ``RATE_LIMIT_REQUESTS`` set (and
  ``RATE_LIMIT_WINDOW``, seconds, default 60), at most that many calls start in any
  window, across every model a spec names for that provider (every participant,
  judge and team member of the process): :func:`provider_rate_limiter` (a
  :class:`~clientsim.llm.window.WindowRateLimiter`), applied where specs are
  resolved (:func:`~clientsim.llm.resolve_model`). The offline model
  makes no requests and is never limited.

LangChain loads when a limiter is built.
"""

from __future__ import annotations

import math
import os
import threading
from typing import TYPE_CHECKING, Final

import attrs

from clientsim.errors import ConfigError


if TYPE_CHECKING:
    from langchain_core.rate_limiters import BaseRateLimiter

__all__ = [
    "DEFAULT_WINDOW_SECONDS",
    "RATE_LIMIT_REQUESTS",
    "RATE_LIMIT_WINDOW",
    "RateLimit",
    "provider_rate_limiter",
    "rate_limit_from_env",
    "rate_limiter",
]

RATE_LIMIT_REQUESTS: Final = "RATE_LIMIT_REQUESTS"
"""The environment variable: model calls per window, per provider and process."""

RATE_LIMIT_WINDOW: Final = "RATE_LIMIT_WINDOW"
"""The environment variable: the window's length in seconds."""

DEFAULT_WINDOW_SECONDS: Final = 60.0
"""The window when ``RATE_LIMIT_WINDOW`` is not set."""

_UNLIMITED: Final = frozenset({"offline"})
_MAX_REQUESTS: Final = 1_000_000


def rate_limiter(requests_per_second: float | None) -> BaseRateLimiter | None:
    """A limiter that lets ``requests_per_second`` model calls through each second.

    It is LangChain's ``InMemoryRateLimiter`` (a token bucket, so a short burst up to
    one second's worth passes at once), checking at least ten times a second.

    Args:
        requests_per_second: the rate, a number > 0; ``None`` for no limit.

    Returns:
        The limiter, or ``None`` when ``requests_per_second`` is ``None``.

    Raises:
        ConfigError: ``requests_per_second`` is not a finite number > 0.

    Example:
        >>> rate_limiter(None) is None
        True
        >>> type(rate_limiter(5)).__name__
        'InMemoryRateLimiter'
    """
    if requests_per_second is None:
        return None
    if (
        isinstance(requests_per_second, bool)
        or not isinstance(requests_per_second, int | float)
        or not math.isfinite(requests_per_second)
        or not requests_per_second > 0
    ):
        raise ConfigError(
            f"requests_per_second must be a number > 0; got {requests_per_second!r}"
        )
    from langchain_core.rate_limiters import InMemoryRateLimiter  # noqa: PLC0415

    return InMemoryRateLimiter(
        requests_per_second=requests_per_second,
        check_every_n_seconds=min(0.1, 1 / requests_per_second),
        max_bucket_size=max(1.0, requests_per_second),
    )


@attrs.frozen
class RateLimit:
    """At most ``requests`` model calls start in any ``window`` seconds."""

    requests: int
    window: float = DEFAULT_WINDOW_SECONDS


def rate_limit_from_env() -> RateLimit | None:
    """The limit ``RATE_LIMIT_REQUESTS`` and ``RATE_LIMIT_WINDOW`` set, or ``None``.

    There is a limit only when ``RATE_LIMIT_REQUESTS`` is set (to a whole number
    > 0); ``RATE_LIMIT_WINDOW`` (seconds > 0, default 60) is checked whenever it is
    set.

    Raises:
        ConfigError: a bad value; the message names the variable.
    """
    requests_text = os.environ.get(RATE_LIMIT_REQUESTS, "").strip()
    window_text = os.environ.get(RATE_LIMIT_WINDOW, "").strip()
    window = DEFAULT_WINDOW_SECONDS
    if window_text:
        try:
            window = float(window_text)
        except ValueError:
            window = math.nan
        if not (math.isfinite(window) and window > 0):
            raise ConfigError(
                f"{RATE_LIMIT_WINDOW} must be a number of seconds > 0, e.g. 60 or "
                f"0.5; got {window_text!r}"
            )
    if not requests_text:
        return None
    if not (requests_text.isdecimal() and requests_text.isascii()) or not (
        0 < int(requests_text) <= _MAX_REQUESTS
    ):
        raise ConfigError(
            f"{RATE_LIMIT_REQUESTS} must be a whole number of model calls per "
            f"window, from 1 to {_MAX_REQUESTS:,}, e.g. 100; got {requests_text!r}"
        )
    return RateLimit(int(requests_text), window)


_shared: dict[tuple[str, RateLimit], BaseRateLimiter] = {}
_shared_lock = threading.Lock()


def provider_rate_limiter(provider: str) -> BaseRateLimiter | None:
    """The process's limiter for ``provider``'s models, as the environment sets it.

    Every call with the same provider and the same limit returns the same limiter,
    so all of that provider's models share it; ``None`` without
    ``RATE_LIMIT_REQUESTS``, and for the offline model.

    Raises:
        ConfigError: a bad ``RATE_LIMIT_REQUESTS`` or ``RATE_LIMIT_WINDOW``.
    """
    limit = rate_limit_from_env()
    if limit is None or provider in _UNLIMITED:
        return None
    from clientsim.llm.window import WindowRateLimiter  # noqa: PLC0415

    with _shared_lock:
        limiter = _shared.get((provider, limit))
        if limiter is None:
            limiter = _shared[provider, limit] = WindowRateLimiter(
                limit.requests, limit.window
            )
        return limiter
