"""A read-only mapping for the free-form data a frozen value carries.

:class:`FrozenDict` is what a value's mapping fields hold (``Task.metadata``,
``ClientFeedback.scores``, ``SubmitContext.metadata``, ``ConversationRecord.models``):
it reads like a ``dict`` (``json.dumps`` takes it, ``==`` compares it with a dict),
refuses every change, and hashes, so the value holding it hashes too. :func:`freeze`
builds one, deeply: nested mappings become ``FrozenDict`` s, lists and tuples tuples,
sets frozensets; anything else is kept as it is.

To change a value's mapping, build a new one and evolve the value::

    task = attrs.evolve(task, metadata={**task.metadata, "note": "urgent"})

Example:
    >>> data = freeze({"stages": ["internal"], "scores": {"clarity": 0.8}})
    >>> data
    FrozenDict({'stages': ('internal',), 'scores': FrozenDict({'clarity': 0.8})})
    >>> data == {"stages": ("internal",), "scores": {"clarity": 0.8}}
    True
    >>> hash(data) == hash(freeze({"scores": {"clarity": 0.8}, "stages": ["internal"]}))
    True
    >>> data["note"] = "x"
    Traceback (most recent call last):
    ...
    TypeError: a FrozenDict is read-only; build a new mapping instead ({**old, key: value})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn, Self, TypeVar

from clientsim.errors import InvalidTypeError


__all__ = ["FrozenDict", "freeze", "freeze_mapping", "thaw"]

K = TypeVar("K")
V = TypeVar("V")

_READ_ONLY = (
    "a FrozenDict is read-only; build a new mapping instead ({**old, key: value})"
)


class FrozenDict(dict[K, V]):
    """A ``dict`` that cannot be changed, and so can be hashed.

    Build it as a dict (``FrozenDict({"a": 1})``, ``FrozenDict(a=1)``); use
    :func:`freeze` to freeze nested data too. Copies are the same object.
    """

    __slots__ = ("_hash",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hash: int | None = None

    def __hash__(self) -> int:  # type: ignore[override]  # a dict has none
        if self._hash is None:
            self._hash = hash(frozenset(self.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"

    def __reduce__(self) -> tuple[type[Self], tuple[dict[K, V]]]:
        return type(self), (dict(self),)

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: object) -> Self:
        return self

    @classmethod
    def fromkeys(  # type: ignore[override]
        cls, keys: Iterable[K], value: V | None = None
    ) -> FrozenDict[K, V | None]:
        """A FrozenDict with ``keys``, each mapped to ``value``."""
        return FrozenDict(dict.fromkeys(keys, value))

    def _read_only(self, *_: object, **__: object) -> NoReturn:
        raise TypeError(_READ_ONLY)

    __setitem__ = _read_only
    __delitem__ = _read_only
    __ior__ = _read_only
    clear = _read_only
    pop = _read_only
    popitem = _read_only
    setdefault = _read_only
    update = _read_only


def freeze(value: object) -> Any:
    """``value`` with every mapping, list, tuple and set in it made read-only.

    Mappings become :class:`FrozenDict` s, lists and tuples become tuples, sets become
    frozensets; other values are kept as they are (a frozen attrs value is already
    read-only).
    """
    if isinstance(value, str | int | float | bool | None):
        return value
    if isinstance(value, Mapping):
        return FrozenDict({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    if isinstance(value, set | frozenset):
        return frozenset(freeze(item) for item in value)
    return value


def freeze_mapping(value: object, field: str) -> FrozenDict[Any, Any]:
    """:func:`freeze` for a value's mapping field.

    Raises:
        InvalidTypeError: ``value`` is not a mapping; the message names ``field``.
    """
    if not isinstance(value, Mapping):
        raise InvalidTypeError(
            f"{field} must be a mapping (a dict); got {type(value).__name__} {value!r}"
        )
    frozen: FrozenDict[Any, Any] = freeze(value)
    return frozen


def thaw(value: object) -> Any:
    """The inverse of :func:`freeze` for JSON data: every mapping a ``dict`` (keys as
    strings), every tuple or list a ``list``; other values as they are.

    Example:
        >>> thaw(freeze({"a": [1, {"b": 2}]}))
        {'a': [1, {'b': 2}]}
    """
    if isinstance(value, str | int | float | bool | None):
        return value
    if isinstance(value, Mapping):
        return {str(key): thaw(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(item) for item in value]
    return value
