"""Group members for the group runner's tests: what each says is a function of its
view alone (no state between calls), so a run is reproducible from any prefix."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import anyio

from clientsim import Conversation, Message, Participant, ParticipantRole
from clientsim.models.conversation import stamped
from clientsim.turns import MemberInfo


AGENT = ParticipantRole.AGENT
CUSTOMER = ParticipantRole.CUSTOMER
START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class Lines(Participant):
    """Says ``lines[k]`` when it has said ``k`` messages so far (counted in its view),
    ``delay`` seconds after the last message; ``None`` in ``lines`` passes.

    ``answer_only``: pass while the last message is its own. ``delay`` may be a
    function of the view. Every view it is given is kept in :attr:`views`.
    """

    def __init__(
        self,
        name: str,
        lines: Sequence[str | None],
        *,
        delay: float | Callable[[Conversation], float] = 5.0,
        role: str = "",
        description: str = "",
        side: ParticipantRole = AGENT,
        answer_only: bool = True,
    ) -> None:
        self.name = name
        self.info = MemberInfo(name, role, description)
        self.role = side
        self.lines = list(lines)
        self.delay = delay
        self.answer_only = answer_only
        self.views: list[Conversation] = []

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        self.views.append(conversation)
        messages = conversation.messages
        if self.answer_only and messages and messages[-1].sender is self.role:
            return None
        own = sum(1 for message in messages if message.sender is self.role)
        if own >= len(self.lines) or self.lines[own] is None:
            return None
        delay = self.delay(conversation) if callable(self.delay) else self.delay
        last = messages[-1].timestamp if messages else START
        return stamped(str(self.lines[own]), last + timedelta(seconds=delay), self.role)


def seeded_delay(seed: int, name: str) -> Callable[[Conversation], float]:
    """Whole seconds from 1 to 9 drawn from (seed, name, length of the view) only."""

    def delay(conversation: Conversation) -> float:
        return random.Random(f"{seed}:{name}:{len(conversation)}").randint(1, 9)

    return delay


def talker(name: str, seed: int, count: int = 4, **options: object) -> Lines:
    """A member that says ``count`` numbered lines at seeded delays."""
    return Lines(
        name,
        [f"{name} says {k}" for k in range(1, count + 1)],
        delay=seeded_delay(seed, name),
        **options,  # type: ignore[arg-type]
    )


class Broken(Participant):
    """Raises ``error`` when asked."""

    def __init__(self, name: str, error: Exception) -> None:
        self.name = name
        self.error = error

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        raise self.error


class Stuck(Participant):
    """Never answers (until cancelled)."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        await anyio.Event().wait()
        return None


class Gives(Participant):
    """Returns ``value`` as it is, whatever it is."""

    def __init__(
        self, name: str, value: object, *, side: ParticipantRole = AGENT
    ) -> None:
        self.name = name
        self.value = value
        self.role = side

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        return self.value  # type: ignore[return-value]
