"""A participant that says fixed lines: for tests, demos and deterministic rehearsals."""

from __future__ import annotations

from collections.abc import Sequence

from clientsim._coerce import role_of
from clientsim.models import Conversation, Message, ParticipantRole
from clientsim.participants.base import Participant
from clientsim.participants.timing import Pacer, TypingModel, default_typing, landed


__all__ = ["ScriptedParticipant"]


class ScriptedParticipant(Participant):
    """Says its ``lines`` in order, each in answer to the other side, then passes for good.

    Example:
        >>> customer = ScriptedParticipant(
        ...     ParticipantRole.CUSTOMER, ["My order is late", "Thanks, bye!"]
        ... )

    Args:
        role: which side it plays.
        lines: what it says, one message per line.
        seed: seeds the simulated typing time.
        typing: the typing model; the role's default if ``None``.
    """

    def __init__(
        self,
        role: ParticipantRole,
        lines: Sequence[str],
        *,
        seed: int = 0,
        typing: TypingModel | None = None,
    ) -> None:
        self.role = role_of(role)
        if isinstance(lines, str):
            lines = [lines]
        self.lines = tuple(str(line) for line in lines)
        self._next = 0
        self._proposed: Message | None = None
        self._proposed_at = 0
        self._pacer = Pacer(self.role, typing or default_typing(self.role), seed)

    @classmethod
    def from_config(
        cls,
        *,
        role: str | ParticipantRole,
        lines: Sequence[str],
        seed: int = 0,
    ) -> ScriptedParticipant:
        """Build from config values (``role`` may be ``"customer"`` or ``"agent"``)."""
        return cls(role_of(role), lines, seed=seed)

    @property
    def finished(self) -> bool:
        """``True`` once every line has been said."""
        return self._next + (self._proposed is not None) >= len(self.lines)

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        last = conversation.last_message
        if self._proposed is not None:
            # A line counts as said once it is in the conversation; a proposal the
            # runner discarded (the other side spoke first) is offered again.
            if landed(self._proposed, conversation, self._proposed_at):
                self._next += 1
            self._proposed = None
        if self._next >= len(self.lines):
            return None
        if last is not None and last.sender is self.role:
            return None
        self._proposed = self._pacer.stamp(conversation, self.lines[self._next])
        self._proposed_at = len(conversation.messages)
        return self._proposed
