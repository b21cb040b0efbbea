"""The ``redis`` rate budget backend: every process on every machine that reaches one
Redis server shares its budgets (the ``redis`` extra; ``REDIS_URL``).

Each budget is one JSON value under ``clientsim:rate-budget:<key>``. A step watches
it, reads it and Redis's clock (``TIME``: one clock for every machine), runs, and
writes it back in ``MULTI``/``EXEC``; a write by another process in between makes
``EXEC`` fail and the step run again on the new value. Concurrency slots are leases
with an expiry inside the value, so a killed process's slots come back on their own;
an idle budget expires after a day.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, TypeVar
from urllib.parse import urlsplit

import anyio
import anyio.lowlevel

from clientsim.errors import ConfigError
from clientsim.llm._budget_core import BudgetState
from clientsim.llm.budget import StateBudgetBackend


if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["REDIS_URL", "RedisBudgetBackend"]

T = TypeVar("T")

REDIS_URL: Final = "REDIS_URL"
"""The environment variable naming the Redis server (``redis://host:6379/0``)."""

_PREFIX: Final = "clientsim:rate-budget:"
_IDLE_SECONDS: Final = 86_400
_CONNECTIONS: Final = 64


def _shown(url: str) -> str:
    """``url`` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


class RedisBudgetBackend(StateBudgetBackend):
    """Budgets in Redis, shared by every machine (see the module docstring).

    Args:
        url: the server, e.g. ``redis://127.0.0.1:6379/0`` or
            ``unix:///run/redis.sock``.
    """

    name = "redis"

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: weakref.WeakKeyDictionary[object, Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._locks: weakref.WeakKeyDictionary[object, anyio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"RedisBudgetBackend({_shown(self.url)!r})"

    @classmethod
    def from_target(cls, target: str) -> RedisBudgetBackend:
        """``redis:URL``, or ``redis`` alone for ``REDIS_URL``."""
        url = target or os.environ.get(REDIS_URL, "").strip()
        if target and "://" not in target:
            url = f"redis:{target}"  # "redis://host" split at its first colon
        if not url:
            raise ConfigError(
                "the redis rate budget backend needs a server: set REDIS_URL (e.g. "
                "redis://127.0.0.1:6379/0) or RATE_LIMIT_BACKEND=redis://..."
            )
        try:
            import redis.asyncio  # noqa: F401, PLC0415
        except ImportError as exc:
            raise ConfigError(
                f"the redis rate budget backend needs the redis package ({exc}); "
                "pip install 'clientsim[redis]'"
            ) from exc
        return cls(url)

    def _client(self) -> Redis:
        from redis.asyncio import BlockingConnectionPool, Redis  # noqa: PLC0415

        loop = anyio.lowlevel.current_token().native_token
        client = self._clients.get(loop)
        if client is None:
            # A step holds a connection from WATCH to EXEC: callers past the pool's
            # size wait for one instead of failing.
            pool = BlockingConnectionPool.from_url(
                self.url, max_connections=_CONNECTIONS, timeout=None
            )
            client = self._clients[loop] = Redis(connection_pool=pool)
        return client

    async def update(self, key: str, step: Callable[[BudgetState, float], T]) -> T:
        from redis.exceptions import RedisError, WatchError  # noqa: PLC0415

        name = _PREFIX + key
        loop = anyio.lowlevel.current_token().native_token
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = anyio.Lock()
        try:
            # One step at a time from this process: its own calls never race each
            # other's WATCH (which would make every one of them start over).
            async with lock, self._client().pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(name)
                        raw = await pipe.get(name)
                        seconds, micros = await pipe.time()
                        state = BudgetState.load(json.loads(raw) if raw else None)
                        result = step(state, seconds + micros / 1e6)
                        pipe.multi()  # type: ignore[no-untyped-call]
                        pipe.set(name, json.dumps(state.dump()), ex=_IDLE_SECONDS)
                        await pipe.execute()
                    except WatchError:
                        continue  # another process stepped first: again, on its value
                    return result
        except RedisError as exc:
            raise self._unreachable(exc) from exc

    async def read(self, key: str) -> tuple[BudgetState, float]:
        from redis.exceptions import RedisError  # noqa: PLC0415

        try:
            async with self._client().pipeline(transaction=False) as pipe:
                pipe.get(_PREFIX + key)
                pipe.time()
                raw, (seconds, micros) = await pipe.execute()
        except RedisError as exc:
            raise self._unreachable(exc) from exc
        state = BudgetState.load(json.loads(raw) if raw else None)
        return state, seconds + micros / 1e6

    def _unreachable(self, exc: Exception) -> ConfigError:
        return ConfigError(
            f"the rate budget's Redis server {_shown(self.url)} failed: "
            f"{type(exc).__name__}: {exc}; check REDIS_URL"
        )

    async def aclose(self) -> None:
        clients = list(self._clients.values())
        self._clients.clear()
        for client in clients:
            await client.aclose(close_connection_pool=True)
