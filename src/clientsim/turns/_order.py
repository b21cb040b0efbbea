"""What the built-in policies share: the group's order after the last speaker."""

from __future__ import annotations

from collections.abc import Sequence

from clientsim.models import Conversation, Message
from clientsim.turns.base import MemberInfo, TurnContext


__all__ = ["after", "first_taker", "last_speaker"]


def last_speaker(transcript: Conversation) -> str | None:
    """The name of whoever wrote the transcript's last message (``None`` if empty)."""
    last = transcript.last_message
    if last is None or last.speaker is None:
        return None
    return last.speaker.name


def after(members: Sequence[MemberInfo], name: str | None) -> list[str]:
    """Every member's name, in the group's order, starting with the one after
    ``name`` and ending with ``name`` itself (an outside voice or ``None``: the
    group's order as it is)."""
    names = [member.name for member in members]
    if name not in names:
        return names
    index = names.index(name) + 1
    return names[index:] + names[:index]


async def first_taker(context: TurnContext, names: Sequence[str]) -> Message | None:
    """Ask ``names`` one after the other; the first proposal, or ``None`` if all pass."""
    for name in names:
        message = await context.ask(name)
        if message is not None:
            return message
    return None
