"""A real agent as a member of a group conversation, reached through a channel.

In a two-party run a real agent is the Hybrid runner's other side. In a group (a
team meeting, a focus group) it is one member among several: at its turn it is sent
what was said since it last spoke (the others' messages, each labelled with its
speaker, in one message) and its reply is its proposal.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Final

import anyio

from clientsim._validators import check_seconds, check_text
from clientsim.channels.base import (
    AgentInterrupted,
    Channel,
    QueueSession,
    Session,
    TurnEnded,
)
from clientsim.errors import ChannelError, ConfigError, SessionClosedError
from clientsim.models import Conversation, Message, ParticipantRole
from clientsim.models.conversation import stamped
from clientsim.participants.base import Participant
from clientsim.turns.base import MemberInfo


__all__ = ["ChannelParticipant"]

_AGENT: Final = ParticipantRole.AGENT
_CUSTOMER: Final = ParticipantRole.CUSTOMER


class ChannelParticipant(Participant):
    """A real agent behind a :class:`~clientsim.channels.Channel`, as a participant.

    It plays the agent's side: its own messages are the agent's, everyone else's
    reach it as the customer's. At each call it sends, as one message, every message
    of the conversation that came after its own last one (a group runner labels them
    ``"Name (Role): text"``), then collects the agent's reply burst: until the
    channel says the turn is over (a request/response agent), or ``quiet_seconds``
    pass without a new message, or ``reply_timeout`` passes without any. Several
    messages of one burst become one proposal, one line each. No reply is a pass.
    The proposal is stamped after the conversation's last message by the real time
    the agent took, so a simulated clock keeps its order.

    The session is opened on first use (or by :meth:`open`) and closed by
    :meth:`aclose`; a :class:`~clientsim.runners.GroupSimulationRunner` does both.

    Example:
        >>> from clientsim import TargetChannel
        >>> async def bot(message):
        ...     return "Noted."
        >>> ChannelParticipant(TargetChannel(bot), name="Bot", role="Support")
        ChannelParticipant(name='Bot', role='Support')

    Args:
        channel: how to reach the agent; one session is opened and kept.
        name: its name in the group (``"agent"`` by default).
        role: the part it plays, for policies and others' labels.
        description: what it does or knows, for policies that pick the speaker.
        reply_timeout: the longest wait for the first message of a reply, seconds.
        quiet_seconds: silence that ends a reply burst (for agents that push
            messages without saying when their turn ends).

    Raises:
        ConfigError: ``channel`` is not a Channel, or a bad name or number.
    """

    role = _AGENT

    def __init__(
        self,
        channel: Channel,
        *,
        name: str = "agent",
        role: str = "",
        description: str = "",
        reply_timeout: float = 30.0,
        quiet_seconds: float = 2.0,
    ) -> None:
        if not isinstance(channel, Channel):
            raise ConfigError(
                f"ChannelParticipant needs a Channel; got {type(channel).__name__}"
            )
        self.channel = channel
        self.info = MemberInfo(
            check_text("name", name, non_empty=True),
            check_text("role", role),
            check_text("description", description),
        )
        self.name = self.info.name
        self.reply_timeout = check_seconds("reply_timeout", reply_timeout)
        self.quiet_seconds = check_seconds("quiet_seconds", quiet_seconds)
        self._session: QueueSession | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"ChannelParticipant(name={self.name!r}, role={self.info.role!r})"

    async def open(self) -> None:
        """Open the session with the agent, if it is not open yet.

        Raises:
            ChannelError: the channel failed to open one, or it is not a queue
                session (every built-in channel's is).
        """
        if self._session is not None:
            return
        if self._closed:
            raise ChannelError(f"{self.name}: the session with the agent was closed")
        session: Session = await self.channel.create_session()
        if not isinstance(session, QueueSession):
            await session.aclose()
            raise ChannelError(
                f"{self.name}: a group member needs a channel whose sessions are "
                f"QueueSessions (HTTP, WebSocket, a callable, a runnable); "
                f"{type(self.channel).__name__} opened a {type(session).__name__}"
            )
        await session.__aenter__()
        self._session = session

    async def aclose(self) -> None:
        """Close the session (closing twice is harmless)."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.aclose()

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        messages = conversation.messages
        start = len(messages)
        while start and messages[start - 1].sender is not _AGENT:
            start -= 1
        unseen = messages[start:]
        if not unseen:
            return None
        await self.open()
        session = self._session
        assert session is not None  # noqa: S101 - opened above
        text = "\n".join(message.content for message in unseen)
        began = time.monotonic()
        try:
            reply = await self._exchange(
                session, stamped(text, unseen[-1].timestamp, _CUSTOMER)
            )
        except SessionClosedError:
            return None
        if not reply:
            return None
        took = timedelta(seconds=time.monotonic() - began)
        return stamped("\n".join(reply), messages[-1].timestamp + took, _AGENT)

    async def _exchange(self, session: QueueSession, message: Message) -> list[str]:
        """Send ``message``; the texts of the agent's reply burst."""
        replies: list[str] = []
        if session.send_completes_turn:
            with anyio.move_on_after(self.reply_timeout):
                await session.send(message)
            self._drain(session, replies)
            return replies
        await session.send(message)
        wait = self.reply_timeout
        while True:
            event: object = None
            with anyio.move_on_after(wait):
                event = await session.receive_event()
            if not _take(event, replies):
                return replies
            wait = self.quiet_seconds

    @staticmethod
    def _drain(session: QueueSession, replies: list[str]) -> None:
        while True:
            try:
                event = session.receive_event_nowait()
            except anyio.WouldBlock:
                return
            if not _take(event, replies):
                return


def _take(event: object, replies: list[str]) -> bool:
    """Add a reply's text; ``False`` when the burst is over."""
    if event is None or isinstance(event, TurnEnded | AgentInterrupted):
        return False
    if isinstance(event, Message):
        if event.content:
            replies.append(event.content)
        return True
    return False
