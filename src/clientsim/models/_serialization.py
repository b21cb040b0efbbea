"""Round trips between values and plain dicts / JSON, through one cattrs converter."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import attrs


if TYPE_CHECKING:
    import cattrs

T = TypeVar("T")

__all__ = ["converter", "from_dict", "from_json", "to_dict", "to_json"]


@cache
def converter() -> cattrs.Converter:
    """The converter every clientsim value goes through (built on first use).

    Datetimes become ISO 8601 strings; enums their values; unknown keys are refused.
    """
    import cattrs  # noqa: PLC0415 - keeps `import clientsim` light

    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_structure_hook(datetime, _structure_datetime)
    # No silent coercion: 1.5 is not an int, "5" is not a number, 5 is not a string.
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(float, _strict_float)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(bool, _strict_bool)
    # No silent splitting: "backend" is not the list ["b", "a", ...].
    base_tuple = conv._structure_tuple  # noqa: SLF001 - cattrs' own tuple handling

    def strict_tuple(value: object, type_: Any) -> Any:
        if isinstance(value, str | bytes | Mapping):
            raise TypeError(f"expected a list; got {value!r}")
        return base_tuple(value, type_)  # type: ignore[arg-type]

    conv.register_structure_hook_func(_is_tuple, strict_tuple)
    return conv


def _is_tuple(type_: object) -> bool:
    import typing  # noqa: PLC0415

    return type_ is tuple or typing.get_origin(type_) is tuple


def _strict_int(value: object, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer; got {value!r}")
    return value


def _strict_float(value: object, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number; got {value!r}")
    return float(value)


def _strict_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string; got {value!r}")
    return value


def _strict_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false; got {value!r}")
    return value


def _structure_datetime(value: object, _: type) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise TypeError(f"expected an ISO 8601 date-time string; got {value!r}")


def to_dict(value: object) -> dict[str, Any]:
    """Turn a clientsim value into plain dicts, lists, strings and numbers."""
    data = converter().unstructure(value)
    if not isinstance(data, dict):
        from clientsim.errors import InvalidTypeError  # noqa: PLC0415

        raise InvalidTypeError(
            f"to_dict takes an attrs value; got {type(value).__name__}"
        )
    return data


def from_dict(data: object, cls: type[T]) -> T:
    """Build a ``cls`` from plain data, as :func:`to_dict` produced it.

    Raises:
        ConfigError: the data does not fit ``cls``; the message says where and why.
    """
    import cattrs  # noqa: PLC0415

    from clientsim.errors import ConfigError  # noqa: PLC0415

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
        raise ConfigError(_explain(exc, cls)) from exc


def _explain(exc: BaseException, cls: type) -> str:
    import cattrs  # noqa: PLC0415
    from cattrs.v import format_exception  # noqa: PLC0415

    from clientsim.errors import ClientSimError  # noqa: PLC0415

    def describe(error: BaseException, type_: type | None) -> str:
        if isinstance(error, ClientSimError):
            return str(error)
        if isinstance(type_, type) and issubclass(type_, enum.Enum):
            allowed = ", ".join(repr(member.value) for member in type_)
            return f"{error}; allowed: {allowed}"
        if isinstance(error, TypeError | ValueError) and str(error):
            return str(error)
        return format_exception(error, type_)

    if isinstance(exc, cattrs.BaseValidationError):
        details = "; ".join(
            cattrs.transform_error(exc, path=cls.__name__, format_exception=describe)
        )
        return f"cannot build {cls.__name__}: {details}"
    return f"cannot build {cls.__name__}: {exc}"


def to_json(value: object) -> str:
    """Serialise a clientsim value to a JSON string."""
    return json.dumps(to_dict(value), ensure_ascii=False)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Parse a JSON string produced by :func:`to_json` back into a ``cls``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        from clientsim.errors import ConfigError  # noqa: PLC0415

        raise ConfigError(
            f"cannot build {cls.__name__}: not valid JSON ({exc})"
        ) from exc
    return from_dict(data, cls)
