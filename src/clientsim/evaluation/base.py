"""The outcome evaluator contract: the runner decides outcomes centrally through one."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from clientsim.models import Conversation, Outcome, Outcomes


__all__ = ["OutcomeEvaluator"]


@runtime_checkable
class OutcomeEvaluator(Protocol):
    """Decides which outcome, if any, a conversation has reached so far.

    The runner calls :meth:`evaluate` after every message until an outcome is reached.
    An evaluator that spends tokens may expose a ``token_usage`` attribute
    (a :class:`~clientsim.models.TokenUsage`); the runner reports it as the judge's.
    """

    async def evaluate(
        self, conversation: Conversation, outcomes: Outcomes
    ) -> Outcome | None:
        """Return the outcome reached, or ``None`` if none is reached yet."""
        ...
