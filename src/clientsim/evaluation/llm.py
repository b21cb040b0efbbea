"""LLM-judged outcomes: structured output constrained to the run's outcome names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from clientsim._transcript import render
from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.models import (
    DEFAULT_TIMEOUTS,
    Conversation,
    Outcome,
    Outcomes,
    Timeouts,
    TokenUsage,
)


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.llm import StructuredCall

__all__ = ["NONE_YET", "LLMOutcomeEvaluator"]

NONE_YET: Final = "none yet"
"""The judge's answer when no outcome is reached; it cannot clash with an outcome name
(those are slugs, without spaces)."""

_SYSTEM: Final = """\
You judge a chat between a customer and a support agent. Decide which of these outcomes \
the conversation has clearly reached so far, or "{none}" if none is reached yet:
{outcomes}
Judge only from what was said.{instructions}"""


class LLMOutcomeEvaluator:
    """Asks a chat model which outcome a conversation has reached.

    The model answers with structured output whose ``outcome`` field is constrained to
    the run's outcome names or ``"none yet"``.

    Args:
        model: a LangChain chat model or a spec such as ``"openai:gpt-4o-mini"``.
        instructions: extra guidance for the judge.
        every_n_messages: judge only when the message count is a multiple of this
            (saves calls on long conversations).
        window: show the judge only the last ``window`` messages (all if ``None``).
        timeouts: ``timeouts.model_call`` bounds each call of the judge's model.
    """

    def __init__(
        self,
        model: str | BaseChatModel,
        *,
        instructions: str | None = None,
        every_n_messages: int = 1,
        window: int | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        if not isinstance(timeouts, Timeouts):
            raise ConfigError(f"timeouts must be a Timeouts; got {timeouts!r}")
        self.timeouts = timeouts
        if not isinstance(every_n_messages, int) or every_n_messages < 1:
            raise ConfigError(
                f"every_n_messages must be an int >= 1; got {every_n_messages!r}"
            )
        if window is not None and (not isinstance(window, int) or window < 1):
            raise ConfigError(f"window must be an int >= 1 or None; got {window!r}")
        self.model = model
        self.instructions = instructions
        self.every_n_messages = every_n_messages
        self.window = window
        self.token_usage = TokenUsage()
        self._calls: dict[int, tuple[Outcomes, StructuredCall]] = {}

    @classmethod
    def from_config(
        cls,
        *,
        model: str | BaseChatModel = "offline",
        instructions: str | None = None,
        every_n_messages: int = 1,
        window: int | None = None,
    ) -> LLMOutcomeEvaluator:
        """Build from config values."""
        return cls(
            model,
            instructions=instructions,
            every_n_messages=every_n_messages,
            window=window,
        )

    def _call_for(self, outcomes: Outcomes) -> StructuredCall:
        cached = self._calls.get(id(outcomes))
        if cached is not None and cached[0] is outcomes:
            return cached[1]
        from clientsim.llm import StructuredCall, resolve_model  # noqa: PLC0415

        schema: dict[str, Any] = {
            "title": "OutcomeJudgement",
            "description": "Which outcome the conversation has reached so far.",
            "type": "object",
            "properties": {
                "outcome": {"type": "string", "enum": [*outcomes.names, NONE_YET]},
                "reason": {"type": "string", "description": "One sentence: why."},
            },
            "required": ["outcome", "reason"],
        }
        call = StructuredCall(
            resolve_model(self.model), schema, timeout=self.timeouts.model_call
        )
        self._calls[id(outcomes)] = (outcomes, call)
        return call

    async def evaluate(
        self, conversation: Conversation, outcomes: Outcomes
    ) -> Outcome | None:
        if not outcomes or len(conversation.messages) % self.every_n_messages:
            return None
        from clientsim.llm import Turn  # noqa: PLC0415

        call = self._call_for(outcomes)
        listing = "\n".join(f"- {o.name}: {o.description}" for o in outcomes)
        extra = f"\n{self.instructions}" if self.instructions else ""
        system = _SYSTEM.format(none=NONE_YET, outcomes=listing, instructions=extra)
        transcript = render(conversation, last=self.window)
        answer, usage = await call(
            [Turn("system", system), Turn("user", f"Transcript:\n{transcript}")]
        )
        self.token_usage = self.token_usage + usage
        name = answer.get("outcome")
        if name == NONE_YET:
            return None
        outcome = outcomes.get_outcome_by_name(str(name))
        if outcome is None:
            allowed = ", ".join(repr(n) for n in (*outcomes.names, NONE_YET))
            raise InvalidModelOutputError(
                f"the outcome judge answered {name!r}, which is not allowed; allowed: {allowed}"
            )
        return outcome
