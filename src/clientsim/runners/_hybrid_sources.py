"""Where a hybrid run reads the agent's events from, and how it sends to the agent.

A :class:`~clientsim.channels.base.QueueSession` is read from its own queue; any other
:class:`~clientsim.channels.base.Session` is drained into a bounded inbox by
:func:`pump`. Either way a failure reaches the conversation in order, as an event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Final, Protocol

import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from clientsim import events
from clientsim.channels.base import AgentInterrupted, QueueSession, Session, TurnEnded
from clientsim.errors import ChannelError, ConfigError, SessionClosedError
from clientsim.models import Conversation, Ending, Message
from clientsim.runners._core import RunState


INBOX_SIZE: Final = 1024
"""How many agent events may wait in a plain session's inbox; past it, the session's
reader waits (backpressure), nothing is dropped. The same bound as a
:class:`~clientsim.channels.base.QueueSession`'s own queue."""


@attrs.frozen
class Failure:
    source: str
    error: Exception


@attrs.frozen
class Closed:
    """The session's stream of agent events ended: the agent side closed it."""


Item = Message | TurnEnded | AgentInterrupted | Failure | Closed


def interrupted(
    item: AgentInterrupted, conversation: Conversation, conversation_id: str
) -> Ending:
    """The ending for an agent that stopped to ask: ``"agent_interrupted"``, its
    detail the interrupt's payload as JSON (``json.loads(ending.detail)``)."""
    count = len(conversation.messages)
    events.emit(
        events.AGENT_INTERRUPTED,
        conversation_id=conversation_id,
        payload=item.payload,
        message_count=count,
    )
    return Ending(
        reason="agent_interrupted",
        detail=json.dumps(item.payload, default=repr),
        message_count=count,
    )


def channel_error(exc: Exception) -> ChannelError:
    if isinstance(exc, ChannelError):
        return exc
    error = ChannelError(f"sending to the agent failed: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error


class Source(Protocol):
    """The agent's events, in order, as the runner reads them."""

    async def receive(self) -> Item: ...

    def receive_nowait(self) -> Item: ...

    async def deliver(self, session: Session, message: Message) -> None: ...


class QueueSource:
    """Reads a :class:`QueueSession`'s own queue: no extra task, no extra hop."""

    def __init__(self, session: QueueSession, state: RunState) -> None:
        self.session = session
        self.state = state

    async def receive(self) -> Item:
        try:
            return await self.session.receive_event()
        except SessionClosedError:
            return Closed()
        except ChannelError as exc:
            return Failure("channel", exc)

    def receive_nowait(self) -> Item:
        try:
            return self.session.receive_event_nowait()
        except SessionClosedError:
            return Closed()
        except ChannelError as exc:
            return Failure("channel", exc)

    async def deliver(self, session: Session, message: Message) -> None:
        """Send in the background; a failure joins the queue after earlier events."""
        await send(session, message, self.state, self._report)

    async def _report(self, exc: Exception) -> None:
        await self.session.push_failure(channel_error(exc))


class StreamSource:
    """Reads an inbox that :func:`pump` fills from a plain :class:`Session`."""

    def __init__(
        self,
        inbox: MemoryObjectReceiveStream[Item],
        sink: MemoryObjectSendStream[Item],
        state: RunState,
    ) -> None:
        self.inbox = inbox
        self.sink = sink
        self.state = state

    async def receive(self) -> Item:
        return await self.inbox.receive()

    def receive_nowait(self) -> Item:
        return self.inbox.receive_nowait()

    async def deliver(self, session: Session, message: Message) -> None:
        """Send in the background; a failure is reported to the conversation."""
        await send(session, message, self.state, self._report)

    async def _report(self, exc: Exception) -> None:
        await self.sink.send(Failure("channel", exc))


async def send(
    session: Session,
    message: Message,
    state: RunState,
    report: Callable[[Exception], Awaitable[None]],
) -> None:
    """Send ``message``, timing the call in flight on ``state``; a failure goes to
    ``report`` (in order with the agent's events), a ConfigError out as itself."""
    state.call_since = time.monotonic()
    try:
        await session.send(message)
    except ConfigError:  # out of the run as itself (the task group unwraps it)
        raise
    except Exception as exc:  # noqa: BLE001 - reported to the conversation, in order
        await report(exc)
    state.call_since = None


async def pump(session: Session, inbox: MemoryObjectSendStream[Item]) -> None:
    """Move a plain session's agent messages into the runner's inbox."""
    try:
        async for message in session.subscribe():
            await inbox.send(message)
        await inbox.send(Closed())
    except ConfigError:  # out of the run as itself (the task group unwraps it)
        raise
    except Exception as exc:  # noqa: BLE001 - reported to the conversation, in order
        await inbox.send(Failure("channel", exc))
