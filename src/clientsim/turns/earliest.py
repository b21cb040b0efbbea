"""``earliest``: everyone proposes, the earliest proposal is said.

The two-party rule of the Full runner, for N members: every member is asked at once
(each proposes a timestamped message or passes with ``None``); the earliest timestamp
wins, a tie going to the member who comes first in the group's order after the last
speaker; the other proposals are dropped (their authors are asked again next turn).
When every member passes the conversation is over.
"""

from __future__ import annotations

from clientsim.models import Message
from clientsim.turns._order import after, last_speaker
from clientsim.turns.base import TurnContext, TurnPolicy


__all__ = ["Earliest"]


class Earliest(TurnPolicy):
    """The earliest proposal wins (see the module docs).

    Example:
        >>> Earliest()
        Earliest()
    """

    def __repr__(self) -> str:
        return "Earliest()"

    async def take_turn(self, context: TurnContext) -> Message | None:
        names = after(context.members, last_speaker(context.transcript))
        proposals = await context.ask_each(names)
        best: Message | None = None
        for name in names:  # in turn order: the first of equal timestamps stays
            proposal = proposals.get(name)
            if proposal is not None and (
                best is None or proposal.timestamp < best.timestamp
            ):
                best = proposal
        return best
