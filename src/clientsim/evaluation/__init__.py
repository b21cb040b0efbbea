"""Outcome evaluation: deciding, centrally, how a conversation ended."""

from clientsim.evaluation.base import OutcomeEvaluator
from clientsim.evaluation.criteria import (
    CriteriaJudge,
    CriteriaOutcomeEvaluator,
    CriteriaVerdict,
    CriterionVerdict,
)
from clientsim.evaluation.llm import NONE_YET, LLMOutcomeEvaluator
from clientsim.evaluation.pairwise import (
    PairwiseCriterionVerdict,
    PairwiseJudge,
    PairwiseVerdict,
)
from clientsim.evaluation.rules import OutcomeRule, RuleBasedOutcomeEvaluator


__all__ = [
    "NONE_YET",
    "CriteriaJudge",
    "CriteriaOutcomeEvaluator",
    "CriteriaVerdict",
    "CriterionVerdict",
    "LLMOutcomeEvaluator",
    "OutcomeEvaluator",
    "OutcomeRule",
    "PairwiseCriterionVerdict",
    "PairwiseJudge",
    "PairwiseVerdict",
    "RuleBasedOutcomeEvaluator",
]
