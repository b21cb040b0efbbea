"""A participant played by a chat model: a simulated customer or a simulated agent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from clientsim._coerce import intent_of, persona_of, role_of
from clientsim._validators import check_text
from clientsim.errors import ConfigError
from clientsim.llm import ChatView, Turn, resolve_model
from clientsim.models import (
    DEFAULT_TIMEOUTS,
    Conversation,
    Intent,
    Message,
    ParticipantRole,
    Timeouts,
    TokenUsage,
)
from clientsim.models.persona import Persona
from clientsim.participants.base import Participant
from clientsim.participants.timing import Pacer, TypingModel, default_typing, landed


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["END_MARKER", "WAIT_MARKER", "LLMParticipant"]

END_MARKER: Final = "[END]"
"""Written by a model at the end of its last message: it is finished."""
WAIT_MARKER: Final = "[WAIT]"
"""Written by a model (with double-texting on) that has nothing to add for now."""

_CUSTOMER_PROMPT: Final = """\
You are the customer in a live chat with a company's support agent. Stay in character as \
a real person; never say that you are simulated or an AI, and never write the agent's part.
Who you are: {persona}
Your goal in this conversation: {intent}
Write only your own next chat message: short and natural, one message at a time.
When your goal is met, or you give up, say goodbye and end that message with {end}."""

_AGENT_PROMPT: Final = """\
You are the agent: a customer support agent chatting with a customer. Never write the \
customer's part.
Who you are: {persona}
Be helpful, brief and accurate; ask a question when you need details.{intent}
Write only your own next chat message.
When the conversation is over, end your last message with {end}."""

_DEFAULT_PERSONA: Final = {
    ParticipantRole.CUSTOMER: "an ordinary customer, polite and a little busy.",
    ParticipantRole.AGENT: "a friendly, experienced support agent.",
}


class LLMParticipant(Participant):
    """A customer or agent whose messages a chat model writes.

    The model sees the conversation from its own side: its own messages as the
    assistant's, the other side's as the user's. A customer is told its persona and
    intent; an agent its persona (and its own intent, if it has one). Neither ever sees
    the outcome definitions, and an agent never sees the customer's intent.

    The model ends the talk for its side by writing ``[END]`` at the end of a message
    (from then on the participant passes). While the last message is its own, the
    participant passes without a model call, unless ``double_texting`` is on; then the
    model may also answer ``[WAIT]`` to pass for now.

    Example:
        >>> customer = LLMParticipant(
        ...     ParticipantRole.CUSTOMER,
        ...     "offline",
        ...     persona="Sam, a busy nurse who hates long calls.",
        ...     intent=Intent(ParticipantRole.CUSTOMER, "Reset my password"),
        ... )

    Args:
        role: which side it plays.
        model: a LangChain chat model, or a spec such as ``"offline"`` or
            ``"openai:gpt-4o-mini"`` (resolved on first use, shared per spec).
        persona: who it is, in a sentence or two, or a structured
            :class:`~clientsim.models.persona.Persona` (the model is told its
            ``prompt()``).
        intent: what it wants; must be for its own role.
        instructions: extra guidance appended to the system prompt.
        system_prompt: replaces the built-in prompt entirely (persona, intent and
            instructions are then ignored).
        seed: seeds the simulated typing time.
        typing: the typing model; the role's default if ``None``.
        double_texting: let it send a message while the last message is its own.
        timeouts: ``timeouts.model_call`` bounds each call of the model (past it,
            a transient :class:`~clientsim.errors.ModelError`); see
            :class:`~clientsim.models.Timeouts`.
    """

    def __init__(
        self,
        role: ParticipantRole,
        model: str | BaseChatModel,
        *,
        persona: str | Persona | None = None,
        intent: Intent | None = None,
        instructions: str | None = None,
        system_prompt: str | None = None,
        seed: int = 0,
        typing: TypingModel | None = None,
        double_texting: bool = False,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        self.role = role_of(role)
        if not isinstance(timeouts, Timeouts):
            raise ConfigError(f"timeouts must be a Timeouts; got {timeouts!r}")
        self.timeouts = timeouts
        if intent is not None and intent.role is not self.role:
            raise ConfigError(
                f"the {self.role.value} participant may only be given a "
                f"{self.role.value} intent; got the {intent.role.value}'s intent (the agent "
                "must never see the customer's goal, nor the customer the agent's)"
            )
        for name, text in (
            ("persona", persona if not isinstance(persona, Persona) else None),
            ("instructions", instructions),
            ("system_prompt", system_prompt),
        ):
            check_text(name, text, optional=True)
        self.model = model
        self.persona = persona
        self.intent = intent
        self.double_texting = double_texting
        self.system_prompt = system_prompt or self._build_prompt(instructions)
        self._pacer = Pacer(self.role, typing or default_typing(self.role), seed)
        self._usage = TokenUsage()
        self._finished = False
        self._final: Message | None = None
        self._final_at = 0
        self._model: BaseChatModel | None = None
        self._view = ChatView(self.system_prompt, self.role)

    @classmethod
    def from_config(
        cls,
        *,
        role: str | ParticipantRole,
        model: str | BaseChatModel = "offline",
        persona: str | Mapping[str, object] | Persona | None = None,
        intent: str | Intent | None = None,
        instructions: str | None = None,
        system_prompt: str | None = None,
        seed: int = 0,
        double_texting: bool = False,
    ) -> LLMParticipant:
        """Build from config values; ``intent`` may be a description string and
        ``persona`` a mapping of :class:`~clientsim.models.persona.Persona` fields."""
        parsed = role_of(role)
        return cls(
            parsed,
            model,
            persona=persona
            if persona is None or isinstance(persona, str)
            else persona_of(persona),
            intent=intent_of(intent, parsed),
            instructions=instructions,
            system_prompt=system_prompt,
            seed=seed,
            double_texting=double_texting,
        )

    def _build_prompt(self, instructions: str | None) -> str:
        persona = (
            self.persona.prompt()
            if isinstance(self.persona, Persona)
            else self.persona or _DEFAULT_PERSONA[self.role]
        )
        if self.role is ParticipantRole.CUSTOMER:
            intent = (
                self.intent.description if self.intent else "get help with a problem"
            )
            prompt = _CUSTOMER_PROMPT.format(
                persona=persona, intent=intent, end=END_MARKER
            )
        else:
            intent = f"\nYour own aim: {self.intent.description}" if self.intent else ""
            prompt = _AGENT_PROMPT.format(
                persona=persona, intent=intent, end=END_MARKER
            )
        if self.double_texting:
            prompt += (
                f"\nYou may send several messages in a row. If you have nothing to add "
                f"before the other side answers, reply with just {WAIT_MARKER}."
            )
        if instructions:
            prompt += "\n" + instructions
        return prompt

    @property
    def token_usage(self) -> TokenUsage:
        return self._usage

    @property
    def finished(self) -> bool:
        """``True`` once the model has ended its side with ``[END]``."""
        return self._finished

    def turns(self, conversation: Conversation) -> list[Turn]:
        """The messages the model is shown for ``conversation``, system prompt first."""
        own = self.role
        turns = [Turn("system", self.system_prompt)]
        turns.extend(
            Turn("assistant" if message.sender is own else "user", message.content)
            for message in conversation.messages
        )
        return turns

    async def get_next_message(self, conversation: Conversation) -> Message | None:
        last = conversation.last_message
        if self._final is not None:
            # Finished once the closing message is in the conversation; if the runner
            # discarded it (the other side spoke first), think again.
            if landed(self._final, conversation, self._final_at):
                self._finished = True
            self._final = None
        if self._finished:
            return None
        if last is not None and last.sender is self.role and not self.double_texting:
            return None
        model = self._model
        if model is None:  # resolved on first use, on the loop that uses it
            model = self._model = resolve_model(self.model)
        completion = await self._view.complete(
            model, conversation, timeout=self.timeouts.model_call
        )
        self._usage = self._usage + completion.usage
        text = completion.text.strip()
        ending = END_MARKER in text
        text = text.replace(END_MARKER, "").strip()
        if text == WAIT_MARKER or (not text and not ending):
            return None
        if not text:
            self._finished = True
            return None
        message = self._pacer.stamp(conversation, text)
        if ending:
            self._final = message
            self._final_at = len(conversation.messages)
        return message
