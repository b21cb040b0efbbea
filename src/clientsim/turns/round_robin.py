"""``round_robin``: the members speak in the group's order."""

from __future__ import annotations

from clientsim.models import Message
from clientsim.turns._order import after, first_taker, last_speaker
from clientsim.turns.base import TurnContext, TurnPolicy


__all__ = ["RoundRobin"]


class RoundRobin(TurnPolicy):
    """The member after the last speaker speaks, in the group's order; one that
    passes hands the turn to the next, and the turn is over (``None``) once every
    member, the last speaker included, has passed.

    Example:
        >>> RoundRobin()
        RoundRobin()
    """

    def __repr__(self) -> str:
        return "RoundRobin()"

    async def take_turn(self, context: TurnContext) -> Message | None:
        names = after(context.members, last_speaker(context.transcript))
        return await first_taker(context, names)
