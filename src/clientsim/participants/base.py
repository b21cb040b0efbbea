"""The participant contract: everything a runner talks to looks like this."""

from __future__ import annotations

import abc

from clientsim.models import Conversation, Message, TokenUsage


__all__ = ["Participant"]

_NO_USAGE = TokenUsage()


class Participant(abc.ABC):
    """A side of a conversation: a simulated customer or agent, or a real agent.

    Subclass it and implement :meth:`get_next_message`::

        class Echo(Participant):
            async def get_next_message(self, conversation):
                last = conversation.last_message
                if last is None or last.sender is ParticipantRole.AGENT:
                    return None
                return Message(
                    content=f"You said: {last.content}",
                    timestamp=last.timestamp + timedelta(seconds=2),
                    sender=ParticipantRole.AGENT,
                )
    """

    @abc.abstractmethod
    async def get_next_message(self, conversation: Conversation) -> Message | None:
        """Generate the next message based on conversation history.

        Args:
            conversation: The conversation history up to this point.

        Returns:
            Message with timestamp, or None if the participant has nothing to say now
            (or is finished). A runner ends the conversation when both sides pass in a
            row.
        """

    @property
    def token_usage(self) -> TokenUsage:
        """Tokens this participant has spent so far (zero for participants without a model)."""
        return _NO_USAGE
