"""The turn policy contract: who speaks next in a group conversation.

A :class:`~clientsim.runners.GroupSimulationRunner` takes one turn at a time. For each
turn it hands its policy a :class:`TurnContext`: the shared transcript, the members,
the turn's number and seed, and a way to ask members for their proposals. The policy
asks whom it wants and returns the message that makes the turn, or ``None`` when every
member it asked passed (the runner then ends the conversation: ``"all_passed"``).

Policies are chosen by name through :data:`clientsim.factory.turn_policies`
(``round_robin``, ``earliest``, ``moderator``, ``llm_selector``, ``addressed``, and
plugins'); a policy must be a pure function of the context (no state kept between
turns), so a session forked at turn k continues exactly as the original did.
"""

from __future__ import annotations

import abc
import random
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from clientsim._validators import a_text
from clientsim.models import Conversation, Message
from clientsim.models.group import Speaker


__all__ = ["MemberInfo", "TurnContext", "TurnPolicy"]


@attrs.frozen
class MemberInfo:
    """What a turn policy knows of a group member.

    Attributes:
        name: the member's name, unique in the group.
        role: the part it plays (``"Designer"``), ``""`` if none.
        description: what it does or knows, in a sentence, for policies that pick
            the most fitting speaker.
    """

    name: str = attrs.field(validator=a_text(non_empty=True))
    role: str = attrs.field(default="", validator=a_text())
    description: str = attrs.field(default="", validator=a_text())

    @property
    def speaker(self) -> Speaker:
        """The :class:`~clientsim.models.group.Speaker` its messages carry."""
        return Speaker(self.name, self.role)


@runtime_checkable
class TurnContext(Protocol):
    """What a turn policy sees and can do during one turn."""

    @property
    def transcript(self) -> Conversation:
        """The shared transcript so far; every message carries its ``speaker``."""
        ...

    @property
    def members(self) -> tuple[MemberInfo, ...]:
        """The members, in the group's order."""
        ...

    @property
    def turn(self) -> int:
        """The number of the turn being taken: 0 for the first after the opening."""
        ...

    @property
    def rng(self) -> random.Random:
        """A random source seeded by the run's seed and :attr:`turn` only: the same
        seed and turn give the same draws, whatever happened before."""
        ...

    async def ask(self, name: str) -> Message | None:
        """Ask member ``name`` for its next message (it sees the transcript from its
        own side); its proposal, stamped with its speaker, or ``None`` if it passes.

        Raises:
            ConfigError: no member has that name.
        """
        ...

    async def ask_each(self, names: Sequence[str]) -> Mapping[str, Message | None]:
        """Ask several members at once (concurrently); their proposals by name."""
        ...


class TurnPolicy(abc.ABC):
    """Decides who speaks next; subclass it and implement :meth:`take_turn`.

    Example:
        >>> class LastFirst(TurnPolicy):
        ...     async def take_turn(self, context):
        ...         for member in reversed(context.members):
        ...             message = await context.ask(member.name)
        ...             if message is not None:
        ...                 return message
        ...         return None
    """

    @abc.abstractmethod
    async def take_turn(self, context: TurnContext) -> Message | None:
        """The message that makes this turn (one of the proposals the policy got
        from :meth:`TurnContext.ask`), or ``None`` when everyone it asked passed."""
