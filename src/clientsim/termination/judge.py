"""LLM judgement: a judge decides whether the conversation is over."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from clientsim._coerce import role_of
from clientsim._transcript import render
from clientsim.errors import ConfigError
from clientsim.models import Ending, ParticipantRole, TokenUsage
from clientsim.termination.base import TerminationContext


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.llm import StructuredCall

__all__ = ["ConversationComplete"]

_SCHEMA: Final[dict[str, Any]] = {
    "title": "CompletenessJudgement",
    "description": "Whether the conversation has come to a natural end.",
    "type": "object",
    "properties": {
        "conversation_complete": {"type": "boolean"},
        "reason": {"type": "string", "description": "One sentence: why."},
    },
    "required": ["conversation_complete", "reason"],
}

_SYSTEM: Final = """\
You judge a chat between a customer and a support agent. Has the conversation come to a \
natural end: the customer's matter is settled, handed on, or abandoned, and both sides \
have said what they had to say? Answer true only if nothing more is expected."""


class ConversationComplete:
    """Ends the conversation when an LLM judge finds it has come to a natural end.

    Useful with real agents, whose last message may not contain a closing phrase.

    Args:
        model: a LangChain chat model or a spec such as ``"openai:gpt-4o-mini"``.
        after: judge only after messages from this side (default: the agent);
            ``None`` judges after every message.
        every_n_messages: judge only when the message count is a multiple of this.
    """

    def __init__(
        self,
        model: str | BaseChatModel,
        *,
        after: ParticipantRole | str | None = ParticipantRole.AGENT,
        every_n_messages: int = 1,
    ) -> None:
        if not isinstance(every_n_messages, int) or every_n_messages < 1:
            raise ConfigError(
                f"every_n_messages must be an int >= 1; got {every_n_messages!r}"
            )
        self.model = model
        self.after = role_of(after) if after is not None else None
        self.every_n_messages = every_n_messages
        self.token_usage = TokenUsage()
        self._call: StructuredCall | None = None

    async def check(self, context: TerminationContext) -> Ending | None:
        conversation = context.conversation
        message = conversation.last_message
        if message is None or len(conversation.messages) % self.every_n_messages:
            return None
        if self.after is not None and message.sender is not self.after:
            return None
        from clientsim.llm import StructuredCall, Turn, resolve_model  # noqa: PLC0415

        if self._call is None:
            self._call = StructuredCall(resolve_model(self.model), _SCHEMA)
        answer, usage = await self._call(
            [
                Turn("system", _SYSTEM),
                Turn("user", f"Transcript:\n{render(conversation)}"),
            ]
        )
        self.token_usage = self.token_usage + usage
        if answer.get("conversation_complete") is not True:
            return None
        reason = str(answer.get("reason", "")).strip()
        return Ending(
            reason="conversation_complete",
            detail=f"the judge found the conversation over: {reason}"
            if reason
            else "the judge found the conversation over",
            message_count=len(conversation.messages),
        )
