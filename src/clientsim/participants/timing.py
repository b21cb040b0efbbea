"""Simulated time: how long a participant takes to read, think and type.

Participants stamp each message at the conversation's last timestamp plus a seeded
delay, so the same seed and ``base_timestamp`` give identical timestamps and no one ever
sleeps.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from clientsim.errors import ConfigError
from clientsim.models import Conversation, Message, ParticipantRole
from clientsim.models.conversation import stamped


__all__ = ["Pacer", "TypingModel"]


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{attribute.name} must be a positive number; got {value!r}")


def _think_range(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if (
        not isinstance(value, tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) and v >= 0 for v in value)
        or value[0] > value[1]
    ):
        raise ConfigError(
            f"{attribute.name} must be (low, high) seconds with 0 <= low <= high; "
            f"got {value!r}"
        )


def _fraction(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not isinstance(value, int | float) or not 0 <= value < 1:
        raise ConfigError(f"{attribute.name} must be in [0, 1); got {value!r}")


def _pair(value: Iterable[float]) -> tuple[float, float]:
    values = tuple(value)
    if len(values) != 2:
        raise ConfigError(f"think_seconds must be (low, high) seconds; got {values!r}")
    return (values[0], values[1])


@attrs.frozen(kw_only=True)
class TypingModel:
    """How fast a simulated person reads, thinks and types.

    The delay before a message is ``(read + think + type) * jitter`` where ``read`` is
    the words of the other side's unread messages at ``reading_words_per_minute``,
    ``think`` is drawn from ``think_seconds`` and ``type`` is the reply's characters at
    ``typing_chars_per_second``; ``jitter`` is drawn from ``1 +- jitter``.
    """

    reading_words_per_minute: float = attrs.field(default=250.0, validator=_positive)
    typing_chars_per_second: float = attrs.field(default=6.0, validator=_positive)
    think_seconds: tuple[float, float] = attrs.field(
        default=(1.0, 4.0), converter=_pair, validator=_think_range
    )
    jitter: float = attrs.field(default=0.2, validator=_fraction)

    def delay(self, *, read: str, write: str, rng: random.Random) -> timedelta:
        """The time taken to read ``read``, think, then type ``write``."""
        reading = len(read.split()) * 60.0 / self.reading_words_per_minute
        thinking = rng.uniform(*self.think_seconds)
        typing = len(write) / self.typing_chars_per_second
        factor = (
            rng.uniform(1.0 - self.jitter, 1.0 + self.jitter) if self.jitter else 1.0
        )
        return timedelta(seconds=(reading + thinking + typing) * factor)


AGENT_TYPING = TypingModel(typing_chars_per_second=12.0, think_seconds=(0.5, 2.0))
"""The default for agents: they type faster and think less than customers."""
CUSTOMER_TYPING = TypingModel()
"""The default for customers."""


@attrs.define
class Pacer:
    """Stamps one participant's messages in simulated time, from its own seeded RNG."""

    role: ParticipantRole
    typing: TypingModel
    seed: int = 0
    _rng: random.Random = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def stamp(self, conversation: Conversation, content: str) -> Message:
        """A message from this side, timed after the conversation's last message."""
        messages = conversation.messages
        unread: list[str] = []
        for message in reversed(messages):
            if message.sender is self.role:
                break
            unread.append(message.content)
        delay = self.typing.delay(read=" ".join(unread), write=content, rng=self._rng)
        # An empty conversation (the participant opens it) starts now.
        last = messages[-1].timestamp if messages else datetime.now(UTC)
        return stamped(content, last + delay, self.role)


def landed(proposal: Message, conversation: Conversation, since: int) -> bool:
    """``True`` if ``proposal`` was added to ``conversation`` after its first ``since``.

    Matched by sender and content, not timestamp: a real-time runner restamps a
    message with the moment it was sent.
    """
    return any(
        message.sender is proposal.sender and message.content == proposal.content
        for message in conversation.messages[since:]
    )


def default_typing(role: ParticipantRole) -> TypingModel:
    """The typing model a built-in participant uses when none is given."""
    return AGENT_TYPING if role is ParticipantRole.AGENT else CUSTOMER_TYPING
