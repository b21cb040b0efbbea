"""The checks clientsim applies to what it is given, each written once.

Every check names the value, says what is allowed and shows what it got:

    >>> check_int("max_turns", 0, low=1)
    Traceback (most recent call last):
    ...
    clientsim.errors.ConfigError: max_turns must be an int >= 1; got 0

A value of the wrong type raises :class:`~clientsim.errors.InvalidTypeError` (a
``ConfigError`` that is also a ``TypeError``); a value of the right type that breaks
the rule (out of range, blank) raises :class:`~clientsim.errors.ConfigError`.

Each rule comes in three forms:

* ``check_int(name, value, low=1)`` and its siblings, for plain code (a service's
  ``__init__``, a function's arguments); they return the value.
* ``an_int(low=1)`` and its siblings return a :class:`Check`, which is an attrs
  validator: ``attrs.field(validator=an_int(low=0))``.
* ``an_int(low=1, high=1000).in_file()``: the same rule in a config file's words
  (``integer``, ``null``), raising :class:`FieldError` (``"iterations: expected an
  integer from 1 to 1000; got '5' (a string)"``), which the config loader
  (:mod:`clientsim.config`) turns into a key path.

This module imports nothing from clientsim but :mod:`clientsim.errors`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, Literal, TypeVar, overload

import attrs

from clientsim.errors import ConfigError, InvalidTypeError


__all__ = [
    "Check",
    "FieldError",
    "a_bool",
    "a_number",
    "a_text",
    "an_int",
    "check_bool",
    "check_choice",
    "check_int",
    "check_number",
    "check_seconds",
    "check_text",
    "did_you_mean",
    "is_int",
    "is_number",
    "items_of",
    "one_of",
    "or_none",
    "plain",
    "seconds",
    "shown",
    "texts",
    "typed",
]

T = TypeVar("T")


# ------------------------------------------------------------------- words


class FieldError(ConfigError):
    """A value broke a field's rule. ``key`` is the (relative) key path, or ``""``.

    The config loader prefixes ``key`` with the path of the mapping that holds it.
    """

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(f"{key}: {detail}" if key else detail)
        self.key = key
        self.detail = detail


def is_int(value: object) -> bool:
    """Whether ``value`` is an ``int`` and not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """Whether ``value`` is an ``int`` or a ``float`` and not a ``bool``."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def plain(value: object) -> str:
    """A value as it looks in a YAML or JSON file: ``null``, ``true``, ``'text'``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and value.bit_length() > 64:
        return "a very large integer"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_KINDS: dict[type, str] = {
    bool: "a boolean",
    str: "a string",
    int: "an integer",
    float: "a number",
    list: "a list",
    tuple: "a list",
    dict: "a mapping",
}


def shown(value: object) -> str:
    """A value as the user wrote it, with its kind: ``'5' (a string)``, ``null``."""
    if value is None or (isinstance(value, int) and value.bit_length() > 64):
        return plain(value)
    return f"{plain(value)} ({_KINDS.get(type(value), type(value).__name__)})"


def did_you_mean(name: object, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, or ``""``."""
    close = (
        difflib.get_close_matches(name, list(choices), n=1)
        if isinstance(name, str)
        else []
    )
    return f"; did you mean {close[0]!r}?" if close else ""


def _always(_: object) -> bool:
    return True


def _no_hint(_: object) -> str:
    return ""


def _figure(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _bounds(low: float | None, high: float | None, above: float | None = None) -> str:
    if low is not None and high is not None and above is None:
        return f" from {_figure(low)} to {_figure(high)}"
    parts = [
        f"{sign} {_figure(bound)}"
        for sign, bound in ((">=", low), (">", above), ("<=", high))
        if bound is not None
    ]
    return " " + " and ".join(parts) if parts else ""


# ------------------------------------------------------------------- checks


@attrs.frozen
class Check:
    """A rule a value must follow, with the words for what fits.

    It is an attrs validator; :meth:`check` applies it in plain code.

    Attributes:
        allowed: what fits, in Python's words (``"an int >= 1"``, ``"... or None"``).
        file_words: what fits, in a config file's words (``"an integer >= 1"``,
            ``"... or null"``).
        accepts: whether a value has the right type.
        holds: whether a value of the right type keeps the rule (range, not blank).
        hint: more words for a value that does not fit (a did-you-mean).
        in_files: raise :class:`FieldError` with ``file_words`` (see :meth:`in_file`).
    """

    allowed: str
    file_words: str
    accepts: Callable[[Any], bool]
    holds: Callable[[Any], bool] = _always
    hint: Callable[[Any], str] = _no_hint
    in_files: bool = False

    @property
    def words(self) -> str:
        """What fits, in the words this check's errors use."""
        return self.file_words if self.in_files else self.allowed

    def test(self, value: object) -> bool:
        """Whether ``value`` fits."""
        return self.accepts(value) and self.holds(value)

    def check(self, name: str, value: T) -> T:
        """``value`` if it fits; else the error naming ``name``.

        Raises:
            InvalidTypeError: ``value`` has the wrong type.
            ConfigError: ``value`` breaks the rule (or, for :meth:`in_file` checks,
                a :class:`FieldError` either way).
        """
        if not self.test(value):
            raise self.error(name, value)
        return value

    def error(self, name: str, value: object) -> ConfigError:
        """The error for ``value`` under ``name``."""
        hint = self.hint(value)
        if self.in_files:
            return FieldError(
                name, f"expected {self.file_words}; got {shown(value)}{hint}"
            )
        kind = ConfigError if self.accepts(value) else InvalidTypeError
        return kind(f"{name} must be {self.allowed}; got {value!r}{hint}")

    def in_file(self) -> Check:
        """This rule as a config file states it: errors are :class:`FieldError`\\ s
        saying ``expected <file_words>; got <the value as written>``."""
        return attrs.evolve(self, in_files=True)

    def __call__(self, _: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not (self.accepts(value) and self.holds(value)):  # test(), one call less
            raise self.error(attribute.name, value)


@cache  # checks are immutable: one per rule
def an_int(low: int | None = None, high: int | None = None, *, note: str = "") -> Check:
    """An ``int`` (never a ``bool``) from ``low`` to ``high``, both included.

    ``note`` is added to the words, e.g. why the range is what it is.
    """
    bounds = _bounds(low, high)
    return Check(
        f"an int{bounds}{note}",
        f"an integer{bounds}{note}",
        is_int,
        lambda value: (low is None or value >= low) and (high is None or value <= high),
    )


@cache  # checks are immutable: one per rule
def a_number(
    low: float | None = None,
    high: float | None = None,
    *,
    above: float | None = None,
    note: str = "",
) -> Check:
    """A finite ``int`` or ``float`` (never a ``bool``) from ``low`` to ``high``.

    ``above`` is a bound that is not included (``a_number(above=0)``: ``> 0``).
    """
    words = f"a number{_bounds(low, high, above)}{note}"
    return Check(
        words,
        words,
        is_number,
        lambda value: (
            math.isfinite(value)
            and (low is None or value >= low)
            and (high is None or value <= high)
            and (above is None or value > above)
        ),
    )


@cache  # checks are immutable: one per rule
def seconds(*, zero: bool = False) -> Check:
    """A finite number of seconds, > 0 (or >= 0 with ``zero=True``)."""
    words = f"a number of seconds {'>=' if zero else '>'} 0"
    return Check(
        words,
        words,
        is_number,
        lambda value: math.isfinite(value) and (value >= 0 if zero else value > 0),
    )


@cache  # checks are immutable: one per rule
def a_text(*, non_empty: bool = False) -> Check:
    """A ``str`` that is text (no lone surrogate, see :func:`lone_surrogate`); with
    ``non_empty``, one that is not blank."""
    words = "a non-empty string" if non_empty else "a string"
    return Check(
        words,
        words,
        lambda value: isinstance(value, str),
        _is_non_empty_text if non_empty else _is_text,
        _surrogate_hint,
    )


def _is_text(value: str) -> bool:
    return value.isascii() or lone_surrogate(value) is None


def _is_non_empty_text(value: str) -> bool:
    return bool(value.strip()) and _is_text(value)


def _surrogate_hint(value: object) -> str:
    problem = lone_surrogate(value) if isinstance(value, str) else None
    return f"; it {problem}" if problem else ""


@cache  # checks are immutable: one per rule
def a_bool(*, optional: bool = False) -> Check:
    """``True`` or ``False`` (not 0 or 1); with ``optional``, or ``None``."""
    if optional:
        return Check(
            "None, True or False",
            "null, true or false",
            lambda v: v is None or isinstance(v, bool),
        )
    return Check("True or False", "true or false", lambda v: isinstance(v, bool))


@cache  # checks are immutable: one per rule
def one_of(*options: str) -> Check:
    """One of ``options`` (strings), with a did-you-mean for a near miss."""
    words = "one of " + ", ".join(map(repr, options))
    return Check(
        words,
        words,
        lambda value: isinstance(value, str),
        lambda value: value in options,
        lambda value: did_you_mean(value, options),
    )


def or_none(check: Check) -> Check:
    """``check``, or ``None``."""
    return attrs.evolve(
        check,
        allowed=f"{check.allowed} or None",
        file_words=f"{check.file_words} or null",
        accepts=lambda value: value is None or check.accepts(value),
        holds=lambda value: value is None or check.holds(value),
    )


# -------------------------------------------------------- plain-code forms

_INT = an_int()


def check_int(
    name: str, value: object, *, low: int | None = None, high: int | None = None
) -> int:
    """``value`` if it is an ``int`` (not a ``bool``) from ``low`` to ``high``.

    Raises:
        InvalidTypeError: it is not an ``int``.
        ConfigError: it is out of range.
    """
    check = _INT if low is None and high is None else an_int(low, high)
    checked: int = check.check(name, value)  # type: ignore[assignment]
    return checked


def check_number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    above: float | None = None,
) -> float:
    """``value`` as a ``float`` if it is a finite number within the bounds.

    Raises:
        InvalidTypeError: it is not a number (a ``bool`` is not one).
        ConfigError: it is out of range, or not finite.
    """
    a_number(low, high, above=above).check(name, value)
    return float(value)  # type: ignore[arg-type]


@overload
def check_seconds(
    name: str, value: object, *, zero: bool = ..., optional: Literal[False] = ...
) -> float: ...


@overload
def check_seconds(
    name: str, value: object, *, zero: bool = ..., optional: Literal[True]
) -> float | None: ...


def check_seconds(
    name: str, value: object, *, zero: bool = False, optional: bool = False
) -> float | None:
    """``value`` as a ``float`` if it is a finite number of seconds > 0 (``zero``:
    >= 0), or ``None`` when ``optional``.

    Raises:
        InvalidTypeError: it is not a number.
        ConfigError: it is not > 0 (>= 0), or not finite.
    """
    check = seconds(zero=zero)
    (or_none(check) if optional else check).check(name, value)
    return None if value is None else float(value)  # type: ignore[arg-type]


@overload
def check_text(
    name: str, value: object, *, non_empty: bool = ..., optional: Literal[False] = ...
) -> str: ...


@overload
def check_text(
    name: str, value: object, *, non_empty: bool = ..., optional: Literal[True]
) -> str | None: ...


def check_text(
    name: str, value: object, *, non_empty: bool = False, optional: bool = False
) -> str | None:
    """``value`` if it is a ``str`` (with ``non_empty``: not blank), or ``None``
    when ``optional``.

    Raises:
        InvalidTypeError: it is not a string.
        ConfigError: it is blank.
    """
    check = a_text(non_empty=non_empty)
    checked: str | None = (or_none(check) if optional else check).check(name, value)  # type: ignore[assignment]
    return checked


def check_bool(name: str, value: object) -> bool:
    """``value`` if it is ``True`` or ``False``.

    Raises:
        InvalidTypeError: it is not a ``bool``.
    """
    checked: bool = a_bool().check(name, value)  # type: ignore[assignment]
    return checked


def check_choice(name: str, value: object, options: Iterable[str]) -> str:
    """``value`` if it is one of ``options``.

    Raises:
        InvalidTypeError: it is not a string.
        ConfigError: it is another string (with a did-you-mean).
    """
    checked: str = one_of(*options).check(name, value)  # type: ignore[assignment]
    return checked


# ------------------------------------------------------- types of values


def typed(*types: type, optional: bool = False) -> Callable[[Any, Any, Any], None]:
    """An attrs validator: the field holds one of ``types`` (or ``None`` if ``optional``).

    Raises:
        InvalidTypeError: naming the field, the types and what it got.
    """
    names = " or ".join(t.__name__ for t in types) + (" or None" if optional else "")

    def check(_: object, attribute: Any, value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, types):
            raise InvalidTypeError(
                f"{attribute.name} must be {names}; got {type(value).__name__} {value!r}"
            )

    return check


def items_of(value: Iterable[T], cls: type[T], field: str) -> tuple[T, ...]:
    """``value`` as a tuple, checking that every item is a ``cls``.

    Raises:
        InvalidTypeError: an item is not a ``cls``.
    """
    items = value if type(value) is tuple else tuple(value)
    for item in items:
        if not isinstance(item, cls):
            raise InvalidTypeError(
                f"{field} must be {cls.__name__} objects; got {type(item).__name__}"
            )
    return items


def lone_surrogate(text: str) -> str | None:
    """What is wrong with ``text`` if it holds a lone surrogate (half of a UTF-16
    pair, as an escape such as ``"\\udc80"`` in JSON or YAML makes), else ``None``.

    Such a string is not text: it cannot be encoded as UTF-8, so every conversation
    that sends it would fail.

    Example:
        >>> lone_surrogate("caf\\u00e9") is None
        True
        >>> lone_surrogate("bad \\udc80")
        "holds a lone surrogate ('\\\\udc80' at character 4), which is not text; remove it"
    """
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"holds a lone surrogate ({text[exc.start]!r} at character {exc.start}), "
            "which is not text; remove it"
        )
    return None


def texts(value: object) -> tuple[str, ...]:
    """A converter: one string, or an iterable of strings, as a tuple of strings.

    Raises:
        InvalidTypeError: ``value`` is not a string nor an iterable of strings.
    """
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable):
        raise InvalidTypeError(
            f"expected a list of strings; got {type(value).__name__}"
        )
    items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise InvalidTypeError(
                f"expected a list of strings; got an item of type {type(item).__name__}"
            )
    return items
