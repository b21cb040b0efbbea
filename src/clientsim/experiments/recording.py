"""Argument recording and replay (seed 003's ``replay_args``).

Record the arguments your agent's entry point really receives, then replay them in
an experiment with the customer's message put in at a dot path::

    @record_args
    async def handle(websocket, data): ...

    # CLIENTSIM_RECORD_ARGS=1 python my_app.py   -> recordings/args_recording.jsonl

    calls = load_recording("recordings/args_recording.jsonl")
    replay = ReplayTarget(handle, calls, "data.content")
    reply = await replay("Where is my order?")

Each line of a recording is one call::

    {"args": [], "kwargs": {"data": {"content": "hi"}}, "timestamp": "2025-01-17T14:30:22Z"}
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import logging
import math
import os
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, ParamSpec, TypeVar, cast

import anyio.to_thread
import attrs

from clientsim._validators import check_int
from clientsim.errors import ConfigError


__all__ = [
    "DEFAULT_RECORDING_FILE",
    "RECORDING_FILE_ENV",
    "RECORD_ARGS_ENV",
    "RecordedCall",
    "ReplayTarget",
    "load_recording",
    "override_param",
    "record_args",
]

RECORD_ARGS_ENV: Final = "CLIENTSIM_RECORD_ARGS"
"""Set to ``1``, ``true`` or ``yes`` (any case) to record calls."""
RECORDING_FILE_ENV: Final = "CLIENTSIM_RECORDING_FILE"
"""The file recordings are appended to (default :data:`DEFAULT_RECORDING_FILE`)."""
DEFAULT_RECORDING_FILE: Final = "recordings/args_recording.jsonl"
"""Where recordings go when ``CLIENTSIM_RECORDING_FILE`` is not set (relative to the
current directory)."""

_TRUE: Final = frozenset({"1", "true", "yes"})
_SELF_NAMES: Final = frozenset({"self", "cls"})
_SHOWN: Final = 12

logger = logging.getLogger(__name__)
_write_lock = threading.Lock()

P = ParamSpec("P")
R = TypeVar("R")


# ----- recording ---------------------------------------------------------------------


def record_args(func: Callable[P, R]) -> Callable[P, R]:
    """Record every call's arguments while ``CLIENTSIM_RECORD_ARGS`` is on.

    Works on sync and async functions and methods, and keeps the wrapped function's
    name, docstring and signature. At each call, if the environment variable
    ``CLIENTSIM_RECORD_ARGS`` is ``1``, ``true`` or ``yes`` (any case), one line
    ``{"args": [...], "kwargs": {...}, "timestamp": "...Z"}`` is appended to the file
    ``CLIENTSIM_RECORDING_FILE`` names (default
    ``recordings/args_recording.jsonl``, relative to the current directory; folders
    are created). When it is off, the cost is one environment lookup.

    * Each line is written with one unbuffered append, under a lock, so lines from
      threads (and, on local file systems, processes) never interleave.
    * Lines are plain ASCII (other characters are escaped), so any tool can split
      them.
    * Values JSON cannot hold (objects, sets, bytes, NaN, ...) are recorded as their
      ``repr()`` string; mapping keys that are not strings are recorded as
      ``repr(key)`` (JSON's own ``str`` for numbers).
    * A first parameter named ``self`` or ``cls`` is not recorded, so a method's
      recording replays against the bound method. Put ``@record_args`` under
      ``@classmethod`` or ``@staticmethod``.
    * Recording never breaks the call: a failure to write is logged as a warning
      (logger ``clientsim.experiments.recording``) and the call goes on. Async
      functions write from a worker thread.

    Example:
        >>> @record_args
        ... async def handle(websocket, data):
        ...     return data["content"]

    Args:
        func: the function or method to record.

    Returns:
        The wrapper.
    """
    skip = _skips_self(func)
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def record_async(*args: P.args, **kwargs: P.kwargs) -> Any:
            flag = os.environ.get(RECORD_ARGS_ENV)
            if flag and flag.strip().lower() in _TRUE:
                line = _line(args[skip:], kwargs)
                if line is not None:
                    try:
                        await anyio.to_thread.run_sync(_append, _recording_path(), line)
                    except Exception as exc:  # noqa: BLE001 - never break the call
                        _warn(exc)
            return await func(*args, **kwargs)

        return cast("Callable[P, R]", record_async)

    @functools.wraps(func)
    def record_sync(*args: P.args, **kwargs: P.kwargs) -> R:
        flag = os.environ.get(RECORD_ARGS_ENV)
        if flag and flag.strip().lower() in _TRUE:
            line = _line(args[skip:], kwargs)
            if line is not None:
                try:
                    _append(_recording_path(), line)
                except Exception as exc:  # noqa: BLE001 - never break the call
                    _warn(exc)
        return func(*args, **kwargs)

    return record_sync


def _skips_self(func: Callable[..., object]) -> int:
    try:
        parameters = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return 0
    return int(
        bool(parameters)
        and parameters[0].name in _SELF_NAMES
        and parameters[0].kind
        in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )


def _recording_path() -> Path:
    return Path(os.environ.get(RECORDING_FILE_ENV) or DEFAULT_RECORDING_FILE)


def _line(args: Sequence[object], kwargs: Mapping[str, object]) -> str | None:
    try:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        payload = {
            "args": _plain(list(args), set()),
            "kwargs": _plain(dict(kwargs), set()),
            "timestamp": stamp.replace("+00:00", "Z"),
        }
        return json.dumps(payload, allow_nan=False) + "\n"
    except Exception as exc:  # noqa: BLE001 - never break the call
        _warn(exc)
        return None


def _plain(value: object, active: set[int]) -> object:
    """``value`` as JSON-ready data; what JSON cannot hold becomes its ``repr()``."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Mapping | list | tuple):
        if id(value) in active:  # a container that holds itself
            return _repr(value)
        active.add(id(value))
        try:
            if isinstance(value, Mapping):
                return {_key(key): _plain(item, active) for key, item in value.items()}
            return [_plain(item, active) for item in value]
        finally:
            active.discard(id(value))
    return _repr(value)


def _key(key: object) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool | int | float):
        return json.dumps(key)
    return _repr(key)


def _repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not break the call
        return f"<unrepresentable {type(value).__name__}>"


def _append(path: Path, line: str) -> None:
    data = line.encode("utf-8")
    with _write_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(
            path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666
        )  # the umask decides
        try:
            written = os.write(fd, data)
            while written < len(data):  # a short write to a regular file is rare
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)


def _warn(exc: Exception) -> None:
    logger.warning(
        "could not record call arguments to %s: %s: %s",
        _recording_path(),
        type(exc).__name__,
        exc,
    )


# ----- loading -----------------------------------------------------------------------


def _as_tuple(value: Sequence[object]) -> tuple[object, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class RecordedCall:
    """One recorded call: positional and keyword arguments, and when it happened.

    Example:
        >>> from clientsim.experiments import RecordedCall
        >>> RecordedCall(args=(), kwargs={"data": {"content": "hi"}}, timestamp=None)
        RecordedCall(args=(), kwargs={'data': {'content': 'hi'}}, timestamp=None)

    Attributes:
        args: the positional arguments (JSON values).
        kwargs: the keyword arguments (JSON values).
        timestamp: when it was recorded (UTC), if known.
    """

    args: tuple[object, ...] = attrs.field(default=(), converter=_as_tuple)
    kwargs: dict[str, object] = attrs.field(factory=dict)
    timestamp: datetime | None = None


def load_recording(path: str | os.PathLike[str]) -> list[RecordedCall]:
    """Read a JSONL recording written by :func:`record_args`.

    Blank lines are skipped. Each other line must be a JSON object with ``args`` (a
    list) and/or ``kwargs`` (an object), and optionally ``timestamp`` (ISO 8601) and
    other keys (ignored).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from clientsim.experiments import load_recording
        >>> path = Path(tempfile.mkdtemp()) / "args_recording.jsonl"  # or where you recorded
        >>> _ = path.write_text(
        ...     '{"args": ["ws-1"], "kwargs": {"data": {"content": "hi"}}, '
        ...     '"timestamp": "2025-01-17T14:30:22Z"}',
        ...     encoding="utf-8",
        ... )
        >>> [call] = load_recording(path)
        >>> call.args, call.kwargs
        (('ws-1',), {'data': {'content': 'hi'}})
        >>> call.timestamp
        datetime.datetime(2025, 1, 17, 14, 30, 22, tzinfo=datetime.timezone.utc)

    Args:
        path: the recording file.

    Returns:
        The calls, in file order.

    Raises:
        ConfigError: the file is missing or unreadable, a line is not valid JSON or
            not a recorded call (the message names the file and line number), or it
            holds no calls.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"recording file {str(file)!r} does not exist; record one by running your "
            f"app with {RECORD_ARGS_ENV}=1 (and {RECORDING_FILE_ENV} set to that path)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"recording file {str(file)!r} cannot be read: {type(exc).__name__}: {exc}"
        ) from exc
    calls: list[RecordedCall] = []
    # Split on newlines only: JSON strings may hold other line separators.
    for number, raw in enumerate(text.split("\n"), start=1):
        if raw.strip():
            calls.append(_parse_line(raw, f"{str(file)!r}, line {number}"))
    if not calls:
        raise ConfigError(
            f"recording file {str(file)!r} holds no recorded calls; record some with "
            f"{RECORD_ARGS_ENV}=1"
        )
    return calls


def _parse_line(raw: str, where: str) -> RecordedCall:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"recording file {where}: not valid JSON ({exc.msg} at column {exc.colno})"
        ) from None
    shape = (
        'a recorded call is a JSON object like {"args": [...], "kwargs": {...}, '
        '"timestamp": "2025-01-17T14:30:22Z"}'
    )
    if not isinstance(data, dict) or not ({"args", "kwargs"} & data.keys()):
        raise ConfigError(f"recording file {where}: {shape}; got {raw.strip()[:80]!r}")
    args = data.get("args", [])
    kwargs = data.get("kwargs", {})
    if not isinstance(args, list):
        raise ConfigError(
            f"recording file {where}: 'args' must be a list; got {args!r}; {shape}"
        )
    if not isinstance(kwargs, dict):
        raise ConfigError(
            f"recording file {where}: 'kwargs' must be an object; got {kwargs!r}; "
            f"{shape}"
        )
    stamp = data.get("timestamp")
    timestamp: datetime | None = None
    if stamp is not None:
        try:
            timestamp = datetime.fromisoformat(stamp)
        except (TypeError, ValueError):
            raise ConfigError(
                f"recording file {where}: 'timestamp' must be an ISO 8601 string "
                f"such as '2025-01-17T14:30:22Z'; got {stamp!r}"
            ) from None
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=UTC)
    return RecordedCall(args=tuple(args), kwargs=kwargs, timestamp=timestamp)


# ----- overriding --------------------------------------------------------------------


def override_param(call: RecordedCall, path: str, value: object) -> RecordedCall:
    """A copy of ``call`` with the value at the dot ``path`` replaced by ``value``.

    The path is looked up in the keyword arguments (``"data.content"`` is
    ``kwargs["data"]["content"]``), unless its first segment is an integer, which
    indexes the positional arguments (``"0.content"``). Integer segments further on
    index lists (``"messages.0.text"``). The value at the path must exist. The
    original call is never changed (the copy is deep).

    Example:
        >>> call = RecordedCall(kwargs={"data": {"content": "original message"}})
        >>> override_param(call, "data.content", "test input").kwargs
        {'data': {'content': 'test input'}}

    Args:
        call: the recorded call.
        path: the dot path of the argument to replace.
        value: the new value.

    Returns:
        The new call.

    Raises:
        ConfigError: the path is malformed or leads nowhere (the message names the
            path, the missing segment and what there is at that point).
    """
    segments = _segments(path)
    args = copy.deepcopy(list(call.args))
    kwargs = copy.deepcopy(call.kwargs)
    first = segments[0]
    if first.isdigit():
        container: object = args
        place = "the recorded positional args"
    else:
        container = kwargs
        place = "the recorded kwargs"
    for depth, segment in enumerate(segments):
        key = _locate(container, segment, path, place)
        if depth == len(segments) - 1:
            cast("Any", container)[key] = value
            break
        container = cast("Any", container)[key]
        place = f"{'.'.join(segments[: depth + 1])!r}"
    return RecordedCall(args=tuple(args), kwargs=kwargs, timestamp=call.timestamp)


def _segments(path: object) -> list[str]:
    if not isinstance(path, str) or not path.strip():
        raise ConfigError(
            "an override path must be a non-empty dot path such as 'data.content' or "
            f"'0.content'; got {path!r}"
        )
    segments = path.strip().split(".")
    if not all(segments):
        raise ConfigError(
            f"override path {path!r} has an empty segment; write it like "
            "'data.content' or 'messages.0.text'"
        )
    return segments


def _locate(container: object, segment: str, path: str, place: str) -> str | int:
    """The key or index ``segment`` names in ``container``."""
    if isinstance(container, dict):
        if segment in container:
            return segment
        keys = [str(key) for key in container]
        shown = ", ".join(repr(key) for key in keys[:_SHOWN]) or "(none)"
        if len(keys) > _SHOWN:
            shown += f", ... ({len(keys) - _SHOWN} more)"
        raise ConfigError(
            f"override path {path!r}: {place} has no key {segment!r}; keys there: "
            f"{shown}"
        )
    if isinstance(container, list):
        if segment.isdigit() and int(segment) < len(container):
            return int(segment)
        there = f"indexes 0-{len(container) - 1}" if container else "it is empty"
        raise ConfigError(
            f"override path {path!r}: {place} has no index {segment!r}; it is a list "
            f"of {len(container)} ({there})"
        )
    raise ConfigError(
        f"override path {path!r}: {place} is a {type(container).__name__}, not an "
        f"object or a list, so it has no {segment!r}"
    )


# ----- replaying ---------------------------------------------------------------------


def _callable(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise ConfigError(f"{attribute.name} must be callable; got {value!r}")


def _as_calls(value: Sequence[RecordedCall]) -> tuple[RecordedCall, ...]:
    if isinstance(value, RecordedCall) or not isinstance(value, Sequence):
        raise ConfigError(
            f"calls must be a list of RecordedCall (see load_recording); got {value!r}"
        )
    calls = tuple(value)
    if not calls:
        raise ConfigError("calls must hold at least one RecordedCall; got none")
    for index, call in enumerate(calls):
        if not isinstance(call, RecordedCall):
            raise ConfigError(
                f"calls[{index}] must be a RecordedCall; got {type(call).__name__}"
            )
    return calls


@attrs.frozen
class ReplayTarget:
    """Replays recorded calls with a new message at a dot path: an agent to test.

    ``await replay(message, index=i)`` calls ``func`` with the arguments of
    ``calls[i % len(calls)]``, the value at ``override_param_path`` replaced by
    ``message``, and returns what ``func`` returned (awaited if it is awaitable). A
    sync ``func`` runs in a worker thread, so it does not block the event loop.
    :meth:`as_agent` binds one recorded call, for a
    :class:`~clientsim.channels.TargetChannel`.

    Example:
        >>> import anyio
        >>> from clientsim import TargetChannel
        >>> from clientsim.experiments import RecordedCall, ReplayTarget
        >>> def handle(websocket, data):
        ...     return f"{data['user']} asked: {data['content']}"
        >>> calls = [  # usually load_recording("recordings/args_recording.jsonl")
        ...     RecordedCall(args=("ws-1",), kwargs={"data": {"content": "hi", "user": "ann"}}),
        ...     RecordedCall(args=("ws-2",), kwargs={"data": {"content": "yo", "user": "bob"}}),
        ... ]
        >>> replay = ReplayTarget(handle, calls, "data.content")
        >>> anyio.run(lambda: replay("Where is my order?", index=2))
        'ann asked: Where is my order?'
        >>> channel = TargetChannel(replay.as_agent(1))

    Args:
        func: the recorded function (sync or async).
        calls: the recorded calls (at least one).
        override_param_path: where the message goes, e.g. ``"data.content"``.

    Raises:
        ConfigError: ``func`` is not callable, there are no calls, or the path does
            not exist in one of them (the message names which).
    """

    func: Callable[..., object] = attrs.field(validator=_callable)
    calls: tuple[RecordedCall, ...] = attrs.field(converter=_as_calls)
    override_param_path: str = attrs.field(default="data.content")

    def __attrs_post_init__(self) -> None:
        for index, call in enumerate(self.calls):
            try:
                override_param(call, self.override_param_path, None)
            except ConfigError as exc:
                raise ConfigError(f"recorded call {index}: {exc}") from None

    @classmethod
    def from_file(
        cls,
        func: Callable[..., object],
        path: str | os.PathLike[str],
        override_param_path: str = "data.content",
    ) -> ReplayTarget:
        """Replay the calls recorded in ``path`` (see :func:`load_recording`)."""
        return cls(func, load_recording(path), override_param_path)

    async def __call__(self, message: str, *, index: int = 0) -> object:
        """Call ``func`` with recorded call ``index`` (modulo) and ``message`` put in.

        Raises:
            ConfigError: ``index`` is not an int.
        """
        check_int("index", index)
        call = override_param(
            self.calls[index % len(self.calls)], self.override_param_path, message
        )
        func = self.func
        if inspect.iscoroutinefunction(func):
            result = await func(*call.args, **call.kwargs)
        else:
            result = await anyio.to_thread.run_sync(
                functools.partial(func, *call.args, **call.kwargs)
            )
        if inspect.isawaitable(result):
            result = await result
        return result

    def as_agent(self, index: int) -> Callable[[str], Awaitable[object]]:
        """A one-argument async agent that replays recorded call ``index`` (modulo).

        Raises:
            ConfigError: ``index`` is not an int.
        """
        check_int("index", index)

        async def agent(message: str) -> object:
            return await self(message, index=index)

        name = getattr(self.func, "__qualname__", type(self.func).__name__)
        agent.__name__ = agent.__qualname__ = f"replay[{index}]:{name}"
        return agent
