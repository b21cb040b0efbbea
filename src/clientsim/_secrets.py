"""Keeping secrets out of what clientsim writes and shows.

URL credentials, query strings and header values in configs that are stored with a
run (metadata, the run store): :func:`redact_config`. And in what a channel to a real
agent shows (its repr, its errors and the errors they were raised from): one
:class:`Redactor` per channel, which the HTTP and WebSocket channels both use.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Final
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from clientsim.errors import ChannelError, ConfigError, is_transient


__all__ = [
    "REDACTED",
    "RedactedError",
    "Redactor",
    "check_credentials",
    "check_headers",
    "display_url",
    "redact_config",
    "redact_url",
    "secrets_of",
]

REDACTED: Final = "***"
_SECRET_KEYS: Final = frozenset(
    {"api_key", "apikey", "token", "access_token", "secret", "password", "auth"}
    | {"authorization", "key", "headers"}
)


def redact_url(url: str) -> str:
    """``url`` with its password and every query value replaced by ``***``.

    Example:
        >>> redact_url("https://bot:hunter2@example.com/v1?key=abc&x=1")
        'https://bot:***@example.com/v1?key=***&x=***'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    user, at, host = netloc.rpartition("@")
    if at:
        name, colon, _ = user.partition(":")
        netloc = f"{name}:{REDACTED}@{host}" if colon else f"{REDACTED}@{host}"
    query = parts.query
    if query:
        query = urlencode(
            [(key, REDACTED) for key, _ in parse_qsl(query, keep_blank_values=True)],
            safe="*",
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_config(data: object) -> object:
    """Plain config data with URLs redacted and the values of secret-looking keys
    (``api_key``, ``token``, ``password``, ``headers``...) replaced by ``***``."""
    if isinstance(data, Mapping):
        return {
            key: _redact_all(value)
            if isinstance(key, str) and key.lower() in _SECRET_KEYS
            else redact_config(value)
            for key, value in data.items()
        }
    if isinstance(data, list | tuple):
        return [redact_config(item) for item in data]
    if isinstance(data, str) and "://" in data:
        return redact_url(data)
    return data


def _redact_all(value: object) -> object:
    if isinstance(value, Mapping):
        return dict.fromkeys(value, REDACTED)
    return REDACTED if value not in (None, "") else value


# ----- what a channel's errors, reprs and causes may show ----------------------------------

_BENIGN_HEADERS: Final = frozenset(
    {"accept", "accept-encoding", "accept-language", "content-type", "user-agent"}
)
_CHANNEL_REDACTED: Final = "[redacted]"
_MAX_CHAIN: Final = 8


def display_url(url: str) -> str:
    """``url`` without credentials, query string or fragment, for messages and reprs.

    Example:
        >>> display_url("wss://bot:hunter2@example.com/ws?token=abc#x")
        'wss://example.com/ws'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    return urlunsplit(
        (parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", "")
    )


def check_headers(owner: str, headers: object) -> dict[str, str]:
    """``headers`` as a dict, or a ConfigError that names a header but never a value."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ConfigError(
            f"{owner} option headers must be a mapping of header names to strings, "
            f"such as {{'Authorization': 'Bearer ...'}}; got a {type(headers).__name__}"
        )
    for name, value in headers.items():
        if not isinstance(name, str) or not name.strip() or not isinstance(value, str):
            shown = name if isinstance(name, str) else f"a {type(name).__name__}"
            raise ConfigError(
                f"{owner} option headers: header {shown!r} must be a non-empty name "
                f"with a string value; got a {type(value).__name__} value"
            )
    return dict(headers)


def check_credentials(owner: str, url: str, headers: Mapping[str, str]) -> None:
    """A ConfigError if both the URL and an ``Authorization`` header hold credentials
    (they cannot both be sent)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    if "@" in parts.netloc and any(k.lower() == "authorization" for k in headers):
        raise ConfigError(
            f"{owner}: the URL holds credentials (user:password@host) and headers hold "
            "an Authorization header; give the credentials in one of them, not both"
        )


def secrets_of(headers: Mapping[str, str], url: str) -> tuple[str, ...]:
    """What a channel must never show: header values, the URL's password and query
    values, and the Basic credentials a URL's user and password become."""
    found: set[str] = set()
    for name, value in headers.items():
        if name.lower() in _BENIGN_HEADERS:
            continue
        found.add(value.strip())
        found.update(part for part in value.split() if len(part) >= 8)
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return ()
    found.update(v for _, v in parse_qsl(parts.query) if len(v) >= 4)
    if password:
        found.add(password)
        found.add(unquote(password))
        basic = f"{unquote(parts.username or '')}:{unquote(password)}"
        found.add(base64.b64encode(basic.encode()).decode())
    return tuple(sorted((s for s in found if len(s) >= 4), key=len, reverse=True))


class RedactedError(Exception):
    """A stand-in for an exception that may hold credentials (an aiohttp error keeps
    the request's headers and URL): its type's name and its message with the secrets
    taken out, and how it was classified.

    Attributes:
        type_name: the qualified name of the original exception's class.
        status: the original's HTTP status, if it had one.
        transient: :func:`clientsim.errors.is_transient` of the original.
    """

    def __init__(
        self, type_name: str, message: str, *, status: int | None, transient: bool
    ) -> None:
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name
        self.status = status
        self.transient = transient


class Redactor:
    """Hides one channel's secrets (see :func:`secrets_of`) in what it shows.

    Both network channels pass every message, every URL and every exception they
    raise from through one of these, so no output (a repr, an error message, a
    recorded error, an event, a log line, a trace) can show a key.
    """

    def __init__(self, url: str, headers: Mapping[str, str]) -> None:
        self.secrets: Final = secrets_of(headers, url)

    def __call__(self, text: str) -> str:
        """``text`` with every secret replaced by ``[redacted]``."""
        for secret in self.secrets:
            text = text.replace(secret, _CHANNEL_REDACTED)
        return text

    def url(self, url: str) -> str:
        """``url`` as messages show it: see :func:`display_url`."""
        return self(display_url(url))

    def cause(self, exc: BaseException) -> RedactedError:
        """A redacted copy of ``exc`` and of the chain it was raised from."""
        chain: list[BaseException] = []
        current: BaseException | None = exc
        while current is not None and len(chain) < _MAX_CHAIN and current not in chain:
            chain.append(current)
            current = current.__cause__ or (
                None if current.__suppress_context__ else current.__context__
            )
        copy: RedactedError | None = None
        for original in reversed(chain):
            kind = type(original)
            status = getattr(original, "status", None)
            made = RedactedError(
                f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins."),
                self(str(original)),
                status=status if isinstance(status, int) else None,
                transient=is_transient(original),
            )
            made.__cause__ = copy
            made.__suppress_context__ = True
            copy = made
        assert copy is not None  # noqa: S101 - the chain holds exc at least
        return copy

    def error(
        self,
        message: str,
        *,
        kind: type[ChannelError] = ChannelError,
        status: int | None = None,
        transient: bool | None = None,
        cause: BaseException | None = None,
    ) -> ChannelError:
        """A redacted ``kind`` raised from a redacted copy of ``cause``.

        Raise it outside any ``except`` block: Python would otherwise keep the error
        being handled, unredacted, as its ``__context__``.
        """
        error = kind(self(message), status=status, transient=transient)
        if cause is not None:
            error.__cause__ = self.cause(cause)
        error.__suppress_context__ = True
        return error
