"""Rate limiting model calls, on LangChain's rate limiter.

One limiter is shared by every model call of a run (see
:class:`~clientsim.llm.run_model.RunChatModel`). LangChain loads when a limiter is built.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from clientsim.errors import ConfigError


if TYPE_CHECKING:
    from langchain_core.rate_limiters import BaseRateLimiter

__all__ = ["rate_limiter"]


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
