"""An in-memory channel whose agent side the test drives: for unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from clientsim.channels.base import Channel, QueueSession
from clientsim.errors import ChannelError
from clientsim.models import Message


__all__ = ["AgentHandle", "InMemoryChannel", "InMemorySession"]


class AgentHandle:
    """The agent's end of an in-memory session: what a test uses to play the agent.

    Example:
        >>> async def agent(handle: AgentHandle) -> None:
        ...     async for message in handle.received():
        ...         await handle.say("Let me check.", "Found it!")
        ...         await handle.end_turn()
    """

    def __init__(self, session: InMemorySession) -> None:
        self.session = session
        self.session_id = session.session_id
        self._inbox_send: MemoryObjectSendStream[Message]
        self._inbox: MemoryObjectReceiveStream[Message]
        self._inbox_send, self._inbox = anyio.create_memory_object_stream[Message](1024)

    async def say(self, *contents: str) -> list[Message]:
        """Send one agent message per string, in order."""
        return [await self.session.push_text(content) for content in contents]

    async def end_turn(self) -> None:
        """Signal that the agent has finished its turn."""
        await self.session.push_end_of_turn()

    async def fail(self, reason: str = "connection dropped") -> None:
        """Break the connection: the runner sees a :class:`ChannelError`."""
        await self.session.push_failure(ChannelError(f"in-memory agent: {reason}"))

    async def receive(self) -> Message:
        """Wait for the next customer message."""
        return await self._inbox.receive()

    async def received(self) -> AsyncIterator[Message]:
        """Every customer message, as it arrives, until the session closes."""
        async for message in self._inbox:
            yield message


class InMemorySession(QueueSession):
    """A session of :class:`InMemoryChannel`; its :attr:`agent` handle plays the agent."""

    def __init__(self, session_id: str | None = None) -> None:
        super().__init__(session_id)
        self.agent = AgentHandle(self)

    async def deliver(self, message: Message) -> None:
        try:
            await self.agent._inbox_send.send(message)  # noqa: SLF001 - its own handle
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            raise ChannelError("the in-memory agent has stopped listening") from exc

    async def close_transport(self) -> None:
        self.agent._inbox_send.close()  # noqa: SLF001


class InMemoryChannel(Channel):
    """A channel whose agent side is driven by the test, through :class:`AgentHandle`.

    Each :meth:`create_session` makes a session; :meth:`next_agent` waits for the next
    one's handle, so a test can run the runner and the agent side by side::

        channel = InMemoryChannel()
        async with anyio.create_task_group() as tg:
            tg.start_soon(play_agent, channel)   # await channel.next_agent(), then drive it
            result = await runner.run()
    """

    def __init__(self) -> None:
        self.sessions: list[InMemorySession] = []
        self._new_send: MemoryObjectSendStream[AgentHandle]
        self._new: MemoryObjectReceiveStream[AgentHandle]
        self._new_send, self._new = anyio.create_memory_object_stream[AgentHandle](1024)

    async def create_session(self) -> InMemorySession:
        session = InMemorySession()
        self.sessions.append(session)
        await self._new_send.send(session.agent)
        return session

    async def next_agent(self) -> AgentHandle:
        """Wait for the next session and return its agent handle."""
        return await self._new.receive()
