"""What the LLM-judged termination strategies share: when to ask, how, and the cost."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, ClassVar

from clientsim._coerce import role_of
from clientsim._transcript import render
from clientsim._validators import check_int
from clientsim.models import Ending, ParticipantRole, TokenUsage
from clientsim.termination.base import TerminationContext


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.llm import StructuredCall


class LLMJudge(abc.ABC):
    """Asks a chat model a yes/no question about the conversation after some messages.

    Subclasses set the structured-output ``schema``, the boolean ``field`` that means
    "end now", the ending ``reason`` and ``finding`` (for its detail), and write the
    system prompt in :meth:`question`.
    """

    schema: ClassVar[dict[str, Any]]
    field: ClassVar[str]
    reason: ClassVar[str]
    finding: ClassVar[str]

    def __init__(
        self,
        model: str | BaseChatModel,
        *,
        after: ParticipantRole | str | None,
        every_n_messages: int = 1,
    ) -> None:
        check_int("every_n_messages", every_n_messages, low=1)
        self.model = model
        self.after = role_of(after) if after is not None else None
        self.every_n_messages = every_n_messages
        self.token_usage = TokenUsage()
        self._call: StructuredCall | None = None

    @abc.abstractmethod
    def question(self, context: TerminationContext) -> str:
        """The judge's system prompt for this conversation."""

    async def check(self, context: TerminationContext) -> Ending | None:
        conversation = context.conversation
        message = conversation.last_message
        if message is None or len(conversation.messages) % self.every_n_messages:
            return None
        if self.after is not None and message.sender is not self.after:
            return None
        system = self.question(context)
        from clientsim.llm import StructuredCall, Turn, resolve_model  # noqa: PLC0415

        if self._call is None:
            self._call = StructuredCall(resolve_model(self.model), self.schema)
        answer, usage = await self._call(
            [
                Turn("system", system),
                Turn("user", f"Transcript:\n{render(conversation)}"),
            ]
        )
        self.token_usage = self.token_usage + usage
        if answer.get(self.field) is not True:
            return None
        why = str(answer.get("reason", "")).strip()
        return Ending(
            reason=self.reason,
            detail=f"{self.finding}: {why}" if why else self.finding,
            message_count=len(conversation.messages),
        )
