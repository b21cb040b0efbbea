"""Termination: when a conversation ends, and the reason recorded for it."""

from clientsim.termination.base import TerminationContext, TerminationStrategy
from clientsim.termination.goal import GoalReached
from clientsim.termination.judge import ConversationComplete
from clientsim.termination.strategies import (
    DEFAULT_CLOSING_PHRASES,
    AnyOf,
    ClosingPhrases,
    Deadline,
    MaxMessages,
    OutcomeReached,
)


__all__ = [
    "DEFAULT_CLOSING_PHRASES",
    "AnyOf",
    "ClosingPhrases",
    "ConversationComplete",
    "Deadline",
    "GoalReached",
    "MaxMessages",
    "OutcomeReached",
    "TerminationContext",
    "TerminationStrategy",
]
