"""Checks of :class:`~clientsim.channels.http.HTTPChannel`'s options, and its secrets.

Each check raises :class:`~clientsim.errors.ConfigError` naming the option, the value
and what is allowed; a header's value is never shown, since it may be an API key.
:func:`secrets_of` lists what error messages must never show and :func:`display` gives a
URL without its credentials or query string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from clientsim._validators import a_number, an_int
from clientsim.errors import ConfigError


_BENIGN_HEADERS: Final = frozenset(
    {"accept", "accept-encoding", "accept-language", "content-type", "user-agent"}
)


def require(ok: bool, option: str, value: object, allowed: str) -> None:
    if not ok:
        raise ConfigError(
            f"HTTPChannel option {option}={value!r} is not allowed; it must be {allowed}"
        )


def only_with(mode: str, **options: object) -> None:
    for option, value in options.items():
        require(value is None, option, value, f"set only with mode={mode!r}")


def is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def number(option: str, value: object, *, positive: bool = False) -> float:
    check = a_number(above=0) if positive else a_number(low=0)
    require(check.test(value), option, value, check.allowed)
    return float(value)  # type: ignore[arg-type]  # checked above


def count(option: str, value: object, *, minimum: int) -> int:
    check = an_int(low=minimum)
    require(check.test(value), option, value, check.allowed)
    return value  # type: ignore[return-value]  # checked above


def headers_of(headers: object) -> dict[str, str]:
    """Check ``headers`` without ever showing a header's value (it may be a key)."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ConfigError(
            "HTTPChannel option headers must be a mapping of header names to strings; "
            f"got a {type(headers).__name__}"
        )
    for name, value in headers.items():
        if not is_text(name) or not isinstance(value, str):
            raise ConfigError(
                f"HTTPChannel option headers: header {name!r} must be a non-empty name "
                f"with a string value; got a {type(value).__name__} value"
            )
    return dict(headers)


def dot_path(option: str, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    require(isinstance(value, str), option, value, "a dot path such as 'data.reply'")
    if not value:
        return ()
    segments = tuple(value.split("."))
    require(
        all(segments),
        option,
        value,
        "a dot path without empty parts, e.g. 'data.reply'",
    )
    return segments


def json_of(option: str, value: Mapping[str, object]) -> dict[str, object]:
    """A deep copy of ``value`` as plain JSON types; raise ConfigError where it is not."""

    def convert(item: object, where: str) -> object:
        if item is None or isinstance(item, str | int | float | bool):
            return item
        if isinstance(item, Mapping):
            if not all(isinstance(key, str) for key in item):
                raise ConfigError(
                    f"HTTPChannel option {option}: keys at {where} must be strings; "
                    f"got {list(item)!r}"
                )
            return {k: convert(v, f"{where}.{k}") for k, v in item.items()}
        if isinstance(item, Sequence) and not isinstance(item, bytes | bytearray):
            return [convert(v, f"{where}.{i}") for i, v in enumerate(item)]
        raise ConfigError(
            f"HTTPChannel option {option}: the value at {where} is a "
            f"{type(item).__name__}; it must be JSON (str, number, bool, None, list, dict)"
        )

    result = convert(value, option)
    assert isinstance(result, dict)  # noqa: S101 - a mapping converts to a dict
    return result


def secrets_of(headers: Mapping[str, str], base_url: str) -> tuple[str, ...]:
    """What error messages must never show: header values and URL credentials."""
    found: set[str] = set()
    for name, value in headers.items():
        if name.lower() in _BENIGN_HEADERS:
            continue
        found.add(value.strip())
        found.update(part for part in value.split() if len(part) >= 8)
    parts = urlsplit(base_url)
    found.update(v for _, v in parse_qsl(parts.query) if len(v) >= 4)
    if parts.password:
        found.add(parts.password)
    return tuple(sorted((s for s in found if len(s) >= 4), key=len, reverse=True))


def display(url: str) -> str:
    """``url`` without credentials, query string or fragment."""
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", "")
    )
