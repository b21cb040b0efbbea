"""attrs validators that raise clientsim errors naming the field, value and type."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from clientsim.errors import InvalidTypeError


T = TypeVar("T")


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


def items_of(value: Iterable[T], cls: type[T], field: str) -> tuple[T, ...]:
    """``value`` as a tuple, checking that every item is a ``cls``."""
    items = value if type(value) is tuple else tuple(value)
    for item in items:
        if not isinstance(item, cls):
            raise InvalidTypeError(
                f"{field} must be {cls.__name__} objects; got {type(item).__name__}"
            )
    return items
