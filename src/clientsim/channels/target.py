"""A channel to an agent that is a Python callable, or a ``module:function`` target.

The agent is called once per customer message, in the simulator's process: the
handler-backed channel of the style guide, and seed 003's runner targets
(``module:function``, ``module:Class.method``, ``module:instance.method``).
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any, Final

import anyio
import attrs

from clientsim._runtime import run_sync
from clientsim._validators import a_bool
from clientsim.channels.base import Channel, QueueSession, now
from clientsim.errors import ChannelError, ConfigError
from clientsim.models import Message, ParticipantRole


__all__ = ["TargetChannel", "TargetSession", "import_target"]

_AGENT: Final = ParticipantRole.AGENT
_FORMS: Final = (
    "'module:function', 'module:Class.method' (Class() is created with no arguments) "
    "or 'module:instance.method'"
)
_RESULTS: Final = (
    "a str, a clientsim Message, a list or tuple of them, None, or an (async) "
    "iterator of str/Message"
)
_SHOWN: Final = 12
_DONE: Final = object()


def import_target(target: str, *, instantiate: bool = False) -> object:
    """Import the object a target string names: ``"package.module:name.attribute"``.

    Args:
        target: ``module:attribute``, where attribute may be a dotted path.
        instantiate: when the path ends in ``Class.method`` and the method needs an
            instance, create ``Class()`` with no arguments and return its bound
            method (static and class methods are returned as they are).

    Returns:
        The object named.

    Raises:
        ConfigError: the string is malformed, the module cannot be imported, or an
            attribute is missing (the error lists the names there are).

    Example:
        >>> join = import_target("os.path:join")
        >>> join("tickets", "42.json")
        'tickets/42.json'
    """
    if not isinstance(target, str):
        raise ConfigError(f"a target must be a string {_FORMS}; got {target!r}")
    module_name, colon, path = target.partition(":")
    parts = path.split(".")
    if (
        not colon
        or not all(part.isidentifier() for part in module_name.split("."))
        or not all(part.isidentifier() for part in parts)
    ):
        raise ConfigError(f"a target must look like {_FORMS}; got {target!r}")
    try:
        owner: object = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name + ".").startswith(exc.name + "."):
            raise ConfigError(
                f"target {target!r}: no module named {exc.name!r} (is it installed, "
                "or on sys.path?)"
            ) from exc
        raise ConfigError(
            f"target {target!r}: importing module {module_name!r} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    except Exception as exc:
        raise ConfigError(
            f"target {target!r}: importing module {module_name!r} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    described = f"module {module_name!r}"
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if not hasattr(owner, part):
            raise ConfigError(f"target {target!r}: {_missing(described, owner, part)}")
        if last and instantiate and inspect.isclass(owner):
            return _bound_method(target, owner, part)
        owner = getattr(owner, part)
        described = f"{type(owner).__name__} {'.'.join(parts[: index + 1])!r}"
    return owner


def _missing(described: str, owner: object, name: str) -> str:
    names = _public_names(owner)
    shown = ", ".join(names[:_SHOWN]) or "(no public names)"
    if len(names) > _SHOWN:
        shown += f", ... ({len(names) - _SHOWN} more)"
    message = f"{described} has no attribute {name!r}; it has: {shown}"
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    return message


def _public_names(owner: object) -> list[str]:
    """Public attribute names; for a module, only what it defines (not its imports)."""
    names = sorted(attr for attr in dir(owner) if not attr.startswith("_"))
    if not inspect.ismodule(owner):
        return names
    defined = []
    for attr in names:
        value = getattr(owner, attr, None)
        imported = (
            inspect.ismodule(value)
            or type(value).__module__ == "__future__"
            or (
                (inspect.isclass(value) or inspect.isroutine(value))
                and getattr(value, "__module__", owner.__name__) != owner.__name__
            )
        )
        if not imported:
            defined.append(attr)
    return defined


def _bound_method(target: str, cls: type, name: str) -> object:
    if isinstance(inspect.getattr_static(cls, name, None), staticmethod | classmethod):
        return getattr(cls, name)
    try:
        instance = cls()
    except Exception as exc:
        raise ConfigError(
            f"target {target!r}: the 'module:Class.method' form creates "
            f"{cls.__name__}() with no arguments, which failed: "
            f"{type(exc).__name__}: {exc}; use 'module:instance.method' with an "
            "instance you create in the module instead"
        ) from exc
    return getattr(instance, name)


def _describe(agent: Callable[..., object]) -> str:
    function = agent.func if isinstance(agent, functools.partial) else agent
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    module = getattr(function, "__module__", None)
    return f"{module}.{name}" if module else str(name)


def _is_async(function: object, check: Callable[[object], bool]) -> bool:
    if check(function):
        return True
    if inspect.isroutine(function) or isinstance(function, functools.partial):
        return False
    return check(getattr(function, "__call__", None))  # noqa: B004 - async __call__


@attrs.frozen
class _Agent:
    """A resolved agent callable and how to call it (read from its signature once)."""

    function: Callable[..., object] = attrs.field(repr=False)
    name: str
    is_async: bool
    pass_session_id: bool
    pass_conversation: bool

    @classmethod
    def of(
        cls, function: Callable[..., object], name: str, pass_conversation: bool | None
    ) -> _Agent:
        try:
            signature: inspect.Signature | None = inspect.signature(function)
        except (TypeError, ValueError):  # a builtin without a signature: trust it
            signature = None
        if signature is None:
            session_id, conversation = False, bool(pass_conversation)
        else:
            session_id, conversation = _keywords(name, signature, pass_conversation)
        return cls(
            function=function,
            name=name,
            is_async=_is_async(function, inspect.iscoroutinefunction)
            or _is_async(function, inspect.isasyncgenfunction),
            pass_session_id=session_id,
            pass_conversation=conversation,
        )

    async def call(self, session: TargetSession, text: str) -> object:
        """Call the agent; awaitables it returns are awaited."""
        keywords: dict[str, Any] = {}
        if self.pass_session_id:
            keywords["session_id"] = session.session_id
        if self.pass_conversation:
            keywords["conversation"] = await session.get_conversation()
        try:
            if self.is_async:
                result = self.function(text, **keywords)
            else:
                result = await run_sync(  # abandoned, not awaited, past a deadline
                    functools.partial(self.function, text, **keywords), name=self.name
                )
            if inspect.isawaitable(result):
                result = await result
        except ChannelError:
            raise
        except Exception as exc:
            raise self.failed(exc) from exc
        return result

    def failed(self, exc: Exception) -> ChannelError:
        """The error to raise when the agent raised ``exc``."""
        return ChannelError(f"agent {self.name!r} failed: {type(exc).__name__}: {exc}")


def _keywords(
    name: str, signature: inspect.Signature, pass_conversation: bool | None
) -> tuple[bool, bool]:
    parameters = list(signature.parameters.values())
    positional = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.VAR_POSITIONAL,
    )
    if not parameters or parameters[0].kind not in positional:
        raise ConfigError(
            f"agent {name!r} must take the customer's message as its first positional "
            f"argument; its signature is {signature}"
        )
    rest = (
        parameters[1:]
        if parameters[0].kind is not inspect.Parameter.VAR_POSITIONAL
        else parameters
    )
    var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in rest)
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    named = {p.name for p in rest if p.kind in keyword}
    session_id = var_keyword or "session_id" in named
    accepts_conversation = var_keyword or "conversation" in named
    if pass_conversation and not accepts_conversation:
        raise ConfigError(
            f"pass_conversation=True, but agent {name!r} takes no 'conversation' "
            f"keyword; its signature is {signature}"
        )
    conversation = (
        accepts_conversation if pass_conversation is None else pass_conversation
    )
    wanted = (("session_id", session_id), ("conversation", conversation))
    keywords = dict.fromkeys(key for key, on in wanted if on)
    try:
        signature.bind("message", **keywords)
    except TypeError as exc:
        raise ConfigError(
            f"agent {name!r} cannot be called as f(message"
            + "".join(f", {key}=..." for key in keywords)
            + f"): {exc}; its signature is {signature}"
        ) from exc
    return session_id, conversation


class TargetSession(QueueSession):
    """A session of :class:`TargetChannel`: each customer message is one agent call."""

    speaks_unprompted = False

    def __init__(self, agent: _Agent, session_id: str | None = None) -> None:
        super().__init__(session_id)
        self._agent = agent

    async def deliver(self, message: Message) -> None:
        result = await self._agent.call(self, message.content)
        if hasattr(result, "__aiter__"):
            await self._stream(result)
        elif isinstance(result, Iterator):
            await self._stream_sync(result)
        else:
            for reply in self._replies(result):
                await self.push_message(reply)
        await self.push_end_of_turn()

    def _replies(self, result: object) -> list[Message]:
        if result is None:
            return []
        if isinstance(result, list | tuple):
            return [self._reply(item) for item in result]
        return [self._reply(result)]

    def _reply(self, item: object) -> Message:
        if isinstance(item, str):
            return Message(content=item, timestamp=now(), sender=_AGENT)
        if isinstance(item, Message):
            if item.sender is not _AGENT:
                raise ChannelError(
                    f"agent {self._agent.name!r} returned a message from "
                    f"{item.sender.value}; the agent can only return agent messages"
                )
            return attrs.evolve(item, timestamp=now())
        raise ChannelError(
            f"agent {self._agent.name!r} returned {type(item).__name__}; an agent "
            f"returns {_RESULTS}"
        )

    async def _stream(self, items: Any) -> None:
        iterator = aiter(items)
        try:
            while True:
                try:
                    item = await anext(iterator)
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    raise self._agent.failed(exc) from exc
                if item is not None:
                    await self.push_message(self._reply(item))
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()

    async def _stream_sync(self, iterator: Iterator[object]) -> None:
        try:
            while True:
                try:
                    item = await run_sync(next, iterator, _DONE, name=self._agent.name)
                except Exception as exc:
                    raise self._agent.failed(exc) from exc
                if item is _DONE:
                    return
                if item is not None:
                    await self.push_message(self._reply(item))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                # Bounded: a generator stuck in an abandoned call cannot be closed
                # ("generator already executing"); its thread runs on.
                with anyio.CancelScope(shield=True), anyio.move_on_after(1.0):
                    try:
                        await run_sync(close, name=self._agent.name)
                    except ValueError:
                        if not getattr(iterator, "gi_running", False):
                            raise


class TargetChannel(Channel):
    """A channel to an agent that is a Python callable in this process.

    The agent is called once per customer message with the message text as its first
    argument, plus ``session_id=`` and ``conversation=`` (the
    :class:`~clientsim.models.Conversation` so far, the new message included) if its
    signature takes them. It may be sync (run in a worker thread so it does not block
    the event loop) or async, and may return:

    * a ``str``: one agent message;
    * a :class:`~clientsim.models.Message` from the agent (re-stamped now);
    * a list or tuple of them: several messages;
    * ``None``: no message this turn;
    * an async iterator (an async generator) or an iterator of str/Message: each item
      is handed to the runner as it comes (streaming); ``None`` items are skipped.

    A ``module:Class.method`` instance is shared by every session of the channel; sync
    agents of concurrent sessions run in parallel worker threads.

    When the call returns (or its iterator ends) the agent's turn is over.

    Example:
        >>> async def agent(message: str, *, session_id: str) -> str:
        ...     return f"[{session_id}] You said: {message}"
        >>> channel = TargetChannel(agent)
        >>> channel = TargetChannel("my_app.agents:support.reply")  # doctest: +SKIP

    Args:
        target: the agent: a callable, or a string ``module:function``,
            ``module:Class.method`` (``Class()`` is created once, with no arguments)
            or ``module:instance.method``.
        pass_conversation: ``None`` passes ``conversation=`` when the agent's
            signature takes it; ``True`` requires that it does; ``False`` never passes
            it.

    Raises:
        ConfigError: the target cannot be imported, is not callable, or cannot be
            called as ``agent(message, ...)``.
    """

    def __init__(
        self,
        target: Callable[..., object] | str,
        *,
        pass_conversation: bool | None = None,
    ) -> None:
        a_bool(optional=True).check("pass_conversation", pass_conversation)
        if isinstance(target, str):
            function = import_target(target, instantiate=True)
            name = target
        else:
            function, name = target, _describe(target)
        if not callable(function):
            raise ConfigError(
                f"target {name!r} is a {type(function).__name__}, which is not callable; "
                f"a target is a callable or a string {_FORMS}"
            )
        self.target = target
        self._agent = _Agent.of(function, name, pass_conversation)

    @classmethod
    def from_config(
        cls,
        *,
        target: Callable[..., object] | str,
        pass_conversation: bool | None = None,
    ) -> TargetChannel:
        """Build from config values: ``{"strategy": "target", "target": "app:run"}``."""
        return cls(target, pass_conversation=pass_conversation)

    @property
    def name(self) -> str:
        """The agent's name in messages: the target string or the callable's name."""
        return self._agent.name

    async def create_session(self) -> TargetSession:
        return TargetSession(self._agent)
