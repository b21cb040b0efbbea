"""The one cattrs converter every clientsim value and config file goes through.

It is strict: nothing is coerced (``"5"`` is not an int, ``1.5`` is not an int,
``true`` is not an int, ``5`` is not a string, ``"backend"`` is not the list
``["b", "a", ...]``), unknown keys are refused, and every problem is kept per key, so
an explanation (:mod:`clientsim.config.explain`) can name the key path. Datetimes
are ISO 8601 strings, enums their values, tuples lists.

A config family with needs of its own registers them per class, once, before the
class (or a class that holds it) is first structured:

    >>> import attrs
    >>> @attrs.frozen
    ... class Step:
    ...     text: str
    ...     tags: tuple[str, ...] = ()
    >>> register_structure_overrides(Step, from_value=lambda v: {"text": v} if
    ...     isinstance(v, str) else v, expected="a string or a mapping with text")
    >>> converter().structure("hello", Step)
    Step(text='hello', tags=())

cattrs loads on first use, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Literal, get_args, get_origin

import attrs

from clientsim._validators import shown


if TYPE_CHECKING:
    import cattrs

__all__ = [
    "OMIT_IF_DEFAULT",
    "WrongType",
    "converter",
    "expected_words",
    "omitted_fields",
    "register_structure_overrides",
    "register_unstructure_overrides",
]


class WrongType(TypeError):  # noqa: N818 - explained (with its key) before it escapes
    """A value of the wrong type was structured.

    Attributes:
        value: the value given.
        expected: what fits, in words (``"an integer"``), or ``""``.
    """

    def __init__(self, value: object, expected: str = "") -> None:
        super().__init__(
            f"expected {expected}; got {value!r}" if expected else f"got {shown(value)}"
        )
        self.value = value
        self.expected = expected


@attrs.frozen
class _Overrides:
    omit: frozenset[str] = frozenset()
    hooks: Mapping[str, Callable[..., Any]] = attrs.field(factory=dict)
    from_value: Callable[[object], object] | None = None
    expected: str | None = None


_STRUCTURE: Final[dict[type, _Overrides]] = {}
_UNSTRUCTURE: Final[dict[type, _Overrides]] = {}


def register_structure_overrides(
    cls: type,
    *,
    omit: Iterable[str] = (),
    hooks: Mapping[str, Callable[[Any, Any], Any]] | None = None,
    from_value: Callable[[object], object] | None = None,
    expected: str | None = None,
) -> None:
    """Change how the converter builds the attrs class ``cls`` from plain data.

    Call it once, before ``cls`` or a class holding it is first structured (cattrs
    builds each class's hook once, with the hooks of its fields inside).

    Args:
        cls: an attrs class.
        omit: fields never read from the data (a key of that name is unknown).
        hooks: per field, ``hook(value, type)`` that builds it instead of the
            converter; raise :class:`WrongType` for a value of the wrong type.
        from_value: turns what the data holds into a mapping first (e.g. a bare
            string into ``{"content": ...}``).
        expected: what fits where a ``cls`` belongs, in words, for explanations.
    """
    _STRUCTURE[cls] = _Overrides(
        omit=frozenset(omit),
        hooks=dict(hooks or {}),
        from_value=from_value,
        expected=expected,
    )
    conv = converter()
    conv.register_structure_hook(cls, _attrs_structure(conv, cls))


def register_unstructure_overrides(
    cls: type,
    *,
    omit: Iterable[str] = (),
    hooks: Mapping[str, Callable[[Any], Any]] | None = None,
) -> None:
    """Change how the converter turns the attrs class ``cls`` into plain data.

    Args:
        cls: an attrs class.
        omit: fields left out.
        hooks: per field, ``hook(value)`` that unstructures it instead.
    """
    from cattrs.gen import make_dict_unstructure_fn, override  # noqa: PLC0415

    _UNSTRUCTURE[cls] = _Overrides(omit=frozenset(omit), hooks=dict(hooks or {}))
    fields: dict[str, Any] = {name: override(omit=True) for name in omit}
    fields |= {name: override(unstruct_hook=h) for name, h in (hooks or {}).items()}
    conv = converter()
    conv.register_unstructure_hook(cls, make_dict_unstructure_fn(cls, conv, **fields))


def expected_words(type_: object) -> str | None:
    """What fits where a ``type_`` belongs, as registered (``None``: not registered)."""
    overrides = _STRUCTURE.get(type_) if isinstance(type_, type) else None
    return overrides.expected if overrides is not None else None


def omitted_fields(cls: type) -> frozenset[str]:
    """The fields of ``cls`` never read from data."""
    overrides = _STRUCTURE.get(cls)
    return overrides.omit if overrides is not None else frozenset()


@cache
def converter() -> cattrs.Converter:
    """The converter (built on first use; one per process)."""
    import cattrs  # noqa: PLC0415 - keeps `import clientsim` light

    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(float, _strict_float)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook_func(_is_literal, _structure_literal)
    conv.register_structure_hook_func(
        _is_tuple, lambda value, type_: _structure_tuple(conv, value, type_)
    )
    conv.register_unstructure_hook_func(
        _is_tuple, lambda value: [conv.unstructure(item) for item in value]
    )
    conv.register_unstructure_hook_factory(
        _omits_defaults, lambda cls: _unstructure_omitting_defaults(conv, cls)
    )
    conv.register_structure_hook_factory(
        attrs.has, lambda cls: _attrs_structure(conv, cls)
    )
    return conv


# ------------------------------------------------------------------ hooks


OMIT_IF_DEFAULT: Final = "clientsim_omit_if_default"
"""``attrs.field(metadata={OMIT_IF_DEFAULT: True})``: the field is left out of the
plain data while it holds its default (a field added later keeps older data, and
the data of values that do not use it, as they were)."""


def _omits_defaults(cls: Any) -> bool:
    return attrs.has(cls) and any(
        field.metadata.get(OMIT_IF_DEFAULT) for field in attrs.fields(cls)
    )


def _unstructure_omitting_defaults(
    conv: cattrs.Converter, cls: type
) -> Callable[[Any], Any]:
    from cattrs.gen import make_dict_unstructure_fn, override  # noqa: PLC0415

    fields: dict[str, Any] = {
        field.name: override(omit_if_default=True)
        for field in attrs.fields(cls)
        if field.metadata.get(OMIT_IF_DEFAULT)
    }
    return make_dict_unstructure_fn(cls, conv, **fields)


def _strict_int(value: object, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WrongType(value, "an integer")
    return value


def _strict_float(value: object, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WrongType(value, "a number")
    try:
        return float(value)
    except OverflowError:  # an int too large for a float
        raise WrongType(value, "a number") from None


def _strict_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise WrongType(value, "a string")
    return value


def _strict_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        raise WrongType(value, "true or false")
    return value


def _structure_datetime(value: object, _: type) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise WrongType(value, "an ISO 8601 date-time string")


def _is_literal(type_: object) -> bool:
    return get_origin(type_) is Literal


def _structure_literal(value: object, type_: object) -> object:
    options = get_args(type_)
    if any(type(option) is type(value) and option == value for option in options):
        return value
    raise WrongType(value, "one of " + ", ".join(map(repr, options)))


def _is_tuple(type_: object) -> bool:
    return type_ is tuple or get_origin(type_) is tuple


def _structure_tuple(
    conv: cattrs.Converter, value: object, type_: object
) -> tuple[object, ...]:
    """A list (or tuple) into a tuple, each item by its type; errors kept per item."""
    import cattrs  # noqa: PLC0415

    if not isinstance(value, list | tuple):
        raise WrongType(value, "a list")
    args = get_args(type_)
    if not args:
        return tuple(value)
    if len(args) == 2 and args[1] is Ellipsis:
        types = [args[0]] * len(value)
    elif len(args) != len(value):
        raise WrongType(value, f"a list of {len(args)} items")
    else:
        types = list(args)
    items: list[object] = []
    errors: list[Exception] = []
    for index, (item, item_type) in enumerate(zip(value, types, strict=True)):
        try:
            items.append(conv.get_structure_hook(item_type)(item, item_type))
        except Exception as exc:  # noqa: BLE001 - collected and explained per key, as cattrs does
            exc.add_note(
                cattrs.IterableValidationNote(f"item {index}", index, item_type)
            )
            errors.append(exc)
    if errors:
        raise cattrs.IterableValidationError(f"in {type_}", errors, type_)  # type: ignore[arg-type]
    return tuple(items)


def _attrs_structure(
    conv: cattrs.Converter, cls: type
) -> Callable[[object, type], object]:
    """An attrs class from a mapping (after the class's ``from_value``, if any)."""
    from cattrs.gen import make_dict_structure_fn, override  # noqa: PLC0415

    overrides = _STRUCTURE.get(cls, _Overrides())
    fields: dict[str, Any] = {name: override(omit=True) for name in overrides.omit}
    fields |= {
        name: override(struct_hook=hook) for name, hook in overrides.hooks.items()
    }
    generated: Callable[[Mapping[str, Any], Any], object] = make_dict_structure_fn(
        cls, conv, **fields
    )
    from_value = overrides.from_value

    def structure(value: object, _: type) -> object:
        if from_value is not None:
            value = from_value(value)
        if not isinstance(value, Mapping):
            raise WrongType(value, "a mapping")
        return generated(value, cls)

    return structure
