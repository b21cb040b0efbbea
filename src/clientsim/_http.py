"""The shared aiohttp client session: one per event loop, for every model call.

Every ``openai:`` and ``groq:`` model on an event loop posts through the same
:class:`aiohttp.ClientSession`, so they share one connection pool (keep-alive
connections to each server) instead of one per model. The session belongs to the loop
it was made on (aiohttp binds it there); a new loop (a new ``anyio.run``, a test) gets
its own. :func:`aclose_session` closes the running loop's session;
:func:`clientsim.llm.aclose_models` calls it.

``CLIENTSIM_HTTP_CONNECTIONS`` sets the most connections the session keeps open at
once (all servers together; 1000 by default).
"""

from __future__ import annotations

import os
import weakref
from typing import TYPE_CHECKING, Final

import anyio.lowlevel
import sniffio

from clientsim.errors import ConfigError, ModelError


if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "CONNECT_TIMEOUT_SECONDS",
    "DEFAULT_CONNECTIONS",
    "aclose_session",
    "connection_limit",
    "shared_session",
]

DEFAULT_CONNECTIONS: Final = 1000
"""The most connections the shared session keeps open at once, by default."""

CONNECT_TIMEOUT_SECONDS: Final = 10.0
"""The longest opening one connection may take (a request's own limit is its caller's)."""

CONNECTIONS_ENV: Final = "CLIENTSIM_HTTP_CONNECTIONS"

_sessions: weakref.WeakKeyDictionary[object, aiohttp.ClientSession] = (
    weakref.WeakKeyDictionary()
)


def connection_limit() -> int:
    """The connection limit: ``CLIENTSIM_HTTP_CONNECTIONS`` or 1000.

    Raises:
        ConfigError: the variable is not a positive integer.
    """
    raw = os.environ.get(CONNECTIONS_ENV, "").strip()
    if not raw:
        return DEFAULT_CONNECTIONS
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ConfigError(
            f"{CONNECTIONS_ENV} must be a positive integer (the most HTTP connections "
            f"open at once); got {raw!r}"
        )
    return int(raw)


def _loop() -> object | None:
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return None
    if library != "asyncio":
        raise ModelError(
            f"clientsim's HTTP model client runs on asyncio (aiohttp), not {library}; "
            "run under asyncio (anyio's default backend)"
        )
    return anyio.lowlevel.current_token().native_token


def shared_session() -> aiohttp.ClientSession:
    """The running event loop's session (made on first use).

    Raises:
        ModelError: no asyncio event loop is running here.
    """
    loop = _loop()
    if loop is None:
        raise ModelError(
            "HTTP model calls need a running asyncio event loop: await them "
            "(ainvoke, astream) inside anyio.run or asyncio.run"
        )
    session = _sessions.get(loop)
    if session is None or session.closed:
        import aiohttp  # noqa: PLC0415 - only when a call is made

        connector = aiohttp.TCPConnector(
            limit=connection_limit(),
            limit_per_host=0,
            ttl_dns_cache=300,
            keepalive_timeout=30.0,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=CONNECT_TIMEOUT_SECONDS
            ),
            skip_auto_headers=("User-Agent",),
            headers={"User-Agent": "clientsim"},
        )
        _sessions[loop] = session
    return session


async def aclose_session() -> None:
    """Close the running event loop's session, if it has one (a later call makes a
    new one)."""
    loop = _loop()
    session = _sessions.pop(loop, None) if loop is not None else None
    if session is not None and not session.closed:
        await session.close()
