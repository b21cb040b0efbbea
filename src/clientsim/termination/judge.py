"""LLM judgement: a judge decides whether the conversation is over."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final

from clientsim.models import ParticipantRole
from clientsim.termination._judge import LLMJudge
from clientsim.termination.base import TerminationContext


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["ConversationComplete"]

_SYSTEM: Final = """\
You judge a chat between a customer and a support agent. Has the conversation come to a \
natural end: the customer's matter is settled, handed on, or abandoned, and both sides \
have said what they had to say? Answer true only if nothing more is expected."""


class ConversationComplete(LLMJudge):
    """Ends the conversation when an LLM judge finds it has come to a natural end.

    Useful with real agents, whose last message may not contain a closing phrase.

    Args:
        model: a LangChain chat model or a spec such as ``"openai:gpt-4o-mini"``.
        after: judge only after messages from this side (default: the agent);
            ``None`` judges after every message.
        every_n_messages: judge only when the message count is a multiple of this.
    """

    schema: ClassVar[dict[str, Any]] = {
        "title": "CompletenessJudgement",
        "description": "Whether the conversation has come to a natural end.",
        "type": "object",
        "properties": {
            "conversation_complete": {"type": "boolean"},
            "reason": {"type": "string", "description": "One sentence: why."},
        },
        "required": ["conversation_complete", "reason"],
    }
    field: ClassVar[str] = "conversation_complete"
    reason: ClassVar[str] = "conversation_complete"
    finding: ClassVar[str] = "the judge found the conversation over"

    def __init__(
        self,
        model: str | BaseChatModel,
        *,
        after: ParticipantRole | str | None = ParticipantRole.AGENT,
        every_n_messages: int = 1,
    ) -> None:
        super().__init__(model, after=after, every_n_messages=every_n_messages)

    def question(self, context: TerminationContext) -> str:  # noqa: ARG002 - same question always
        return _SYSTEM
