"""A channel to a LangChain ``Runnable``: a chain, a chat model, a LangGraph graph.

LangChain is imported only when a session talks to the runnable, so importing this
module stays light.

A runnable with no async path of its own (a ``RunnableLambda`` of a sync function, a
``Runnable`` that only implements ``invoke``) would have LangChain run it in asyncio's
default executor, whose threads the interpreter waits for at exit. Such a runnable is
called with ``invoke`` through ``clientsim._runtime.run_sync`` instead, in an
abandonable daemon thread, like any sync agent: a deadline holds even if it never
returns, and it never keeps the process from exiting.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from clientsim import events
from clientsim._runtime import run_sync
from clientsim.channels.base import Channel, QueueSession
from clientsim.channels.target import import_target
from clientsim.errors import ChannelError, ConfigError
from clientsim.llm.messages import (
    Reply,
    from_conversation,
    has_no_async_path,
    replies,
    resume_command,
)
from clientsim.models import Message, ParticipantRole, ToolCall


if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable, RunnableConfig

__all__ = ["RunnableChannel", "RunnableSession"]

_AGENT: Final = ParticipantRole.AGENT  # the runnable is the agent
_OUTPUTS: Final = ("new", "last")
_MAX_APPROVALS: Final = 20
"""Interrupts approved in one turn before the channel gives up on a graph that keeps
stopping to ask."""
INTERRUPT_TOOL: Final = "interrupt"
"""The name an approved interrupt has among the turn's tool calls."""


def _name_of(runnable: object) -> str:
    get_name = getattr(runnable, "get_name", None)
    name = get_name() if callable(get_name) else None
    return name if isinstance(name, str) and name else type(runnable).__name__


def _has_memory(runnable: object) -> bool | None:
    """Whether a LangGraph graph has a checkpointer; ``None`` for other runnables."""
    if not type(runnable).__module__.startswith("langgraph."):
        return None
    checkpointer = getattr(runnable, "checkpointer", None)
    return checkpointer is not None and checkpointer is not False


class RunnableSession(QueueSession):
    """A session of :class:`RunnableChannel`: each customer message is one ``ainvoke``.

    In stateful mode :attr:`session_id` is the LangGraph ``thread_id``, so a test can
    read the graph's state for the session afterwards.
    """

    send_completes_turn = True  # one ainvoke per message; its result is the turn
    speaks_unprompted = False

    def __init__(self, channel: RunnableChannel, session_id: str | None = None) -> None:
        super().__init__(session_id)
        self.channel = channel

    async def deliver(self, message: Message) -> None:
        channel = self.channel
        messages = await self._input_messages(message)
        payload: object = (
            messages if channel.input_key is None else {channel.input_key: messages}
        )
        result = await self._call(payload)
        approved: list[tuple[int, ToolCall]] = []
        while interrupts := _interrupts(result):
            if not (channel.auto_approve_tools and channel.stateful):
                await self._push(self._replies(result, approved), last=True)
                await self.push_interrupt(_payload(interrupts))
                return
            if len(approved) >= _MAX_APPROVALS:
                raise ChannelError(
                    f"runnable {channel.name!r} stopped to ask again after "
                    f"{_MAX_APPROVALS} approvals in one turn"
                )
            result = await self._approve(result, interrupts, approved)
        await self._push(self._replies(result, approved), last=False)
        await self.push_end_of_turn()

    async def _push(self, found: list[Reply], *, last: bool) -> None:
        for index, (text, calls) in enumerate(found):
            await self.push_reply(text, calls, last=last and index == len(found) - 1)

    async def _call(self, payload: object) -> object:
        channel = self.channel
        try:
            if channel.sync_only:  # abandoned, not awaited, past a deadline
                return await run_sync(
                    channel.runnable.invoke,
                    payload,
                    self._config(),
                    name=f"runnable {channel.name!r}",
                )
            return await channel.runnable.ainvoke(payload, config=self._config())
        except ChannelError:
            raise
        except Exception as exc:
            raise ChannelError(
                f"runnable {channel.name!r} failed: {type(exc).__name__}: {exc}"
            ) from exc

    async def _approve(
        self,
        result: object,
        interrupts: Sequence[object],
        approved: list[tuple[int, ToolCall]],
    ) -> object:
        """Resume the graph with an approval of each interrupt; note each approval
        among the turn's tool calls, after the calls made before it."""
        made = sum(len(calls) for _, calls in self._replies(result, ()))
        answers: dict[str, object] = {}
        for interrupt in interrupts:
            value = _json_data(getattr(interrupt, "value", None))
            answer = _approval(value)
            interrupt_id = getattr(interrupt, "id", None)
            key = interrupt_id if isinstance(interrupt_id, str) else str(len(answers))
            answers[key] = answer
            call = ToolCall(
                INTERRUPT_TOOL,
                {"value": value},
                id=interrupt_id if isinstance(interrupt_id, str) else None,
                result=json.dumps(answer),
            )
            approved.append((made, call))
            events.emit(
                events.AGENT_INTERRUPT_APPROVED,
                session_id=self.session_id,
                interrupt_id=call.id,
                payload=value,
                resume=answer,
            )
        resume = next(iter(answers.values())) if len(answers) == 1 else answers
        return await self._call(resume_command(resume))

    async def _input_messages(self, message: Message) -> list[BaseMessage]:
        if self.channel.stateful:
            return from_conversation([message], _AGENT)
        conversation = await self.get_conversation()
        return from_conversation(conversation.messages, _AGENT)

    def _config(self) -> RunnableConfig:
        config = dict(self.channel.config)
        if self.channel.stateful:
            configurable = dict(config.get("configurable") or {})
            configurable["thread_id"] = self.session_id
            config["configurable"] = configurable
        return cast("RunnableConfig", config)

    def _replies(
        self, result: object, approved: Sequence[tuple[int, ToolCall]]
    ) -> list[Reply]:
        channel = self.channel
        found = _inserted(
            replies(result, input_key=channel.input_key, name=channel.name), approved
        )
        if channel.output == "last" and len(found) > 1:
            calls = tuple(call for _, made in found for call in made)
            return [(found[-1][0], calls)]
        return found


def _interrupts(result: object) -> Sequence[object]:
    """The interrupts a LangGraph graph stopped at (its output's ``__interrupt__``)."""
    if not isinstance(result, Mapping):
        return ()
    found = result.get("__interrupt__")
    if isinstance(found, Sequence) and not isinstance(found, str | bytes):
        return found
    return ()


def _json_data(value: object) -> object:
    """``value`` as JSON data; what JSON cannot hold becomes its ``repr``."""
    try:
        return json.loads(json.dumps(value, default=repr))
    except ValueError:  # NaN and such: not JSON
        return repr(value)


def _payload(interrupts: Sequence[object]) -> object:
    values = [_json_data(getattr(item, "value", None)) for item in interrupts]
    return values[0] if len(values) == 1 else values


def _approval(value: object) -> object:
    """What approves an interrupt: ``{"decisions": [{"type": "approve"}, ...]}`` for
    LangChain's human-in-the-loop requests (``action_requests``), else ``True``."""
    if isinstance(value, Mapping):
        requests = value.get("action_requests")
        if isinstance(requests, list):
            return {"decisions": [{"type": "approve"} for _ in requests]}
    return True


def _inserted(
    found: list[Reply], approved: Sequence[tuple[int, ToolCall]]
) -> list[Reply]:
    """``found`` with each approval put among the tool calls after the ``n`` calls
    made before it."""
    if not approved:
        return found
    pending = list(approved)
    seen = 0
    out: list[Reply] = []
    for text, calls in found:
        merged: list[ToolCall] = []
        for call in calls:
            while pending and pending[0][0] <= seen:
                merged.append(pending.pop(0)[1])
            merged.append(call)
            seen += 1
        out.append((text, tuple(merged)))
    if pending:
        rest = tuple(call for _, call in pending)
        if out:
            text, calls = out[-1]
            out[-1] = (text, (*calls, *rest))
        else:
            out.append(("", rest))
    return out


class RunnableChannel(Channel):
    """A channel to any LangChain ``Runnable``, a compiled LangGraph graph included.

    Each customer message is one ``await runnable.ainvoke(...)``; a runnable with no
    async path of its own (a ``RunnableLambda`` of a sync function) is called with
    ``invoke`` in a daemon worker thread instead, abandoned at the run's deadline like
    any sync agent. How much it sends is an explicit choice:

    * ``stateful=True``: only the new message, with ``thread_id`` set to the session's
      id in ``config["configurable"]``; the runnable remembers the conversation (a
      graph compiled with a checkpointer). Two sessions never share a thread.
    * ``stateful=False``: the whole conversation each turn, the customer's messages
      as ``HumanMessage`` and the agent's as ``AIMessage``.

    The input is ``{input_key: messages}``, or the list of messages itself when
    ``input_key`` is ``None`` (a chat model, or a runnable that takes messages). The
    agent's reply is read from the result: a ``str``; a message's text; or, from a
    list of messages (or a dict holding one under ``input_key``), the texts of the
    ``AIMessage`` objects after the last ``HumanMessage``. The turn's tool calls
    (``AIMessage.tool_calls``, each with the content of the ``ToolMessage`` that
    answered it, matched by ``tool_call_id``) ride on the reply message they led to
    (:attr:`Message.tool_calls <clientsim.models.Message.tool_calls>`); the calls of
    a turn with no text (a silent turn) ride on the session's next message.

    A LangGraph graph that calls ``interrupt()`` (to ask a human, e.g. before a
    refund) stops with ``__interrupt__`` in its output. By default the session hands
    the turn's messages over, then the interrupt: the runner ends the conversation
    with the reason ``"agent_interrupted"``, the payload as JSON in the ending's
    detail. With ``auto_approve_tools=True`` (and ``stateful``: resuming needs the
    session's thread) the session resumes the graph with ``Command(resume=...)``
    instead: ``{"decisions": [{"type": "approve"}, ...]}`` for LangChain's
    human-in-the-loop requests (a payload with ``action_requests``), ``True``
    otherwise; each approval is emitted as the event
    ``conversation.interrupt_approved`` and shows among the turn's tool calls as a
    call named ``"interrupt"`` (arguments ``{"value": payload}``, result the resume
    value as JSON).

    LangChain runs on asyncio: use this channel under anyio's asyncio backend.

    Example:
        >>> from langchain_core.language_models import FakeListChatModel
        >>> from clientsim.channels import RunnableChannel
        >>> model = FakeListChatModel(responses=["Happy to help."])  # or prompt | model
        >>> chain = RunnableChannel(model, stateful=False, input_key=None)
        >>> from langgraph.checkpoint.memory import InMemorySaver  # doctest: +SKIP
        >>> graph = builder.compile(checkpointer=InMemorySaver())  # doctest: +SKIP
        >>> channel = RunnableChannel(graph, stateful=True)  # doctest: +SKIP

    Args:
        runnable: the agent, anything with an async ``ainvoke(input, config=...)``.
        stateful: send only the new message (``True``) or the whole history
            (``False``). ``None`` (the default) infers it: ``True`` for a LangGraph
            graph compiled with a checkpointer, ``False`` for anything else.
        input_key: the state key holding the messages; ``None`` sends the list.
        output: ``"new"`` hands over every new AI message of the turn, ``"last"`` only
            the last one.
        config: a ``RunnableConfig`` passed on each call (callbacks, tags,
            ``recursion_limit``...); in stateful mode its ``configurable`` gets the
            session's ``thread_id``.
        auto_approve_tools: resume a LangGraph ``interrupt()`` with an approval
            (``True``) or end the conversation with ``"agent_interrupted"``
            (``False``, the default). Experiment files set it with
            ``multi_turn.auto_approve_tools``.

    Raises:
        ConfigError: an option is not one of the allowed values, or a LangGraph graph
            cannot work the chosen way (stateful without a checkpointer, stateless
            with one).
    """

    def __init__(
        self,
        runnable: Runnable[Any, Any],
        *,
        stateful: bool | None = None,
        input_key: str | None = "messages",
        output: Literal["new", "last"] = "new",
        config: Mapping[str, Any] | None = None,
        auto_approve_tools: bool = False,
    ) -> None:
        if not isinstance(auto_approve_tools, bool):
            raise ConfigError(
                "auto_approve_tools must be True (resume a LangGraph interrupt with an "
                "approval) or False (end the conversation with 'agent_interrupted'); "
                f"got {auto_approve_tools!r}"
            )
        if not callable(getattr(runnable, "ainvoke", None)):
            raise ConfigError(
                "runnable must be a LangChain Runnable (anything with an async "
                f"ainvoke method); got {type(runnable).__name__}"
            )
        if stateful is None:  # a graph with a checkpointer remembers; others do not
            stateful = bool(_has_memory(runnable))
        if not isinstance(stateful, bool):
            raise ConfigError(
                "stateful must be True (send only the new message, with a thread id), "
                "False (send the whole history) or None (True exactly when the graph "
                f"has a checkpointer); got {stateful!r}"
            )
        if input_key is not None and (not isinstance(input_key, str) or not input_key):
            raise ConfigError(
                "input_key must be a non-empty string (the state key holding the "
                f"messages) or None (send the list of messages); got {input_key!r}"
            )
        if output not in _OUTPUTS:
            raise ConfigError(f"output must be 'new' or 'last'; got {output!r}")
        if config is not None and not isinstance(config, Mapping):
            raise ConfigError(
                f"config must be a mapping (a RunnableConfig) or None; got {config!r}"
            )
        config = dict(config or {})
        configurable = config.get("configurable") or {}
        if not isinstance(configurable, Mapping):
            raise ConfigError(
                f"config['configurable'] must be a mapping; got {configurable!r}"
            )
        self.runnable = runnable
        self.name = _name_of(runnable)
        self.stateful = stateful
        self.input_key = input_key
        self.output = output
        self.config: Mapping[str, Any] = config
        self.auto_approve_tools = auto_approve_tools
        self._sync_only: bool | None = None  # found on first use (imports LangChain)
        self._check_memory("thread_id" in configurable)

    @property
    def sync_only(self) -> bool:
        """Whether the runnable is called with ``invoke`` in an abandonable daemon
        thread (it has no async path of its own) rather than with ``ainvoke``."""
        if self._sync_only is None:
            self._sync_only = has_no_async_path(self.runnable)
        return self._sync_only

    def _check_memory(self, has_thread_id: bool) -> None:
        if self.stateful and has_thread_id:
            raise ConfigError(
                "config['configurable'] sets 'thread_id', but with stateful=True each "
                "session gets its own thread id (its session_id); remove it"
            )
        memory = _has_memory(self.runnable)
        if self.stateful and memory is False:
            raise ConfigError(
                f"stateful=True, but the LangGraph graph {self.name!r} has no "
                "checkpointer, so it would forget every turn; compile it with one "
                "(graph.compile(checkpointer=InMemorySaver())) or use stateful=False"
            )
        if not self.stateful and memory and not has_thread_id:
            raise ConfigError(
                f"stateful=False, but the LangGraph graph {self.name!r} has a "
                "checkpointer, so it remembers the conversation and would see every "
                "message twice; use stateful=True"
            )

    @classmethod
    def from_config(
        cls,
        *,
        runnable: Runnable[Any, Any] | str,
        stateful: bool | None = None,
        input_key: str | None = "messages",
        output: Literal["new", "last"] = "new",
        config: Mapping[str, Any] | None = None,
        auto_approve_tools: bool = False,
    ) -> RunnableChannel:
        """Build from config values; ``runnable`` may be a target string.

        The string names a runnable object (``"my_app.graph:graph"``) or a function
        that builds one with no arguments (``"my_app.graph:build_graph"``).

        Raises:
            ConfigError: the target cannot be imported, or does not give a runnable.
        """
        if isinstance(runnable, str):
            target = runnable
            found = import_target(target)
            if not callable(getattr(found, "ainvoke", None)) and callable(found):
                try:
                    found = found()
                except Exception as exc:
                    raise ConfigError(
                        f"runnable target {target!r} is a function, and calling it with "
                        f"no arguments failed: {type(exc).__name__}: {exc}"
                    ) from exc
            if not callable(getattr(found, "ainvoke", None)):
                raise ConfigError(
                    f"runnable target {target!r} gives a {type(found).__name__}, not a "
                    "LangChain Runnable (anything with an async ainvoke method)"
                )
            runnable = cast("Runnable[Any, Any]", found)
        return cls(
            runnable,
            stateful=stateful,
            input_key=input_key,
            output=output,
            config=config,
            auto_approve_tools=auto_approve_tools,
        )

    async def create_session(self) -> RunnableSession:
        return RunnableSession(self)
