"""A Hybrid run's opening when the agent speaks first (``first="agent"``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from clientsim import events
from clientsim.channels.base import TurnEnded
from clientsim.models import Conversation, Ending
from clientsim.runners._core import RunState
from clientsim.runners._hybrid_sources import Item, Source


__all__ = ["read_opening"]

Take = Callable[[Conversation, Item], Awaitable[Conversation | Ending]]
AgentTurn = Callable[
    [Conversation, Source, float], Awaitable[tuple[Conversation, int] | Ending]
]


async def read_opening(
    conversation: Conversation,
    source: Source,
    *,
    waits: bool,
    reply_timeout: float,
    take: Take,
    agent_turn: AgentTurn,
    state: RunState,
    conversation_id: str,
) -> Conversation | Ending:
    """The agent's opening burst, recorded (through ``take``); ``agent_silent`` if
    there is none.

    An agent that may speak unprompted (a WebSocket; ``waits``) is waited for like any
    agent turn, up to ``reply_timeout`` for its first message. A session whose agent
    speaks only when sent a message (HTTP, a callable, a runnable:
    :attr:`~clientsim.channels.Session.speaks_unprompted` is false) can have an
    opening only if it queued one when it opened (a replayed cassette's turn 0): it
    is taken at once, without waiting.
    """
    if not waits:
        received = 0
        while True:
            try:
                item = source.receive_nowait()
            except anyio.WouldBlock:
                break
            if isinstance(item, TurnEnded):
                break
            taken = await take(conversation, item)
            if isinstance(taken, Ending):
                return taken
            conversation = taken
            received += 1
        waited = "it had sent nothing when the session opened"
    else:
        turn = await agent_turn(conversation, source, reply_timeout)
        if isinstance(turn, Ending):
            return turn
        conversation, received = turn
        waited = f"it sent nothing within {reply_timeout:g}s"
    if received:
        return conversation
    state.silent_turns += 1
    events.emit(
        events.AGENT_SILENT,
        conversation_id=conversation_id,
        waited_seconds=state.turn_waited,
        ended_turn=state.turn_ended_empty,
        message_count=0,
    )
    return Ending(
        reason="agent_silent",
        detail=f"the agent was to open the conversation (first='agent') but {waited}",
        message_count=0,
    )
