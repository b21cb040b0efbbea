"""attrs validators that raise clientsim errors naming the field, value and type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clientsim.errors import InvalidTypeError


def typed(*types: type, optional: bool = False) -> Callable[[Any, Any, Any], None]:
    """Validate that a field holds one of ``types`` (or ``None`` if ``optional``)."""
    names = " or ".join(t.__name__ for t in types) + (" or None" if optional else "")

    def check(_: object, attribute: Any, value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, types):
            raise InvalidTypeError(
                f"{attribute.name} must be {names}; got {type(value).__name__} {value!r}"
            )

    return check


def non_negative_int(_: object, attribute: Any, value: Any) -> None:
    """Validate a count: an ``int`` (not a bool) >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidTypeError(
            f"{attribute.name} must be a non-negative int; got {value!r}"
        )
