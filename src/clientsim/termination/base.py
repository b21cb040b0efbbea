"""The termination contract: when should a conversation end, and why."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

from clientsim.models import Conversation, Ending, Intent, Outcomes


__all__ = ["TerminationContext", "TerminationStrategy"]


@attrs.frozen(kw_only=True)
class TerminationContext:
    """What a termination strategy may look at after each message.

    Attributes:
        conversation: the conversation so far (with its outcome, if reached).
        intent: the customer's intent for the run, if one was given.
        outcomes: the run's legal outcomes.
        elapsed_seconds: wall-clock seconds since the run started.
        outcome_message_count: how many messages there were when the outcome was
            reached, or ``None`` if no outcome is reached yet.
    """

    conversation: Conversation
    intent: Intent | None
    outcomes: Outcomes
    elapsed_seconds: float
    outcome_message_count: int | None = None


@runtime_checkable
class TerminationStrategy(Protocol):
    """Decides, after each message, whether the conversation should end.

    :meth:`check` returns an :class:`~clientsim.models.Ending` naming itself as the
    reason, or ``None`` to go on. A strategy that spends tokens may expose a
    ``token_usage`` attribute; the runner reports it as the judge's.
    """

    async def check(self, context: TerminationContext) -> Ending | None:
        """Return why the conversation should end now, or ``None`` to continue."""
        ...
