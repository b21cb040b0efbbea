"""Turning a failed structure into a :class:`~clientsim.errors.ConfigError` that says
which key, what it got and what it expected.

Two styles, for two readers:

* :func:`explain_value_error`, for values built from plain data in Python
  (``from_dict``): ``cannot build Message: Message.timestamp: expected an ISO 8601
  date-time string; got 'soon'``.
* :func:`explain_file_error`, for config files: one line per problem,
  ``key.path: expected <what fits that key>; got <the value as written>``, unknown
  keys with the keys allowed there and a did-you-mean, and how to use a default
  instead of ``null``. :func:`structure_file` structures and explains in one call.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from clientsim._validators import Check, FieldError, did_you_mean, plain, shown
from clientsim.config.converter import (
    WrongType,
    converter,
    expected_words,
    omitted_fields,
)
from clientsim.config.files import check_text_data
from clientsim.errors import ClientSimError, ConfigError


if TYPE_CHECKING:
    import cattrs

__all__ = ["explain_file_error", "explain_value_error", "structure_file"]

T = TypeVar("T")


# ------------------------------------------------------------ values in Python


def explain_value_error(exc: BaseException, cls: type) -> str:
    """``cannot build <cls>: <where>: <what>`` for a failed ``structure(data, cls)``."""
    import cattrs  # noqa: PLC0415
    from cattrs.v import format_exception  # noqa: PLC0415

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


# ------------------------------------------------------------ config files


def structure_file(
    data: object, cls: type[T], *, head: str, path: str = "", type_: object = None
) -> T:
    """``data`` as a ``cls``; any problem as one :class:`ConfigError` (see
    :func:`explain_file_error`).

    Args:
        data: plain data, as a YAML, TOML or JSON file holds it.
        cls: what to build.
        head: the start of the message, e.g. ``"invalid experiment config x.yaml"``.
        path: the key path of ``data`` in its file (``"[2]"``), or ``""``.
        type_: what ``data`` is, for the words of a top-level problem (``cls``).
    """
    import cattrs  # noqa: PLC0415

    check_text_data(data, head, path)
    try:
        return converter().structure(data, cls)
    except (
        cattrs.BaseValidationError,
        ConfigError,
        TypeError,
        ValueError,
        KeyError,
    ) as exc:
        raise explain_file_error(
            head, exc, path, cls if type_ is None else type_
        ) from exc


def explain_file_error(
    head: str, exc: BaseException, path: str = "", type_: object = None
) -> ConfigError:
    """One :class:`ConfigError`: ``head: problem``, or ``head:`` and a problem a line."""
    problems = list(dict.fromkeys(_problems(exc, path, None, type_)))
    if len(problems) == 1:
        return ConfigError(f"{head}: {problems[0]}")
    return ConfigError(f"{head}:" + "".join(f"\n  - {p}" for p in problems))


def _join(path: str, key: object) -> str:
    name = key if isinstance(key, str) else repr(key)
    if not path:
        return name
    return f"{path}{name}" if name.startswith("[") else f"{path}.{name}"


def _at(path: str, text: str) -> str:
    return f"{path}: {text}" if path else text


def _allowed(
    field: attrs.Attribute[Any] | None, type_: object, expected: str = ""
) -> str:
    """What fits a key: its validator's words, else words for its type."""
    if field is not None and isinstance(field.validator, Check):
        return field.validator.words
    registered = expected_words(type_)
    if registered is not None:
        return registered
    if expected:
        return expected
    if isinstance(type_, type) and attrs.has(type_):
        return "a mapping"
    names: dict[object, str] = {str: "a string", int: "an integer", float: "a number"}
    return names.get(type_, str(type_))


def _null_hint(field: attrs.Attribute[Any] | None) -> str:
    if field is None or field.default is attrs.NOTHING:
        return ""
    if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]  # a class
        return "; remove the key to use the default"
    return f"; remove the key to use the default ({plain(field.default)})"


def _unknown_keys(path: str, error: cattrs.ForbiddenExtraKeysError) -> Iterator[str]:
    omitted = omitted_fields(error.cl)
    allowed = [f.name for f in attrs.fields(error.cl) if f.name not in omitted]
    where = f"in {path}" if path else "at the top level"
    for key in sorted(error.extra_fields, key=str):
        yield (
            f"{_join(path, key)}: unknown key; allowed keys {where}: "
            f"{', '.join(allowed)}{did_you_mean(key, allowed)}"
        )


def _problems(
    exc: BaseException, path: str, field: attrs.Attribute[Any] | None, type_: object
) -> Iterator[str]:
    """One line per problem: ``key.path: what is wrong``."""
    import cattrs  # noqa: PLC0415

    if isinstance(exc, cattrs.ClassValidationError | cattrs.IterableValidationError):
        yield from _group_problems(exc, path, field, type_)
    elif isinstance(exc, FieldError):
        where = _join(path, exc.key) if exc.key else path
        yield f"{where}: {exc.detail}" if where else exc.detail
    elif isinstance(exc, WrongType):
        hint = _null_hint(field) if exc.value is None else ""
        yield _at(
            path,
            f"expected {_allowed(field, type_, exc.expected)}; "
            f"got {shown(exc.value)}{hint}",
        )
    elif isinstance(exc, KeyError):
        yield _at(path, f"required key missing; expected {_allowed(field, type_)}")
    else:
        yield _at(path, str(exc))


def _group_problems(
    exc: cattrs.ClassValidationError | cattrs.IterableValidationError,
    path: str,
    field: attrs.Attribute[Any] | None,
    type_: object,
) -> Iterator[str]:
    import cattrs  # noqa: PLC0415

    if isinstance(exc, cattrs.ClassValidationError):
        fields = attrs.fields_dict(exc.cl)
        with_notes, others = exc.group_exceptions()
        for sub, note in with_notes:
            name = note.name
            yield from _problems(sub, _join(path, name), fields.get(name), note.type)
    else:
        items, others = exc.group_exceptions()
        for sub, item in items:
            yield from _problems(sub, f"{path}[{item.index}]", None, item.type)
    for sub in others:
        if isinstance(sub, cattrs.ForbiddenExtraKeysError):
            yield from _unknown_keys(path, sub)
        else:
            yield from _problems(sub, path, field, type_)
