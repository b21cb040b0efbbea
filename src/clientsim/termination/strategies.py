"""The built-in termination strategies that need no model."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

from clientsim._coerce import role_of
from clientsim._validators import check_int
from clientsim.errors import ConfigError
from clientsim.models import Ending, Outcomes, ParticipantRole
from clientsim.termination.base import TerminationContext, TerminationStrategy


__all__ = [
    "DEFAULT_CLOSING_PHRASES",
    "AnyOf",
    "ClosingPhrases",
    "Deadline",
    "MaxMessages",
    "OutcomeReached",
]

DEFAULT_CLOSING_PHRASES: Final = (
    "goodbye",
    "bye",
    "have a nice day",
    "have a great day",
    "have a good day",
    "take care",
)
"""Closing phrases used when none are given."""


def _positive_int(name: str, value: object) -> int:
    return check_int(name, value, low=1)


class MaxMessages:
    """Ends the conversation once it has ``max_messages`` messages."""

    def __init__(self, max_messages: int) -> None:
        self.max_messages = _positive_int("max_messages", max_messages)

    async def check(self, context: TerminationContext) -> Ending | None:
        count = len(context.conversation.messages)
        if count >= self.max_messages:
            return Ending(
                reason="max_messages",
                detail=f"reached the limit of {self.max_messages} messages",
                message_count=count,
            )
        return None


class ClosingPhrases:
    """Ends the conversation when a message contains a closing phrase.

    Phrases match whole words, case-insensitively (``"bye"`` matches "Bye!" but not
    "bypass").

    Args:
        phrases: the phrases; :data:`DEFAULT_CLOSING_PHRASES` if ``None``.
        sender: only messages from this side count (``None``: either side).
    """

    def __init__(
        self,
        phrases: Iterable[str] | None = None,
        *,
        sender: ParticipantRole | str | None = None,
    ) -> None:
        self.phrases = tuple(DEFAULT_CLOSING_PHRASES if phrases is None else phrases)
        if not self.phrases or not all(
            isinstance(p, str) and p.strip() for p in self.phrases
        ):
            raise ConfigError(
                f"closing phrases must be non-empty strings; got {self.phrases!r}"
            )
        self.sender = role_of(sender) if sender is not None else None
        alternatives = "|".join(re.escape(p.strip()) for p in self.phrases)
        self._regex = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    async def check(self, context: TerminationContext) -> Ending | None:
        message = context.conversation.last_message
        if message is None or (
            self.sender is not None and message.sender is not self.sender
        ):
            return None
        match = self._regex.search(message.content)
        if match is None:
            return None
        return Ending(
            reason="closing_phrases",
            detail=f"the {message.sender.value} said {match.group(0)!r}",
            message_count=len(context.conversation.messages),
        )


class OutcomeReached:
    """Ends the conversation once an outcome is reached, after ``closing_messages`` more.

    Args:
        outcomes: only these outcome names end it (``None``: any outcome).
        closing_messages: how many messages may follow the outcome before the end
            (to let the two sides say goodbye).
    """

    def __init__(
        self, outcomes: Sequence[str] | None = None, *, closing_messages: int = 0
    ) -> None:
        if isinstance(outcomes, str):
            outcomes = (outcomes,)
        self.outcomes = frozenset(outcomes) if outcomes is not None else None
        if not isinstance(closing_messages, int) or closing_messages < 0:
            raise ConfigError(
                f"closing_messages must be an int >= 0; got {closing_messages!r}"
            )
        self.closing_messages = closing_messages
        self._checked: Outcomes | None = None

    async def check(self, context: TerminationContext) -> Ending | None:
        if (
            self.outcomes is not None and self._checked is not context.outcomes
        ):  # once per run
            unknown = sorted(self.outcomes - set(context.outcomes.names))
            if unknown:
                raise ConfigError(
                    f"outcome_reached names unknown outcome(s) {unknown}; outcomes: "
                    + (", ".join(map(repr, context.outcomes.names)) or "(none)")
                )
            self._checked = context.outcomes
        outcome = context.conversation.outcome
        reached_at = context.outcome_message_count
        if outcome is None or reached_at is None:
            return None
        if self.outcomes is not None and outcome.name not in self.outcomes:
            return None
        count = len(context.conversation.messages)
        if count - reached_at < self.closing_messages:
            return None
        return Ending(
            reason="outcome_reached",
            detail=f"outcome {outcome.name!r} reached at message {reached_at}",
            message_count=count,
        )


class Deadline:
    """Ends the conversation after ``seconds`` of wall-clock time."""

    def __init__(self, seconds: float) -> None:
        if not isinstance(seconds, int | float) or seconds <= 0:
            raise ConfigError(
                f"deadline seconds must be a positive number; got {seconds!r}"
            )
        self.seconds = float(seconds)

    async def check(self, context: TerminationContext) -> Ending | None:
        if context.elapsed_seconds >= self.seconds:
            return Ending(
                reason="deadline",
                detail=f"ran for {context.elapsed_seconds:.3f}s; the deadline is "
                f"{self.seconds:g}s",
                message_count=len(context.conversation.messages),
            )
        return None


class AnyOf:
    """Ends the conversation when any of its strategies says so (the first one wins)."""

    def __init__(self, *strategies: TerminationStrategy) -> None:
        for strategy in strategies:
            if not isinstance(strategy, TerminationStrategy):
                raise ConfigError(
                    "AnyOf takes termination strategies (objects with an async "
                    f"check(context) method); got {type(strategy).__name__}"
                )
        self.strategies = strategies

    async def check(self, context: TerminationContext) -> Ending | None:
        for strategy in self.strategies:
            ending = await strategy.check(context)
            if ending is not None:
                return ending
        return None
