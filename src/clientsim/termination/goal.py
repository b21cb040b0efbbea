"""Goal reached: an LLM judge decides whether the customer's intent is satisfied."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final

from clientsim.errors import ConfigError
from clientsim.models import ParticipantRole
from clientsim.termination._judge import LLMJudge
from clientsim.termination.base import TerminationContext


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["GoalReached"]

_SYSTEM: Final = """\
You judge a chat between a customer and a support agent. The customer's goal is:
{goal}
Has that goal been achieved in the conversation so far? Answer true only if it clearly \
has."""


class GoalReached(LLMJudge):
    """Ends the conversation when an LLM judge finds the customer's intent satisfied.

    Args:
        model: a LangChain chat model or a spec such as ``"openai:gpt-4o-mini"``.
        after: judge only after messages from this side (default: the customer, who
            says when their problem is solved); ``None`` judges after every message.
        every_n_messages: judge only when the message count is a multiple of this.
    """

    schema: ClassVar[dict[str, Any]] = {
        "title": "GoalJudgement",
        "description": "Whether the customer's goal has been achieved in the conversation.",
        "type": "object",
        "properties": {
            "goal_reached": {"type": "boolean"},
            "reason": {"type": "string", "description": "One sentence: why."},
        },
        "required": ["goal_reached", "reason"],
    }
    field: ClassVar[str] = "goal_reached"
    reason: ClassVar[str] = "goal_reached"
    finding: ClassVar[str] = "the judge found the goal met"

    def __init__(
        self,
        model: str | BaseChatModel,
        *,
        after: ParticipantRole | str | None = ParticipantRole.CUSTOMER,
        every_n_messages: int = 1,
    ) -> None:
        super().__init__(model, after=after, every_n_messages=every_n_messages)

    def question(self, context: TerminationContext) -> str:
        if context.intent is None:
            raise ConfigError(
                "the goal_reached termination strategy needs the run's intent; pass "
                "intent=Intent(ParticipantRole.CUSTOMER, ...) to the runner"
            )
        return _SYSTEM.format(goal=context.intent.description)
