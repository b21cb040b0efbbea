"""One rate budget per provider and API key, shared by every process that calls it.

Providers limit requests, tokens and concurrent calls per minute *per key*, not per
process. A :class:`RateBudget` holds those limits for one provider and key, in a
backend every process of a run reaches:

- ``local``: this process only (the default);
- ``sqlite:PATH``: a table in an SQLite file, for every process on one machine
  (each step one ``BEGIN IMMEDIATE`` transaction);
- ``redis`` / ``redis:URL``: a Redis server, for every machine (the ``redis`` extra;
  ``REDIS_URL`` alone selects it);
- ``ray``: a named Ray actor, for every worker of a Ray cluster (chosen by itself
  inside a Ray actor, e.g. under the Ray executor);
- and backends plugins register through ``clientsim_register_rate_budget_backends``.

A call takes a reservation (:meth:`RateBudget.acquire`), which waits for its turn.
A provider's 429 shrinks the budget for every process (AIMD: halved, then regained
additively on success), and its ``Retry-After`` pauses every caller until one shared
time, once, instead of each sleeping and retrying on its own.

Example:
    >>> import anyio
    >>> budget = RateBudget("openai", requests=600, window=60)  # one per 0.1 s
    >>> async def two_calls() -> list[float]:
    ...     for _ in range(2):
    ...         async with budget.acquire(tokens=10) as permit:
    ...             permit.record_usage(12)
    ...     return (await budget.state()).starts
    >>> first, second = anyio.run(two_calls)
    >>> round(second - first, 3)  # the second call waited its turn
    0.1
"""

from __future__ import annotations

import abc
import hashlib
import math
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, ClassVar, Final, TypeVar

import anyio
import attrs

from clientsim.errors import ConfigError
from clientsim.llm._budget_core import BudgetLimits, BudgetState, Outcome
from clientsim.registry import Registry


if TYPE_CHECKING:
    from langchain_core.rate_limiters import BaseRateLimiter

__all__ = [
    "BudgetBackend",
    "BudgetLimits",
    "LocalBudgetBackend",
    "Permit",
    "RateBudget",
    "StateBudgetBackend",
    "budget_key",
    "build_backend",
    "builtin_backends",
    "rate_budget_backends",
    "rate_limited",
]

T = TypeVar("T")

DEFAULT_HOLD_SECONDS: Final = 600.0
"""How long a reservation keeps its concurrency slot at most (a killed process's
slots come back after this)."""

_POLL_MIN: Final = 0.02
_POLL_MAX: Final = 0.5

rate_budget_backends: Final[Registry[BudgetBackend]] = Registry(
    family="rate budget backend", hook="clientsim_register_rate_budget_backends"
)
"""Where budgets live: ``local``, ``sqlite``, ``redis``, ``ray``, and plugins'. Each
factory takes one string, the part of ``RATE_LIMIT_BACKEND`` after the colon (``""``
if none), and returns a :class:`BudgetBackend`."""


def budget_key(provider: str, *, api_key: str = "", base_url: str = "") -> str:
    """The budget's name for a provider and key: the provider and a digest of the API
    key and base URL (the key itself is never stored or sent anywhere).

    Example:
        >>> budget_key("openai", api_key="sk-1") == budget_key("openai", api_key="sk-1")
        True
        >>> budget_key("openai", api_key="sk-1").startswith("openai:")
        True
        >>> "sk-1" in budget_key("openai", api_key="sk-1")
        False
    """
    digest = hashlib.sha256(f"{api_key}\x1f{base_url}".encode()).hexdigest()[:16]
    return f"{provider}:{digest}"


def rate_limited(exc: BaseException) -> tuple[bool, float | None]:
    """Whether ``exc`` (or an error it came from) is a provider's 429, and the
    seconds its ``Retry-After`` asks for (``None`` when it names none).

    Reads :class:`~clientsim.errors.RateLimitedError`'s ``retry_after``, and the
    ``Retry-After`` header of any error with ``status_code`` (or ``status``) 429 and
    a ``response`` (``openai.RateLimitError``, ``httpx``, ``aiohttp``).

    Example:
        >>> from clientsim.errors import RateLimitedError
        >>> rate_limited(RateLimitedError("slow down", retry_after=2.0))
        (True, 2.0)
        >>> rate_limited(ValueError("no"))
        (False, None)
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        status = getattr(current, "status_code", None) or getattr(
            current, "status", None
        )
        if status == 429 or type(current).__name__ == "RateLimitError":
            after = getattr(current, "retry_after", None)
            if isinstance(after, int | float) and not isinstance(after, bool):
                return True, float(after)
            return True, _retry_after(getattr(current, "response", None))
        current = current.__cause__ or current.__context__
    return False, None


def _retry_after(response: object) -> float | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        text = headers.get("retry-after") or headers.get("Retry-After")
    except (AttributeError, TypeError):
        return None
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        from email.utils import parsedate_to_datetime  # noqa: PLC0415

        try:
            seconds = parsedate_to_datetime(str(text)).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


@attrs.frozen
class Reservation:
    """What a call asks a backend for."""

    tokens: int = 0
    lease: str | None = None
    hold: float = DEFAULT_HOLD_SECONDS


class BudgetBackend(abc.ABC):
    """Where budgets live, keyed by :func:`budget_key`; shared by whoever opens the
    same backend. Every method is atomic across every process that shares it."""

    name: ClassVar[str] = ""

    @abc.abstractmethod
    async def reserve(
        self, key: str, limits: BudgetLimits, reservation: Reservation
    ) -> tuple[bool, float]:
        """Book a start (see ``BudgetState.reserve``)."""

    @abc.abstractmethod
    async def release(
        self,
        key: str,
        limits: BudgetLimits,
        lease: str,
        *,
        outcome: Outcome,
        used: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """End a reservation (see ``BudgetState.release``)."""

    @abc.abstractmethod
    async def pause_left(self, key: str) -> float:
        """Seconds until the shared pause of ``key`` ends (0 when none)."""

    @abc.abstractmethod
    async def state(self, key: str) -> BudgetState:
        """A copy of ``key``'s state, for reports and tests."""

    async def aclose(self) -> None:  # noqa: B027 - most backends hold nothing to close
        """Free connections; the shared state stays."""


class StateBudgetBackend(BudgetBackend):
    """A backend that loads a key's ``BudgetState`` (``clientsim.llm._budget_core``),
    runs one step on it and stores it back, atomically: subclasses give
    :meth:`update` and :meth:`read`."""

    @abc.abstractmethod
    async def update(self, key: str, step: Callable[[BudgetState, float], T]) -> T:
        """Run ``step(state, now)`` on ``key``'s state atomically and store it."""

    async def read(self, key: str) -> tuple[BudgetState, float]:
        """``key``'s state and the backend's clock (default: through :meth:`update`)."""
        return await self.update(key, lambda state, now: (state, now))

    async def reserve(
        self, key: str, limits: BudgetLimits, reservation: Reservation
    ) -> tuple[bool, float]:
        stepped: list[float] = []

        def step(state: BudgetState, now: float) -> tuple[bool, float]:
            stepped.append(time.monotonic())  # the last run is the one that counted
            return state.reserve(
                now,
                limits,
                tokens=reservation.tokens,
                lease=reservation.lease,
                hold=reservation.hold,
            )

        booked, delay = await self.update(key, step)
        # The delay counts from the backend's clock reading, just before the step:
        # the time the answer took to come back (a commit, a round trip) is spent.
        return booked, max(0.0, delay - (time.monotonic() - stepped[-1]))

    async def release(
        self,
        key: str,
        limits: BudgetLimits,
        lease: str,
        *,
        outcome: Outcome,
        used: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        await self.update(
            key,
            lambda state, now: state.release(
                now, limits, lease, outcome=outcome, used=used, retry_after=retry_after
            ),
        )

    async def pause_left(self, key: str) -> float:
        state, now = await self.read(key)
        return state.pause_left(now)

    async def state(self, key: str) -> BudgetState:
        state, _ = await self.read(key)
        return BudgetState.load(state.dump())


class LocalBudgetBackend(StateBudgetBackend):
    """Budgets in this process's memory (shared by its threads and event loops)."""

    name = "local"

    def __init__(self) -> None:
        self._states: dict[str, BudgetState] = {}
        self._lock = threading.Lock()

    def step(self, key: str, step: Callable[[BudgetState, float], T]) -> T:
        """``update``, without awaiting (the Ray actor's way in)."""
        with self._lock:
            state = self._states.setdefault(key, BudgetState())
            return step(state, time.time())

    async def update(self, key: str, step: Callable[[BudgetState, float], T]) -> T:
        return self.step(key, step)

    @classmethod
    def from_target(cls, target: str) -> LocalBudgetBackend:
        """The process's one local backend (``target`` must be empty)."""
        if target:
            raise ConfigError(
                f"the local rate budget backend takes no argument; got 'local:{target}'"
            )
        return _LOCAL


_LOCAL: Final = LocalBudgetBackend()


@attrs.define
class Permit:
    """A call's reservation, from :meth:`RateBudget.acquire`.

    Attributes:
        lease: the reservation's id.
        tokens: the tokens it reserved.
        used: the tokens the call used (:meth:`record_usage`), or ``None``.
    """

    lease: str
    tokens: int
    used: int | None = None

    def record_usage(self, tokens: int) -> None:
        """The tokens the call actually used (input + output): the budget corrects
        its estimate when the reservation ends."""
        self.used = int(tokens)


class RateBudget:
    """Requests, tokens and concurrent calls per window for one provider and key.

    Args:
        provider: the provider (``"openai"``), for messages and the default key.
        requests: calls that may start in any ``window`` seconds (``None``: any).
        tokens: tokens (input + output) per ``window`` (``None``: any).
        concurrency: calls in flight at once (``None``: any).
        window: the window, seconds (default 60: "per minute").
        key: the budget's name in the backend (default: :func:`budget_key` of
            ``provider``); processes with the same key share one budget.
        backend: a :class:`BudgetBackend`, a backend name such as
            ``"sqlite:/tmp/budget.db"`` (``"local"``: the process's shared one), or
            ``None`` for this budget's own memory.
        decrease: the factor a 429 multiplies the limits by (0 < x < 1).
        increase: the share of the limits a window of successes regains (0 < x <= 1).

    Raises:
        ConfigError: a bad limit or factor (the message names it).
    """

    def __init__(
        self,
        provider: str,
        *,
        requests: int | None = None,
        tokens: int | None = None,
        concurrency: int | None = None,
        window: float = 60.0,
        key: str | None = None,
        backend: BudgetBackend | str | None = None,
        decrease: float = 0.5,
        increase: float = 0.1,
    ) -> None:
        for name, value in (
            ("requests", requests),
            ("tokens", tokens),
            ("concurrency", concurrency),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ConfigError(
                    f"{name} must be a whole number > 0 or None; got {value!r}"
                )
        if not _positive(window):
            raise ConfigError(f"window must be a number of seconds > 0; got {window!r}")
        if not (_positive(decrease) and decrease < 1):
            raise ConfigError(f"decrease must be a number in (0, 1); got {decrease!r}")
        if not (_positive(increase) and increase <= 1):
            raise ConfigError(f"increase must be a number in (0, 1]; got {increase!r}")
        self.provider = provider
        self.key = key or budget_key(provider)
        self.limits = BudgetLimits(
            requests=requests,
            tokens=tokens,
            concurrency=concurrency,
            window=float(window),
            decrease=float(decrease),
            increase=float(increase),
        )
        if backend is None:
            self.backend: BudgetBackend = LocalBudgetBackend()
        elif isinstance(backend, BudgetBackend):
            self.backend = backend
        else:
            self.backend = build_backend(backend)

    def __repr__(self) -> str:
        limits = self.limits
        return (
            f"RateBudget({self.provider!r}, requests={limits.requests}, "
            f"tokens={limits.tokens}, concurrency={limits.concurrency}, "
            f"window={limits.window:g}, backend={self.backend.name!r})"
        )

    @asynccontextmanager
    async def acquire(
        self, tokens: int = 0, *, hold_seconds: float = DEFAULT_HOLD_SECONDS
    ) -> AsyncIterator[Permit]:
        """Wait for this call's turn, then hold a reservation while the block runs.

        ``tokens`` is the call's estimate (input + expected output); correct it with
        :meth:`Permit.record_usage`. A 429 raised inside the block (see
        :func:`rate_limited`) shrinks the budget for everyone and, with a
        ``Retry-After``, pauses everyone; it is then re-raised for the caller to
        retry (the retry waits its turn again).
        """
        permit = Permit(uuid.uuid4().hex, max(0, int(tokens)))
        await self._reserve(permit, hold_seconds)
        try:
            yield permit
        except BaseException as exc:
            limited, after = rate_limited(exc)
            outcome: Outcome = "limited" if limited else "error"
            await self._release(permit, outcome, after)
            raise
        await self._release(permit, "ok", None)

    async def wait(self, tokens: int = 0) -> None:
        """Wait for a start without holding a slot (no release follows): what a
        LangChain ``rate_limiter`` can do."""
        reservation = Reservation(tokens=max(0, int(tokens)))
        _, delay = await self.backend.reserve(self.key, self.limits, reservation)
        await anyio.sleep(delay)

    async def next_start_in(self) -> float:
        """Seconds until a call asking now could start (nothing is booked)."""
        state = await self.backend.state(self.key)
        booked, delay = state.reserve(time.time(), self.limits)
        return delay if booked else math.inf

    async def state(self) -> BudgetState:
        """The shared state now (scale, pause, starts, leases)."""
        return await self.backend.state(self.key)

    def limiter(self) -> BaseRateLimiter:
        """This budget as a LangChain rate limiter (requests and tokens only: a
        limiter is never told when a call ends)."""
        from clientsim.llm._budget_limiter import BudgetRateLimiter  # noqa: PLC0415

        return BudgetRateLimiter(self)

    async def _reserve(self, permit: Permit, hold: float) -> None:
        reservation = Reservation(tokens=permit.tokens, lease=permit.lease, hold=hold)
        poll = _POLL_MIN
        while True:
            with anyio.CancelScope(shield=True):  # a booking is never half made
                booked, delay = await self.backend.reserve(
                    self.key, self.limits, reservation
                )
            if not booked:  # every slot taken: look again soon
                await anyio.sleep(min(delay, poll))
                poll = min(_POLL_MAX, poll * 2)
                continue
            try:
                if delay <= 0:
                    return
                await anyio.sleep(delay)
                if await self.backend.pause_left(self.key) <= 0:
                    return
            except BaseException:
                await self._release(permit, "cancelled", None)
                raise
            # A 429 paused everyone while this call waited: book again after it.
            await self._release(permit, "cancelled", None)

    async def _release(
        self, permit: Permit, outcome: Outcome, retry_after: float | None
    ) -> None:
        with anyio.CancelScope(shield=True):
            await self.backend.release(
                self.key,
                self.limits,
                permit.lease,
                outcome=outcome,
                used=permit.used,
                retry_after=retry_after,
            )


def _positive(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def builtin_backends() -> dict[str, Callable[[str], BudgetBackend]]:
    """The built-in backends' factories by name (no client library is imported)."""
    from clientsim.llm._budget_ray import RayBudgetBackend  # noqa: PLC0415
    from clientsim.llm._budget_redis import RedisBudgetBackend  # noqa: PLC0415
    from clientsim.llm._budget_sqlite import SQLiteBudgetBackend  # noqa: PLC0415

    return {
        "local": LocalBudgetBackend.from_target,
        "sqlite": SQLiteBudgetBackend.from_target,
        "redis": RedisBudgetBackend.from_target,
        "ray": RayBudgetBackend.from_target,
    }


def build_backend(spec: str | None) -> BudgetBackend:
    """The backend ``spec`` names: ``local``, ``sqlite:PATH``, ``redis[:URL]``,
    ``ray``, or a plugin's ``name[:argument]`` (``None``: ``local``).

    Raises:
        UnknownStrategyError: no backend has that name (lists those that do).
        ConfigError: the backend refused its argument.
    """
    name, _, target = (spec or "local").strip().partition(":")
    return rate_budget_backends.get(name.strip().lower())(target.strip())
