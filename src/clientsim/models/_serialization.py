"""Round trips between values and plain dicts / JSON, through one cattrs converter."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar


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
    return conv


def _structure_datetime(value: object, _: type) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    raise TypeError(f"expected an ISO 8601 string or a datetime; got {value!r}")


def to_dict(value: object) -> dict[str, Any]:
    """Turn a clientsim value into plain dicts, lists, strings and numbers."""
    data = converter().unstructure(value)
    if not isinstance(data, dict):
        raise TypeError(f"to_dict takes an attrs value; got {type(value).__name__}")
    return data


def from_dict(data: object, cls: type[T]) -> T:
    """Build a ``cls`` from plain data, as :func:`to_dict` produced it.

    Raises:
        ConfigError: the data does not fit ``cls``; the message says where and why.
    """
    import cattrs  # noqa: PLC0415

    from clientsim.errors import ConfigError  # noqa: PLC0415

    try:
        return converter().structure(data, cls)
    except ConfigError:
        raise
    except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
        raise ConfigError(_explain(exc, cls)) from exc


def _explain(exc: BaseException, cls: type) -> str:
    import cattrs  # noqa: PLC0415
    from cattrs.v import format_exception  # noqa: PLC0415

    from clientsim.errors import ClientSimError  # noqa: PLC0415

    def describe(error: BaseException, type_: type | None) -> str:
        if isinstance(error, ClientSimError):
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
