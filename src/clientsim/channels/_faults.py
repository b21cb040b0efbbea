"""Which failed exchanges are worth retrying: one rule for every network channel.

The table in ``docs/reference/errors.md`` ("Channel failures") is this module written
out: the HTTP and WebSocket channels classify each failure here and put the answer on
the :class:`~clientsim.errors.ChannelError` they raise (``transient``, ``status``), so
that :func:`clientsim.errors.is_transient` and an experiment's retries see it.
"""

from __future__ import annotations

import ssl
from typing import Final

import aiohttp

from clientsim.errors import is_transient


__all__ = ["TRANSIENT_CLOSE_CODES", "transient_close", "transient_connection_error"]

TRANSIENT_CLOSE_CODES: Final = frozenset({1001, 1006, 1011, 1012, 1013, 1014})
"""WebSocket close codes after which a new connection may well work: going away,
abnormal closure, internal error, service restart, try again later, bad gateway."""


def transient_connection_error(exc: BaseException) -> bool:
    """A refused, reset or dropped connection is transient; a TLS failure (a bad
    certificate, a wrong protocol) is not: retrying cannot fix it."""
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return False
    if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        return True
    return is_transient(exc)


def transient_close(code: int | None) -> bool:
    """Whether a WebSocket that ended with ``code`` is worth reconnecting to."""
    return code is None or code in TRANSIENT_CLOSE_CODES
