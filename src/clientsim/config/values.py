"""Round trips between clientsim values and plain dicts / JSON.

Example:
    >>> from clientsim.models import TokenUsage
    >>> to_dict(TokenUsage(input_tokens=3, calls=1))
    {'input_tokens': 3, 'output_tokens': 0, 'total_tokens': 0, 'calls': 1}
    >>> from_dict({"calls": True}, TokenUsage)
    Traceback (most recent call last):
    ...
    clientsim.errors.ConfigError: cannot build TokenUsage: expected an integer; got True @ ...
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

from clientsim.config.converter import converter
from clientsim.config.explain import explain_value_error
from clientsim.errors import ConfigError, InvalidTypeError


__all__ = ["from_dict", "from_json", "to_dict", "to_json"]

T = TypeVar("T")


def to_dict(value: object) -> dict[str, Any]:
    """Turn a clientsim value into plain dicts, lists, strings and numbers.

    Raises:
        InvalidTypeError: ``value`` is not an attrs value.
    """
    data = converter().unstructure(value)
    if not isinstance(data, dict):
        raise InvalidTypeError(
            f"to_dict takes an attrs value; got {type(value).__name__}"
        )
    return data


def from_dict(data: object, cls: type[T]) -> T:
    """Build a ``cls`` from plain data, as :func:`to_dict` produced it.

    Raises:
        ConfigError: the data does not fit ``cls``; the message says where and why.
    """
    import cattrs  # noqa: PLC0415 - loads with the converter, on first use

    if attrs.has(cls) and not isinstance(data, Mapping):
        raise ConfigError(
            f"cannot build {cls.__name__}: expected a mapping (a JSON object); "
            f"got {type(data).__name__}"
        )
    try:
        return converter().structure(data, cls)
    except ConfigError:
        raise
    except (
        cattrs.BaseValidationError,
        TypeError,
        ValueError,
        KeyError,
        AttributeError,
    ) as exc:
        raise ConfigError(explain_value_error(exc, cls)) from exc


def to_json(value: object) -> str:
    """Serialise a clientsim value to a JSON string."""
    return json.dumps(to_dict(value), ensure_ascii=False)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Parse a JSON string produced by :func:`to_json` back into a ``cls``.

    Raises:
        ConfigError: the text is not JSON, or does not fit ``cls``.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"cannot build {cls.__name__}: not valid JSON ({exc})"
        ) from exc
    return from_dict(data, cls)
