"""``moderator``: one member chairs, and says who speaks next.

The moderator speaks after every other member's message. When its message names a
member (``@Name``, ``"Name, ..."``, ``"..., Name?"``, or the member's role title: see
:func:`~clientsim.turns.addressed.addressee`), that member speaks next; when it names
nobody (or the one it names passes), the others take the turn in the group's order
after the last of them who spoke. A moderator that passes hands the turn on the same
way. The moderator may itself be simulated, or a real person behind a channel.
"""

from __future__ import annotations

from collections.abc import Sequence

from clientsim._validators import check_text
from clientsim.errors import ConfigError
from clientsim.models import Conversation, Message
from clientsim.turns._order import after, first_taker, last_speaker
from clientsim.turns.addressed import addressee
from clientsim.turns.base import MemberInfo, TurnContext, TurnPolicy


__all__ = ["Moderator"]


class Moderator(TurnPolicy):
    """The member called ``moderator`` chairs the discussion (see the module docs).

    Example:
        >>> Moderator(moderator="Chair")
        Moderator(moderator='Chair')

    Args:
        moderator: the name of the member who chairs.

    Raises:
        ConfigError: the name is blank (and, when the runner checks the group, when
            no member has it).
    """

    def __init__(self, moderator: str) -> None:
        self.moderator = check_text("moderator", moderator, non_empty=True)

    def __repr__(self) -> str:
        return f"Moderator(moderator={self.moderator!r})"

    def check_members(self, members: Sequence[MemberInfo]) -> None:
        """Raise :class:`ConfigError` unless the moderator is one of ``members``."""
        names = [member.name for member in members]
        if self.moderator not in names:
            raise ConfigError(
                f"moderator {self.moderator!r} is not a member of the group; the "
                f"members are {', '.join(map(repr, names))}"
            )

    async def take_turn(self, context: TurnContext) -> Message | None:
        transcript = context.transcript
        chair = self.moderator
        members = context.members
        speaker = last_speaker(transcript)
        if speaker != chair:
            message = await context.ask(chair)
            if message is not None:
                return message
        else:
            last = transcript.last_message
            assert last is not None  # noqa: S101 - the chair wrote it
            named = addressee(last.content, members, exclude=chair)
            if named is not None:
                message = await context.ask(named)
                if message is not None:
                    return message
        others = [
            name
            for name in after(members, _last_other(transcript, chair))
            if name != chair
        ]
        return await first_taker(context, others)


def _last_other(transcript: Conversation, chair: str) -> str | None:
    """The last speaker who is not the chair (``None`` if there is none)."""
    for message in reversed(transcript.messages):
        if message.speaker is not None and message.speaker.name != chair:
            return message.speaker.name
    return None
