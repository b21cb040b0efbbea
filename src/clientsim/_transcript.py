"""How judges see a conversation: one ``ROLE: text`` line per message."""

from __future__ import annotations

from clientsim.models import Conversation


def render(conversation: Conversation, *, last: int | None = None) -> str:
    """``CUSTOMER: ...`` / ``AGENT: ...`` lines, optionally only the ``last`` messages
    (a thought or a direct message in a group is marked: ``AGENT [Ana (thinking)]:``)."""
    messages = conversation.messages if last is None else conversation.messages[-last:]
    return "\n".join(
        f"{m.sender.value.upper()}{f' [{m.label}]' if m.audience is not None else ''}: "
        f"{m.content}"
        for m in messages
    )
