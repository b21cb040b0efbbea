"""Outcome evaluation: deciding, centrally, how a conversation ended."""

from clientsim.evaluation.base import OutcomeEvaluator
from clientsim.evaluation.llm import NONE_YET, LLMOutcomeEvaluator
from clientsim.evaluation.rules import OutcomeRule, RuleBasedOutcomeEvaluator


__all__ = [
    "NONE_YET",
    "LLMOutcomeEvaluator",
    "OutcomeEvaluator",
    "OutcomeRule",
    "RuleBasedOutcomeEvaluator",
]
