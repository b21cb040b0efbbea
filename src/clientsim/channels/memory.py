"""An in-memory channel whose agent side the test drives: for unit tests."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator

import anyio

from clientsim.channels.base import Channel, QueueSession
from clientsim.errors import ChannelError, SessionClosedError
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
        self._pending: deque[Message] = deque()
        self._arrived = anyio.Event()
        self._closed = False

    async def say(self, *contents: str) -> list[Message]:
        """Send one agent message per string, in order."""
        return [await self.session.push_text(content) for content in contents]

    async def end_turn(self) -> None:
        """Signal that the agent has finished its turn."""
        await self.session.push_end_of_turn()

    async def fail(
        self,
        reason: str = "connection dropped",
        *,
        transient: bool = False,
        status: int | None = None,
    ) -> None:
        """Break the connection: the runner sees a :class:`ChannelError` with this
        ``transient`` flag and ``status`` (say ``transient=True`` to play a dropped
        connection that an experiment should retry)."""
        await self.session.push_failure(
            ChannelError(
                f"in-memory agent: {reason}", status=status, transient=transient
            )
        )

    async def hang_up(self) -> None:
        """End the session from the agent's side: the reader's events stop."""
        await self.session.push_end_of_session()

    async def receive(self) -> Message:
        """Wait for the next customer message.

        Raises:
            SessionClosedError: the session closed before one came.
        """
        while not self._pending:
            if self._closed:
                raise SessionClosedError(f"session {self.session_id} is closed")
            self._arrived = anyio.Event()
            await self._arrived.wait()
        return self._pending.popleft()

    async def received(self) -> AsyncIterator[Message]:
        """Every customer message, as it arrives, until the session closes."""
        while True:
            try:
                yield await self.receive()
            except SessionClosedError:
                return

    def _deliver(self, message: Message) -> None:
        if self._closed:
            raise ChannelError("the in-memory agent has stopped listening")
        self._pending.append(message)
        self._arrived.set()

    def _close(self) -> None:
        self._closed = True
        self._arrived.set()


class InMemorySession(QueueSession):
    """A session of :class:`InMemoryChannel`; its :attr:`agent` handle plays the agent."""

    def __init__(self, session_id: str | None = None) -> None:
        super().__init__(session_id)
        self.agent = AgentHandle(self)

    async def deliver(self, message: Message) -> None:
        self.agent._deliver(message)  # noqa: SLF001 - its own handle

    async def close_transport(self) -> None:
        self.agent._close()  # noqa: SLF001


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
        self._handed_out = 0
        self._created = anyio.Event()

    async def create_session(self) -> InMemorySession:
        """Open a session; its agent handle is handed out by :meth:`next_agent`."""
        session = InMemorySession()
        self.sessions.append(session)
        self._created.set()
        return session

    async def next_agent(self) -> AgentHandle:
        """Wait for the next session not handed out yet and return its agent handle."""
        while self._handed_out >= len(self.sessions):
            self._created = anyio.Event()
            await self._created.wait()
        handle = self.sessions[self._handed_out].agent
        self._handed_out += 1
        return handle
