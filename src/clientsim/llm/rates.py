"""Rate limiting model calls, on LangChain's rate limiters.

Two limits, which add up when both are set:

- a run's: one limiter shared by every model call of a run (``--rate-limit``; see
  :class:`~clientsim.llm.run_model.RunChatModel`), :func:`rate_limiter`;
- a provider's and key's: with ``RATE_LIMIT_REQUESTS``, ``RATE_LIMIT_TOKENS`` or
  ``RATE_LIMIT_CONCURRENCY`` set (and ``RATE_LIMIT_WINDOW``, seconds, default 60),
  one :class:`~clientsim.llm.budget.RateBudget` per provider and API key, shared by
  every model a spec names for that provider (every participant, judge and team
  member) and by every process that shares its backend (``RATE_LIMIT_BACKEND``:
  ``local``, ``sqlite:PATH``, ``redis[:URL]``, ``ray``; ``REDIS_URL`` alone means
  ``redis``, a Ray actor means ``ray``): :func:`provider_budget`, given to each model
  as its LangChain ``rate_limiter`` (:func:`provider_rate_limiter`) where specs are
  resolved (:func:`~clientsim.llm.resolve_model`). The offline model makes no
  requests and is never limited.

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

    from clientsim.llm.budget import RateBudget

__all__ = [
    "DEFAULT_WINDOW_SECONDS",
    "RATE_LIMIT_BACKEND",
    "RATE_LIMIT_CONCURRENCY",
    "RATE_LIMIT_REQUESTS",
    "RATE_LIMIT_TOKENS",
    "RATE_LIMIT_WINDOW",
    "BudgetSettings",
    "RateLimit",
    "budget_settings_from_env",
    "provider_budget",
    "provider_rate_limiter",
    "rate_limit_from_env",
    "rate_limiter",
]

RATE_LIMIT_REQUESTS: Final = "RATE_LIMIT_REQUESTS"
"""The environment variable: model calls per window, per provider and process."""

RATE_LIMIT_WINDOW: Final = "RATE_LIMIT_WINDOW"
"""The environment variable: the window's length in seconds."""

RATE_LIMIT_TOKENS: Final = "RATE_LIMIT_TOKENS"
"""The environment variable: tokens (input + output) per window, per provider and key."""

RATE_LIMIT_CONCURRENCY: Final = "RATE_LIMIT_CONCURRENCY"
"""The environment variable: model calls in flight at once, per provider and key."""

RATE_LIMIT_BACKEND: Final = "RATE_LIMIT_BACKEND"
"""The environment variable: where budgets are shared (``local``, ``sqlite:PATH``,
``redis[:URL]``, ``ray``, or a plugin's backend)."""

DEFAULT_WINDOW_SECONDS: Final = 60.0
"""The window when ``RATE_LIMIT_WINDOW`` is not set."""

_UNLIMITED: Final = frozenset({"offline"})
_MAX_REQUESTS: Final = 1_000_000
_MAX_TOKENS: Final = 1_000_000_000


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

    Every other ``RATE_LIMIT_*`` variable is checked too (see
    :func:`budget_settings_from_env`).

    Raises:
        ConfigError: a bad value; the message names the variable.
    """
    budget_settings_from_env()
    return _request_limit()


def _request_limit() -> RateLimit | None:
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


def _whole(name: str, most: int, unit: str) -> int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    if not (text.isdecimal() and text.isascii()) or not 0 < int(text) <= most:
        raise ConfigError(
            f"{name} must be a whole number of {unit}, from 1 to {most:,}; got {text!r}"
        )
    return int(text)


@attrs.frozen
class BudgetSettings:
    """The budget the environment asks for: its limits and backend."""

    requests: int | None
    tokens: int | None
    concurrency: int | None
    window: float
    backend: str


def budget_settings_from_env() -> BudgetSettings | None:
    """The budget ``RATE_LIMIT_*`` set, or ``None`` when no limit is set.

    The backend is ``RATE_LIMIT_BACKEND``; unset, it is ``redis`` when ``REDIS_URL``
    is set, ``ray`` inside a Ray actor, else ``local``.

    Raises:
        ConfigError: a bad value; the message names the variable.
    """
    limit = _request_limit()
    tokens = _whole(RATE_LIMIT_TOKENS, _MAX_TOKENS, "tokens per window")
    concurrency = _whole(RATE_LIMIT_CONCURRENCY, _MAX_REQUESTS, "calls at once")
    backend = os.environ.get(RATE_LIMIT_BACKEND, "").strip()
    if backend:
        from clientsim.llm.budget import rate_budget_backends  # noqa: PLC0415

        name = backend.partition(":")[0].strip().lower()
        if name not in rate_budget_backends:
            raise ConfigError(
                f"{RATE_LIMIT_BACKEND} must name a rate budget backend, e.g. local, "
                f"sqlite:PATH, redis or ray (one of: "
                f"{', '.join(rate_budget_backends.names())}); got {backend!r}"
            )
    if limit is None and tokens is None and concurrency is None:
        return None
    if not backend:
        from clientsim.llm._budget_ray import in_ray_actor  # noqa: PLC0415

        if os.environ.get("REDIS_URL", "").strip():
            backend = "redis"
        elif in_ray_actor():
            backend = "ray"
        else:
            backend = "local"
    window = _window()
    return BudgetSettings(
        requests=limit.requests if limit is not None else None,
        tokens=tokens,
        concurrency=concurrency,
        window=window,
        backend=backend,
    )


def _window() -> float:
    text = os.environ.get(RATE_LIMIT_WINDOW, "").strip()
    return float(text) if text else DEFAULT_WINDOW_SECONDS


_budgets: dict[tuple[str, str, BudgetSettings], RateBudget] = {}
_limiters: dict[int, BaseRateLimiter] = {}
_shared_lock = threading.Lock()


def _credentials(provider: str) -> str:
    """The budget key of ``provider``'s models: ``<PROVIDER>_API_KEY`` and
    ``<PROVIDER>_BASE_URL`` hashed (see :func:`~clientsim.llm.budget.budget_key`)."""
    from clientsim.llm.budget import budget_key  # noqa: PLC0415

    prefix = "".join(c if c.isalnum() else "_" for c in provider).upper()
    return budget_key(
        provider,
        api_key=os.environ.get(f"{prefix}_API_KEY", "").strip(),
        base_url=os.environ.get(f"{prefix}_BASE_URL", "").strip(),
    )


def provider_budget(provider: str) -> RateBudget | None:
    """The budget for ``provider``'s models, as the environment sets it.

    One per provider, key (``<PROVIDER>_API_KEY`` and ``<PROVIDER>_BASE_URL``) and
    settings in each process; processes on the same backend share its state.
    ``None`` without a limit, and for the offline model.

    Raises:
        ConfigError: a bad ``RATE_LIMIT_*`` value, or a backend that cannot start.
    """
    settings = budget_settings_from_env()
    if settings is None or provider in _UNLIMITED:
        return None
    from clientsim.llm.budget import RateBudget  # noqa: PLC0415

    key = _credentials(provider)
    with _shared_lock:
        budget = _budgets.get((provider, key, settings))
        if budget is None:
            budget = _budgets[provider, key, settings] = RateBudget(
                provider,
                requests=settings.requests,
                tokens=settings.tokens,
                concurrency=settings.concurrency,
                window=settings.window,
                key=key,
                backend=settings.backend,
            )
        return budget


def provider_rate_limiter(provider: str) -> BaseRateLimiter | None:
    """:func:`provider_budget` as a LangChain rate limiter (the same object for the
    same budget), or ``None``.

    Raises:
        ConfigError: a bad ``RATE_LIMIT_*`` value.
    """
    budget = provider_budget(provider)
    if budget is None:
        return None
    with _shared_lock:
        limiter = _limiters.get(id(budget))
        if limiter is None:
            limiter = _limiters[id(budget)] = budget.limiter()
        return limiter
