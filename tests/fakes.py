"""Test participants with exact control over what they propose and when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from clientsim import Conversation, Message, Participant, ParticipantRole


class Timed(Participant):
    """Proposes its lines, each ``delay`` seconds after the last message.

    ``answer_only``: propose only while the last message is the other side's.
    A line is consumed only once it appears in the conversation.
    """

    def __init__(
        self,
        role: ParticipantRole,
        lines: Sequence[tuple[str, float]],
        *,
        answer_only: bool = False,
    ) -> None:
        self.role = role
        self.lines = list(lines)
        self.answer_only = answer_only
        self.calls = 0
        self._proposed: Message | None = None

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        self.calls += 1
        last = conversation.messages[-1]
        if self._proposed is not None and last == self._proposed:
            self.lines.pop(0)
        self._proposed = None
        if not self.lines or (self.answer_only and last.sender is self.role):
            return None
        content, delay = self.lines[0]
        self._proposed = Message(
            content=content,
            timestamp=last.timestamp + timedelta(seconds=delay),
            sender=self.role,
        )
        return self._proposed


class Failing(Participant):
    """Raises ``error`` on its ``after``-th call (1-based)."""

    def __init__(
        self, role: ParticipantRole, error: Exception, *, after: int = 1
    ) -> None:
        self.role = role
        self.error = error
        self.after = after
        self.calls = 0

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        self.calls += 1
        if self.calls >= self.after:
            raise self.error
        last = conversation.messages[-1]
        if last.sender is self.role:
            return None
        return Message(
            content=f"{self.role.value} {self.calls}",
            timestamp=last.timestamp + timedelta(seconds=1),
            sender=self.role,
        )


class Returns(Participant):
    """Returns whatever it is given, once, then passes."""

    def __init__(self, value: object) -> None:
        self.value: object = value

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        value, self.value = self.value, None
        return value  # type: ignore[return-value]
