"""Keeping secrets out of what clientsim writes: URL credentials, query strings and
header values in configs that are stored with a run (metadata, the run store)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


__all__ = ["REDACTED", "redact_config", "redact_url"]

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
