"""One notion of "agent": whatever a user points clientsim at, as a participant or a channel.

Every surface (the Python API, experiment files and the CLI, the pytest ``simulate``
fixture, notebooks) accepts the system under test in the same forms, and turns it into
a runner through :func:`resolve_agent` here and :func:`~clientsim.runners.build.
build_runner`:

=========================================  ==============================================
the agent is                               it becomes
=========================================  ==============================================
a :class:`~clientsim.participants.Participant`  itself: a Full (simulated-time) run
a :class:`~clientsim.channels.Channel`      itself: a Hybrid (real-time) run
a LangChain ``Runnable`` / LangGraph graph  a :class:`~clientsim.channels.RunnableChannel`
                                           (``stateful`` inferred from the checkpointer)
a sync or async callable                    a :class:`~clientsim.channels.TargetChannel`
``"http://..."`` / ``"https://..."``        an OpenAI-compatible
                                           :class:`~clientsim.channels.HTTPChannel`
``"ws://..."`` / ``"wss://..."``            a :class:`~clientsim.channels.WebSocketChannel`
``"module:attr"``                           what the imported object resolves to
``{"strategy": <name>, ...options}``        the channel (or participant) that strategy
                                           builds through :mod:`clientsim.factory`
=========================================  ==============================================

Example:
    >>> from clientsim import resolve_agent
    >>> resolve_agent("http://127.0.0.1:8000/v1")
    HTTPChannel(base_url='http://127.0.0.1:8000/v1', mode='openai', model=None, stream=False)
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from typing import TypeAlias
from urllib.parse import urlsplit

from clientsim import factory
from clientsim._secrets import redact_url
from clientsim.channels.base import Channel
from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.participants.base import Participant


__all__ = ["AgentLike", "agent_kind", "builds_a_channel", "resolve_agent"]

AgentLike: TypeAlias = (
    Participant | Channel | Callable[..., object] | str | Mapping[str, object]
)
"""What may stand for the agent under test (a LangChain ``Runnable`` is callable-like
and accepted too): see the module docs."""

_FORMS = (
    "a Participant, a Channel, a sync or async callable, a LangChain Runnable or "
    "compiled LangGraph graph, an http(s):// URL (OpenAI-compatible chat completions), "
    "a ws(s):// URL, a 'module:attr' string naming one of these, or a mapping "
    "{strategy: <channel name>, ...options}"
)


def resolve_agent(
    agent: object,
    *,
    stateful: bool | None = None,
    auto_approve_tools: bool | None = None,
    where: str = "agent",
) -> Participant | Channel:
    """The participant or channel that ``agent`` stands for.

    Args:
        agent: the agent in any of the forms of the module docs.
        stateful: for a LangChain runnable: send only the new message (``True``) or
            the whole history (``False``); ``None`` infers it from whether a LangGraph
            graph has a checkpointer.
        auto_approve_tools: seed 003's ``multi_turn`` setting: passed to a
            LangChain runnable's :class:`~clientsim.channels.RunnableChannel`
            (resume a LangGraph ``interrupt()`` with an approval), to a strategy
            mapping's channel that takes it (unless the mapping sets it), and to a
            callable target that declares an ``auto_approve_tools`` parameter;
            ``None`` leaves it to their defaults.
        where: how error messages name the value (e.g. ``"runner.target"``).

    Returns:
        A :class:`~clientsim.participants.Participant` (a Full run) or a
        :class:`~clientsim.channels.Channel` (a Hybrid run).

    Raises:
        ConfigError: the value is none of the forms, a target cannot be imported, or
            a strategy's options do not fit.
        UnknownStrategyError: a mapping names no channel or participant strategy.
    """
    if isinstance(agent, Participant | Channel):
        return agent
    if isinstance(agent, str):
        return _from_string(agent, stateful, auto_approve_tools, where)
    if isinstance(agent, Mapping):
        return _from_mapping(agent, where, auto_approve_tools)
    if _is_runnable(agent):
        from clientsim.channels.runnable import RunnableChannel  # noqa: PLC0415

        if _is_chat_model(agent):  # takes the messages themselves, remembers nothing
            return RunnableChannel(agent, stateful=False, input_key=None)  # type: ignore[arg-type]
        return RunnableChannel(
            agent,  # type: ignore[arg-type]
            stateful=stateful,
            auto_approve_tools=bool(auto_approve_tools),
        )
    if callable(agent):
        from clientsim.channels.target import TargetChannel  # noqa: PLC0415

        return TargetChannel(_with_tool_approval(agent, auto_approve_tools))
    raise ConfigError(f"{where} must be {_FORMS}; got {type(agent).__name__}")


def builds_a_channel(agent: object) -> bool:
    """Whether :func:`resolve_agent` makes a new channel for ``agent`` (a URL or a
    strategy mapping), which whoever resolved it must close with ``aclose()``; a
    channel the user gave, or one a ``module:attr`` names, is the user's to close."""
    return isinstance(agent, Mapping) or (isinstance(agent, str) and "://" in agent)


def agent_kind(agent: Participant | Channel) -> str:
    """``"simulated"`` for a participant (Full run), ``"channel"`` for a channel (Hybrid)."""
    return "simulated" if isinstance(agent, Participant) else "channel"


def _from_string(
    text: str, stateful: bool | None, auto_approve: bool | None, where: str
) -> Participant | Channel:
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if scheme in {"http", "https"}:
        return factory.build_channel({"strategy": "http", "base_url": text})
    if scheme in {"ws", "wss"}:
        return factory.build_channel({"strategy": "websocket", "url": text})
    if scheme:
        raise ConfigError(
            f"{where} {redact_url(text)!r}: unsupported URL scheme {scheme!r}; use http, "
            "https, ws or wss"
        )
    if ":" not in text:
        raise ConfigError(f"{where} must be {_FORMS}; got {text!r}")
    from clientsim.channels.target import import_target  # noqa: PLC0415

    found = import_target(text, instantiate=True)
    if isinstance(found, str):
        raise ConfigError(
            f"{where} {text!r} names a string, not an agent; it must name {_FORMS}"
        )
    return resolve_agent(
        found, stateful=stateful, auto_approve_tools=auto_approve, where=where
    )


def _from_mapping(
    config: Mapping[str, object], where: str, auto_approve: bool | None
) -> Participant | Channel:
    name = config.get("strategy")
    if not isinstance(name, str):
        raise ConfigError(
            f"{where} as a mapping needs a 'strategy' key naming a channel "
            f"({', '.join(map(repr, factory.channels.names()))}) or a participant "
            f"strategy; got {name!r}"
        )
    if name in factory.channels:
        # Offered to a channel factory that takes it; the mapping's own value wins.
        offered = (
            {}
            if auto_approve is None or "auto_approve_tools" in config
            else {"auto_approve_tools": auto_approve}
        )
        return factory.build_channel(config, **offered)
    if name in factory.participants:
        from clientsim.models import ParticipantRole  # noqa: PLC0415

        options = dict(config)
        options.setdefault("role", ParticipantRole.AGENT.value)
        return factory.build_participant(options)
    raise UnknownStrategyError(
        "channel", name, [*factory.channels.names(), *factory.participants.names()]
    )


def _is_runnable(value: object) -> bool:
    """A LangChain ``Runnable`` (so any LangGraph graph), without importing LangChain:
    one can only exist once ``langchain_core`` has been imported."""
    if "langchain_core.runnables" not in sys.modules:
        return False
    return isinstance(value, sys.modules["langchain_core.runnables"].Runnable)


def _is_chat_model(value: object) -> bool:
    """A LangChain chat model (it takes a list of messages, not a state mapping)."""
    module = sys.modules.get("langchain_core.language_models")
    return module is not None and isinstance(value, module.BaseChatModel)


def _with_tool_approval(
    function: Callable[..., object], auto_approve: bool | None
) -> Callable[..., object]:
    """Pass ``auto_approve_tools`` to a target that declares it."""
    if auto_approve is None:
        return function
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):  # builtins without signatures
        return function
    if "auto_approve_tools" not in parameters:
        return function
    return functools.partial(function, auto_approve_tools=auto_approve)
