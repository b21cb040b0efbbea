"""The channel contract: how a runner reaches a real agent.

A :class:`Channel` opens :class:`Session` objects, one per conversation. A session sends
the customer's messages to the agent and hands back the agent's messages as they come
(zero, one or several per turn, whenever the agent sends them). The runner never knows
how bytes move.

Most channels subclass :class:`QueueSession`, which keeps the transcript and an
in-memory stream of :data:`SessionEvent` objects that the transport feeds.
"""

from __future__ import annotations

import abc
import math
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from types import TracebackType
from typing import ClassVar, Final, Self

import anyio
import attrs
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from clientsim.errors import ChannelError, ConfigError, SessionClosedError
from clientsim.models import Conversation, Message, ParticipantRole, ToolCall
from clientsim.models.conversation import stamped


__all__ = [
    "AgentInterrupted",
    "Channel",
    "QueueSession",
    "Session",
    "SessionEvent",
    "TurnEnded",
]

_AGENT: Final = ParticipantRole.AGENT
_CLEANUP_GRACE: Final = 0.1
"""Seconds a transport's cleanup may take past its caller's deadline (to say goodbye)."""


class Channel(abc.ABC):
    """Opens sessions with a real agent.

    A channel that holds resources (a connection pool) releases them in
    :meth:`aclose`; every channel is an async context manager that calls it.
    """

    _detached: ClassVar[dict[str, object]] = {}
    """Attributes a copy in another process (a Ray worker) starts afresh with: its
    live connections stay here, and the copy opens its own on first use."""

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, **self._detached}

    @abc.abstractmethod
    async def create_session(self) -> Session:
        """Create a new conversation session."""

    async def aclose(self) -> None:  # noqa: B027 - optional: most channels hold nothing
        """Release what the channel holds; closing twice is harmless."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class Session(abc.ABC):
    """One conversation with a real agent. Use it as an async context manager.

    Attributes:
        session_id: identifies the conversation to the agent (a header, a thread id...).
    """

    session_id: str

    speaks_unprompted: bool = True
    """Whether the agent may send a message that answers nothing (a greeting on
    connect); ``False`` for request/response transports, whose agent speaks only when
    sent a message. A runner waiting for the agent to open the conversation
    (``first="agent"``) then takes what the session queued when it opened (a
    replayed cassette's turn 0), without waiting."""

    last_error: ChannelError | None = None
    """The last failed attempt of the exchange under way, or of the last exchange if
    it failed; ``None`` once an exchange succeeds. A channel that retries by itself
    (:class:`~clientsim.channels.HTTPChannel`) sets it, so that a runner whose reply
    timeout cut the retries short can say what the agent's silence was."""

    @abc.abstractmethod
    async def get_conversation(self) -> Conversation:
        """Get the conversation history so far."""

    @abc.abstractmethod
    async def send(self, message: Message) -> None:
        """Send a message to the real agent."""

    @abc.abstractmethod
    def subscribe(self) -> AsyncIterator[Message]:
        """Subscribe to incoming messages from the agent (an async iterator)."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Close the session and release what it holds; closing twice is harmless."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with anyio.CancelScope(shield=True):
            await self.aclose()


@attrs.frozen
class TurnEnded:
    """The agent said it has finished its turn (e.g. its HTTP reply is complete)."""


@attrs.frozen
class AgentInterrupted:
    """The agent stopped to ask (a LangGraph ``interrupt()``), and nobody answered.

    A runner ends the conversation with the reason ``"agent_interrupted"``; the
    ending's detail is :attr:`payload` as JSON.

    Attributes:
        payload: what the agent asked with, as JSON data (the interrupt's value; a
            list of values when several interrupts came at once).
    """

    payload: object


SessionEvent = Message | TurnEnded | AgentInterrupted
"""What a :class:`QueueSession` yields from :meth:`QueueSession.events`."""


def now() -> datetime:
    """The timestamp for a message sent or received now (UTC)."""
    return datetime.now(UTC)


def silenced(session: Session, why: str) -> ChannelError | None:
    """The error behind an agent's silence: ``session.last_error``, if its channel's
    last exchange failed (its retries were cut short by a runner's reply timeout or
    deadline), as a :class:`ChannelError` that says ``why`` the run ended and keeps
    the last error's status, classification and cause; ``None`` otherwise."""
    last = getattr(session, "last_error", None)
    if not isinstance(last, ChannelError):
        return None
    error = ChannelError(
        f"{why}; the channel's last exchange had failed: {last}",
        status=last.status,
        transient=last.transient,
    )
    error.__cause__ = last
    error.__suppress_context__ = True
    return error


class QueueSession(Session):
    """A session whose transport pushes agent events into an in-memory stream.

    Subclasses implement :meth:`deliver` (send one customer message to the agent) and,
    for agents that push messages on their own (a WebSocket), :meth:`listen`, which runs
    in the session's task group from ``__aenter__`` to ``aclose``. The transport reports
    what the agent says with :meth:`push_text` / :meth:`push_message`, the end of a turn
    with :meth:`push_end_of_turn`, and a broken transport with :meth:`push_failure`.

    Request/response transports may do the whole exchange inside :meth:`deliver` and
    push :class:`TurnEnded` when the reply is complete; they set
    :attr:`send_completes_turn` so a runner awaits :meth:`send` in place instead of
    running it beside its reading.

    Args:
        session_id: an id for the agent; a random one if ``None``.
        max_buffer: agent events held before the transport waits for the reader.
    """

    send_completes_turn: bool = False
    """``True`` if :meth:`deliver` returns only once the agent's whole reply is pushed."""

    close_deadline: float = math.inf
    """When the transport's cleanup must be over (``anyio.current_time()`` clock): set
    by :meth:`aclose` from its caller's deadline (a runner's ``max_duration_seconds``),
    plus a moment to say goodbye, for a session with a transport to close or a
    listener (for others it stays ``math.inf``: nothing reads it).
    :meth:`close_transport` runs shielded but no longer; a transport that cleans up
    in another task (a listener) should keep it too."""

    def __init__(
        self, session_id: str | None = None, *, max_buffer: int = 1024
    ) -> None:
        if not isinstance(max_buffer, int) or max_buffer < 1:
            raise ConfigError(f"max_buffer must be an int >= 1; got {max_buffer!r}")
        self.session_id = session_id or uuid.uuid4().hex
        self._conversation = Conversation(())
        self._send_events: MemoryObjectSendStream[SessionEvent | ChannelError]
        self._receive_events: MemoryObjectReceiveStream[SessionEvent | ChannelError]
        self._send_events, self._receive_events = anyio.create_memory_object_stream[
            SessionEvent | ChannelError
        ](max_buffer)
        self._closed = False
        self._task_group: TaskGroup | None = None
        self._carried: tuple[ToolCall, ...] = ()  # tool calls of a turn with no text

    # ----- the transport's side ------------------------------------------------------

    @abc.abstractmethod
    async def deliver(self, message: Message) -> None:
        """Send ``message`` to the agent. Raise :class:`ChannelError` if it fails."""

    async def listen(self) -> None:
        """Receive what the agent pushes, until the session closes. Optional."""

    async def close_transport(self) -> None:
        """Release the transport's resources (connections). Optional."""

    async def push_text(self, content: str) -> Message:
        """Record and hand over an agent message with ``content``, stamped now."""
        message = stamped(content, now(), _AGENT)
        await self.push_message(message)
        return message

    async def push_reply(
        self, text: str, tool_calls: tuple[ToolCall, ...] = (), *, last: bool = False
    ) -> None:
        """Record and hand over an agent message with ``text`` and the tool calls
        that led to it, stamped now. Tool calls that come with no text (a turn that
        only called tools) ride on the session's next message, or, if this is the
        ``last`` turn (an interrupt ends the conversation), on a message with an
        empty text; an empty text with no tool calls is nothing."""
        if not text and not last:
            self._carried = (*self._carried, *tool_calls)
            return
        if self._carried:
            tool_calls, self._carried = (*self._carried, *tool_calls), ()
        if text or tool_calls:
            await self.push_message(stamped(text, now(), _AGENT, tool_calls))

    async def push_message(self, message: Message) -> None:
        """Record and hand over an agent message."""
        if message.sender is not _AGENT:
            raise ChannelError(
                f"the agent side can only push agent messages; got one from "
                f"{message.sender.value}"
            )
        self._conversation = self._conversation.with_message(message)
        await self._put(message)

    async def push_end_of_turn(self) -> None:
        """Tell the reader that the agent has finished its turn."""
        await self._put(TurnEnded())

    async def push_interrupt(self, payload: object) -> None:
        """Tell the reader that the agent stopped to ask and waits for an answer
        (a runner ends the conversation with ``"agent_interrupted"``)."""
        await self._put(AgentInterrupted(payload))

    async def push_end_of_session(self) -> None:
        """The agent ended the session normally: the reader's events stop after what
        was pushed so far (a runner records the ending ``"agent_closed"``)."""
        self._send_events.close()

    async def push_failure(self, error: ChannelError) -> None:
        """Hand a transport failure to the reader (it is raised from :meth:`events`)."""
        await self._put(error)

    async def _put(self, item: SessionEvent | ChannelError) -> None:
        if self._closed:
            return
        try:  # a try costs nothing when nothing is raised (twice per agent turn)
            try:
                self._send_events.send_nowait(item)
            except anyio.WouldBlock:  # the buffer is full: wait for the reader
                await self._send_events.send(item)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass

    # ----- the runner's side ---------------------------------------------------------

    async def __aenter__(self) -> Self:
        if type(self).listen is not QueueSession.listen:
            self._task_group = anyio.create_task_group()
            await self._task_group.__aenter__()
            self._task_group.start_soon(self._listen_guarded)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Not Session's shielded aclose(): aclose() exits the listener's task group,
        # whose cancel scope was entered before any scope opened here. aclose()
        # shields the transport's cleanup itself.
        await self.aclose()

    async def _listen_guarded(self) -> None:
        try:
            await self.listen()
        except ChannelError as exc:
            await self.push_failure(exc)
        except Exception as exc:  # noqa: BLE001 - a transport bug is reported, not raised
            await self.push_failure(
                ChannelError(
                    f"the channel's listener failed: {type(exc).__name__}: {exc}"
                )
            )

    async def get_conversation(self) -> Conversation:
        return self._conversation

    async def send(self, message: Message) -> None:
        """Record ``message`` and deliver it to the agent.

        Raises:
            SessionClosedError: the session is closed.
            ChannelError: the transport failed.
        """
        if self._closed:
            raise SessionClosedError(
                f"session {self.session_id} is closed; open a new one with create_session()"
            )
        if message.sender is _AGENT:
            raise ChannelError(
                "a session sends the customer's messages, not the agent's"
            )
        self._conversation = self._conversation.with_message(message)
        await self.deliver(message)

    async def receive_event(self) -> SessionEvent:
        """Wait for the next agent event.

        Raises:
            ChannelError: the transport failed.
            SessionClosedError: the session ended (either side closed it).
        """
        try:
            item = await self._receive_events.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise SessionClosedError(f"session {self.session_id} has ended") from None
        if isinstance(item, ChannelError):
            raise item
        return item

    def receive_event_nowait(self) -> SessionEvent:
        """The next agent event if one is waiting.

        Raises:
            anyio.WouldBlock: nothing is waiting.
            ChannelError: the transport failed.
            SessionClosedError: the session ended (either side closed it).
        """
        try:
            item = self._receive_events.receive_nowait()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise SessionClosedError(f"session {self.session_id} has ended") from None
        if isinstance(item, ChannelError):
            raise item
        return item

    async def events(self) -> AsyncGenerator[SessionEvent, None]:
        """Agent messages and end-of-turn events, in order, until the session closes.

        Raises:
            ChannelError: the transport failed.
        """
        while True:
            try:
                item = await self._receive_events.receive()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                return
            if isinstance(item, ChannelError):
                raise item
            yield item

    async def subscribe(self) -> AsyncGenerator[Message, None]:
        async for event in self.events():
            if isinstance(event, Message):
                yield event

    @property
    def closed(self) -> bool:
        """``True`` once :meth:`aclose` was called."""
        return self._closed

    async def aclose(self) -> None:
        """Close the session: stop the listener, release the transport, end events."""
        if self._closed:
            return
        self._closed = True
        cleans_up = type(self).close_transport is not QueueSession.close_transport
        if cleans_up or self._task_group is not None:
            # Read before any shield: the cleanup is shielded from cancellation, but
            # keeps what is left of the caller's deadline (and so the run's). A
            # session with neither a transport to close nor a listener (HTTP) skips
            # it: nobody would read it.
            self.close_deadline = (
                max(anyio.current_effective_deadline(), anyio.current_time())
                + _CLEANUP_GRACE
            )
        self._send_events.close()
        self._receive_events.close()
        try:
            if cleans_up:
                with anyio.CancelScope(shield=True, deadline=self.close_deadline):
                    await self.close_transport()
        finally:
            if self._task_group is not None:
                task_group, self._task_group = self._task_group, None
                task_group.cancel_scope.cancel()
                await task_group.__aexit__(None, None, None)
