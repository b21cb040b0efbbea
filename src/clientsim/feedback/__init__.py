"""Feedback strategies (seed 000): how a client judges a deliverable.

``binary``, ``scored``, ``criteria_check`` and ``adversarial`` judge offline with a
deterministic, seeded heuristic by default, or with a chat model given as ``model=``.
"""

from clientsim.feedback.base import FeedbackStrategy
from clientsim.feedback.strategies import (
    BUILTINS,
    DEFAULT_RUBRIC,
    AdversarialFeedback,
    BinaryFeedback,
    CriteriaCheckFeedback,
    ScoredFeedback,
)


__all__ = [
    "BUILTINS",
    "DEFAULT_RUBRIC",
    "AdversarialFeedback",
    "BinaryFeedback",
    "CriteriaCheckFeedback",
    "FeedbackStrategy",
    "ScoredFeedback",
]
