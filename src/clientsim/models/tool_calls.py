"""A tool call the agent made during its turn, and the tool's answer.

:class:`ToolCall` values ride on the agent's :class:`~clientsim.models.Message` of
the turn that made them (``message.tool_calls``), in the order they were made. They
are part of the transcript for tests, traces and reports; the simulated customer
never sees them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import attrs

from clientsim.errors import InvalidTypeError
from clientsim.models.frozen import FrozenDict, freeze


__all__ = [
    "ToolCall",
    "json_arguments",
    "plain_arguments",
    "tool_call_from_json",
    "tool_call_json",
]

_MAX_DEPTH: Final = 64


def _json_problem(value: object, where: str, depth: int = 0) -> str | None:
    """What makes ``value`` not JSON data (``None`` if it is)."""
    if depth > _MAX_DEPTH:
        return f"{where} is nested more than {_MAX_DEPTH} levels deep"
    if value is None or isinstance(value, str | bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where} is {value!r} (not JSON)"
    if isinstance(value, list | tuple):
        items: list[tuple[str, object]] = [
            (f"{where}[{index}]", item) for index, item in enumerate(value)
        ]
    elif isinstance(value, Mapping):
        strays = [key for key in value if not isinstance(key, str)]
        if strays:
            return f"{where} has a non-string key {strays[0]!r}"
        items = [(f"{where}[{key!r}]", item) for key, item in value.items()]
    else:
        return f"{where} is a {type(value).__name__}, not JSON data"
    problems = (_json_problem(item, place, depth + 1) for place, item in items)
    return next((problem for problem in problems if problem is not None), None)


def json_arguments(value: object) -> FrozenDict[str, object]:
    """``value`` as a tool call's arguments: a JSON object, frozen deeply.

    Raises:
        InvalidTypeError: ``value`` is not a mapping of strings to JSON data (strings,
            numbers, booleans, ``None``, lists and such mappings).
    """
    if not isinstance(value, Mapping):
        raise InvalidTypeError(
            "a tool call's arguments must be a mapping of names to JSON values; got "
            f"{type(value).__name__}"
        )
    problem = _json_problem(value, "arguments")
    if problem is not None:
        raise InvalidTypeError(
            f"a tool call's arguments must be JSON data (strings, finite numbers, "
            f"booleans, None, lists and objects with string keys): {problem}"
        )
    frozen: FrozenDict[str, object] = freeze(value)
    return frozen


def plain_arguments(value: Mapping[str, object]) -> dict[str, Any]:
    """The arguments as plain JSON data: dicts and lists (for ``json.dumps``)."""
    return {key: _plain(item) for key, item in value.items()}


def _plain(value: object) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _name(_: object, __: object, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidTypeError(
            f"a tool call's name must be a non-empty string; got {value!r}"
        )


def _optional_text(field: str) -> Any:
    def check(_: object, __: object, value: object) -> None:
        if value is not None and not isinstance(value, str):
            raise InvalidTypeError(
                f"a tool call's {field} must be a string or None; got "
                f"{type(value).__name__}"
            )

    return check


_NO_ARGUMENTS: Final[FrozenDict[str, object]] = FrozenDict()


@attrs.frozen
class ToolCall:
    """One tool call of the agent: which tool, with what, and what it answered.

    Attributes:
        name: the tool's name (``"lookup_order"``).
        arguments: the arguments, a read-only JSON object (nested mappings are
            :class:`~clientsim.models.FrozenDict` s, lists tuples). An agent that sent
            arguments that are not a JSON object (an HTTP agent's malformed
            ``arguments`` string) has them kept as ``{"_raw": text}``.
        id: the call's id, as the agent named it (``tool_call_id``), if it did.
        result: the tool's answer (a ``ToolMessage``'s content), when the agent got
            one during the turn.

    Example:
        >>> call = ToolCall("lookup_order", {"order_id": "123"}, id="call_1")
        >>> call.arguments["order_id"]
        '123'
        >>> ToolCall("refund", {"when": object()})
        Traceback (most recent call last):
        ...
        clientsim.errors.InvalidTypeError: a tool call's arguments must be JSON ...
    """

    name: str = attrs.field(validator=_name)
    arguments: FrozenDict[str, Any] = attrs.field(
        default=_NO_ARGUMENTS,
        converter=json_arguments,
    )
    id: str | None = attrs.field(default=None, validator=_optional_text("id"))
    result: str | None = attrs.field(
        default=None, validator=_optional_text("result"), kw_only=True
    )

    def describe(self) -> str:
        """The call in one line: ``lookup_order(order_id='123')``."""
        shown = ", ".join(
            f"{key}={_plain(value)!r}" for key, value in self.arguments.items()
        )
        return f"{self.name}({shown})"


def tool_call_json(call: ToolCall) -> dict[str, Any]:
    """``call`` as JSON data: ``{"name", "arguments", "id", "result"}``."""
    return {
        "name": call.name,
        "arguments": plain_arguments(call.arguments),
        "id": call.id,
        "result": call.result,
    }


def tool_call_from_json(data: object) -> ToolCall:
    """The :class:`ToolCall` that :func:`tool_call_json` gave ``data`` for.

    Raises:
        InvalidTypeError: ``data`` is not such an object.
    """
    if not isinstance(data, Mapping):
        raise InvalidTypeError(
            f"a tool call must be an object with 'name' and 'arguments'; got {data!r}"
        )
    unknown = sorted(set(data) - {"name", "arguments", "id", "result"})
    if unknown:
        raise InvalidTypeError(
            f"a tool call has unknown key(s) {unknown}; allowed: name, arguments, id, "
            "result"
        )
    name: Any = data.get("name")  # checked by ToolCall
    return ToolCall(
        name,
        data.get("arguments", {}),
        data.get("id"),
        result=data.get("result"),
    )
