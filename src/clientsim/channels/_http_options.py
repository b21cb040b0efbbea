"""Checks of :class:`~clientsim.channels.http.HTTPChannel`'s options, and its secrets.

Each check raises :class:`~clientsim.errors.ConfigError` naming the option, the value
and what is allowed. Headers and the channel's secrets are checked and hidden by
:mod:`clientsim._secrets`, which the WebSocket channel shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from clientsim._validators import a_number, an_int
from clientsim.errors import ConfigError


HINTS: Final = {
    400: "; the agent rejected the request body",
    401: "; check the credentials in `headers`",
    403: "; check the credentials in `headers`",
    404: "; check `base_url` (and `path`)",
    405: "; check `base_url` (and `path`): the endpoint does not take POST",
    422: "; the agent rejected the request body",
}
"""What to check, by the status of a refused request."""


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


def endpoint(base_url: str, path: str) -> str:
    """``base_url`` with ``path`` added to its path; its query string (such as Azure's
    ``?api-version=...``) stays at the end, joined with one ``path`` may have."""
    parts = urlsplit(base_url)
    more_path, _, more_query = path.partition("?")
    joined = (
        parts.path.rstrip("/") + "/" + more_path.lstrip("/")
        if more_path
        else parts.path
    )
    query = "&".join(q for q in (parts.query, more_query) if q)
    return urlunsplit((parts.scheme, parts.netloc, joined, query, ""))


def url_path(url: str) -> str:
    """The path of ``url``, without its query string."""
    return urlsplit(url).path
