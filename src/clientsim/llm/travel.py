"""How LangChain objects that hold live state travel to other processes (a Ray
executor's workers): rebuilt there rather than copied.

An ``InMemoryRateLimiter`` holds a thread lock and a bucket that only means something
in its own process: each of ``workers`` processes gets a fresh one with an equal share
of the rate, so together they keep to the rate the run asked for.
"""

from __future__ import annotations

from langchain_core.rate_limiters import InMemoryRateLimiter


__all__ = ["rebuilt"]


def rebuilt(obj: object, workers: int) -> tuple[object, ...] | None:
    """A pickle reduction (``(callable, args)``) that rebuilds ``obj`` in one of
    ``workers`` processes, if it is something rebuilt rather than copied; ``None``
    otherwise."""
    if type(obj) is InMemoryRateLimiter:
        share = (
            obj.requests_per_second / workers,
            obj.check_every_n_seconds,
            obj.max_bucket_size,
        )
        return _rate_limiter, share
    return None


def _rate_limiter(
    rate: float, check_every: float, bucket: float
) -> InMemoryRateLimiter:
    return InMemoryRateLimiter(
        requests_per_second=rate,
        check_every_n_seconds=check_every,
        max_bucket_size=bucket,
    )
