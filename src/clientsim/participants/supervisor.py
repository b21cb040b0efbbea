"""Multi-turn conversations driven by a supervisor (seed 003's ``multi_turn`` mode).

A :class:`Supervisor` reads the transcript after each agent reply and decides whether
the simulated customer goes on (and what they say next) or stops (and why). Two
supervisors ship: :class:`LLMSupervisor` (a chat model with structured output) and
:class:`MockSupervisor` (scripted playback for regression runs).

:class:`~clientsim.participants.supervised.SupervisorParticipant` plays the customer
with a supervisor's decisions, and
:class:`~clientsim.participants.supervised.SupervisorTermination` ends the conversation
when the supervisor (or the ``max_turns`` cap) says so::

    customer = SupervisorParticipant(MockSupervisor(["Do you offer refunds?"]))
    runner = FullSimulationRunner(
        customer=customer,
        agent=agent,
        initial_message=MessageDraft("What are your hours?", ParticipantRole.CUSTOMER),
        intent=None,
        outcomes=outcomes,
        termination=SupervisorTermination(customer),
    )

A turn is one customer message plus the agent's reply; the runner's first message is
turn 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Literal,
    Protocol,
    runtime_checkable,
)

import attrs

from clientsim.errors import ConfigError, InvalidModelOutputError
from clientsim.models import (
    DEFAULT_TIMEOUTS,
    Conversation,
    Intent,
    ParticipantRole,
    Timeouts,
    TokenUsage,
)


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from clientsim.llm import StructuredCall, Turn

__all__ = [
    "DEFAULT_SUPERVISOR_PROMPT",
    "LLMSupervisor",
    "MockSupervisor",
    "Supervisor",
    "SupervisorAction",
    "SupervisorDecision",
]

SupervisorAction = Literal["continue", "terminate"]
"""What a supervisor decides: the customer goes on, or the conversation ends."""

_ACTIONS: Final = ("continue", "terminate")
_CUSTOMER: Final = ParticipantRole.CUSTOMER
_NO_USAGE: Final = TokenUsage()

DEFAULT_SUPERVISOR_PROMPT: Final = """\
You supervise an AI assistant supporting customers.
Review the entire transcript and decide whether to continue.
When continuing, craft the next user message consistent with the persona.
When terminating, explain the reason and provide any closing notes."""
"""The seed's built-in supervisor prompt (persona, goal and answer format are added)."""

_CONTEXT: Final = """
You write for the customer: in the chat that follows, the customer's messages are \
yours (the assistant's) and the support agent's are the user's. Never write the \
agent's part, and never say that you are simulated or an AI.
Who the customer is: {persona}
Your goal as this customer: {intent}
Answer with action "continue", a one-sentence reason and the customer's next message \
in next_message (closing empty); or with action "terminate", the reason (e.g. the goal \
is met, the customer gives up) and in closing an optional last message from the \
customer (empty for none; next_message empty)."""

_DEFAULT_PERSONA: Final = "an ordinary customer, polite and a little busy."
_DEFAULT_GOAL: Final = "get help with a problem"
_OPENING: Final = "(The chat has not started yet: write the customer's first message.)"

_SCHEMA: Final[Mapping[str, Any]] = {
    "title": "SupervisorDecision",
    "description": (
        "Whether the simulated customer continues the conversation, and what the "
        "customer says next or last."
    ),
    "type": "object",
    "properties": {
        "action": {
            "type": "string",
            "enum": list(_ACTIONS),
            "description": "continue: the customer writes again; terminate: the "
            "conversation is over.",
        },
        "reason": {"type": "string", "description": "One sentence: why."},
        "next_message": {
            "type": "string",
            "description": "The customer's next message when continuing; empty when "
            "terminating.",
        },
        "closing": {
            "type": "string",
            "description": "An optional last message from the customer when "
            "terminating; empty for none, and empty when continuing.",
        },
    },
    "required": ["action", "reason", "next_message", "closing"],
}


# ----- the decision ------------------------------------------------------------------


def _action(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in _ACTIONS:
        raise ConfigError(
            f"{attribute.name} must be 'continue' or 'terminate'; got {value!r}"
        )


def _text(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise ConfigError(f"{attribute.name} must be a string; got {value!r}")


def _optional_text(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{attribute.name} must be a string or None; got {value!r}")


@attrs.frozen(kw_only=True)
class SupervisorDecision:
    """What a supervisor decided after reading the transcript.

    Example:
        >>> from clientsim.participants.supervisor import SupervisorDecision
        >>> SupervisorDecision(action="continue", reason="asks about refunds",
        ...                    next_message="Do you offer refunds?")
        SupervisorDecision(action='continue', reason='asks about refunds', \
next_message='Do you offer refunds?', closing=None)
        >>> SupervisorDecision.terminate("resolved", closing="Thanks, bye!")
        SupervisorDecision(action='terminate', reason='resolved', next_message=None, \
closing='Thanks, bye!')

    Attributes:
        action: ``"continue"`` (the customer writes again) or ``"terminate"``.
        reason: why, in a sentence.
        next_message: the customer's next message; required (non-blank) when
            continuing.
        closing: a last customer message when terminating, or ``None``.

    Raises:
        ConfigError: an unknown action, a non-string field, or ``continue`` without
            a next message.
    """

    action: SupervisorAction = attrs.field(validator=_action)
    reason: str = attrs.field(default="", validator=_text)
    next_message: str | None = attrs.field(default=None, validator=_optional_text)
    closing: str | None = attrs.field(default=None, validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        if self.action == "continue" and not (self.next_message or "").strip():
            raise ConfigError(
                "next_message must be a non-empty string when action is 'continue' (it "
                f"is the customer's next message); got {self.next_message!r}"
            )

    @classmethod
    def proceed(cls, next_message: str, reason: str = "") -> SupervisorDecision:
        """A ``continue`` decision: the customer says ``next_message`` next."""
        return cls(action="continue", reason=reason, next_message=next_message)

    @classmethod
    def terminate(cls, reason: str, closing: str | None = None) -> SupervisorDecision:
        """A ``terminate`` decision, with an optional last customer message."""
        return cls(action="terminate", reason=reason, closing=closing)


# ----- supervisors -------------------------------------------------------------------


@runtime_checkable
class Supervisor(Protocol):
    """Decides, after each agent reply, whether the simulated customer goes on.

    Implement :meth:`decide` and keep a ``token_usage`` attribute (zero if no model
    is used). One supervisor serves one conversation at a time.
    """

    token_usage: TokenUsage

    async def decide(self, conversation: Conversation) -> SupervisorDecision:
        """Read ``conversation`` and decide what the customer does next.

        Raises:
            ModelError: the model behind the supervisor failed.
        """
        ...


class LLMSupervisor:
    """A supervisor played by a chat model, answering in a structured shape.

    The model sees a system prompt (``system_prompt`` or the seed's built-in one,
    followed by who the customer is, the customer's goal and the answer format) and
    the chat from the customer's side: the customer's messages as its own (the
    assistant's), the agent's as the user's. It answers with ``action``, ``reason``,
    ``next_message`` and ``closing`` through structured output (tool calling).

    ``temperature`` is applied to models that have a ``temperature`` field (e.g.
    ``ChatOpenAI``) on a copy of the model; models without one (such as the offline
    model) ignore it.

    Example:
        >>> import anyio
        >>> from datetime import UTC, datetime
        >>> from clientsim import Conversation, Message, ParticipantRole
        >>> from clientsim.participants.supervisor import LLMSupervisor
        >>> supervisor = LLMSupervisor(
        ...     "offline",  # or a real model, e.g. "openai:gpt-4o-mini"
        ...     persona="Sam, a busy nurse who hates long calls.",
        ...     intent="Get a refund for order 48213",
        ...     temperature=0.3,
        ... )
        >>> at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        >>> conversation = Conversation(messages=(
        ...     Message("I want a refund for order 48213.", at, ParticipantRole.CUSTOMER),
        ...     Message("Sure, what is wrong with the order?", at, ParticipantRole.AGENT),
        ... ))
        >>> decision = anyio.run(lambda: supervisor.decide(conversation))
        >>> decision.action, decision.next_message
        ('continue', 'I need to get a refund for order 48213. Can you help me with that?')

    Args:
        model: a LangChain chat model, or a spec such as ``"offline"`` or
            ``"openai:gpt-4o-mini"`` (resolved on first use).
        system_prompt: replaces the seed's built-in instructions; the persona, the
            goal and the answer format are still added after it, since they change
            per conversation.
        persona: who the customer is, in a sentence or two.
        intent: the customer's goal: a description, or a customer
            :class:`~clientsim.models.Intent`.
        temperature: sampling temperature (>= 0) for models that support one.
        timeouts: ``timeouts.model_call`` bounds each decision's model call.

    Raises:
        ConfigError: a bad argument (named in the message).
    """

    def __init__(
        self,
        model: str | BaseChatModel,
        *,
        system_prompt: str | None = None,
        persona: str = "",
        intent: str | Intent | None = None,
        temperature: float | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        if not isinstance(timeouts, Timeouts):
            raise ConfigError(f"timeouts must be a Timeouts; got {timeouts!r}")
        self.timeouts = timeouts
        if not isinstance(model, str) and not callable(getattr(model, "ainvoke", None)):
            raise ConfigError(
                "model must be a model spec string (e.g. 'offline', "
                f"'openai:gpt-4o-mini') or a LangChain chat model; got {model!r}"
            )
        if system_prompt is not None and not isinstance(system_prompt, str):
            raise ConfigError(
                f"system_prompt must be a string or None; got {system_prompt!r}"
            )
        if not isinstance(persona, str):
            raise ConfigError(f"persona must be a string; got {persona!r}")
        if temperature is not None and (
            isinstance(temperature, bool)
            or not isinstance(temperature, int | float)
            or temperature < 0
        ):
            raise ConfigError(
                f"temperature must be None or a number >= 0; got {temperature!r}"
            )
        self.model = model
        self.persona = persona
        self.intent = _goal_of(intent)
        self.temperature = temperature
        self.system_prompt = (system_prompt or DEFAULT_SUPERVISOR_PROMPT).rstrip() + (
            _CONTEXT.format(
                persona=persona.strip() or _DEFAULT_PERSONA,
                intent=self.intent or _DEFAULT_GOAL,
            )
        )
        self.token_usage = TokenUsage()
        self._call: StructuredCall | None = None

    def turns(self, conversation: Conversation) -> list[Turn]:
        """What the model is shown for ``conversation``, system prompt first."""
        from clientsim.llm import Turn  # noqa: PLC0415

        turns = [Turn("system", self.system_prompt)]
        turns.extend(
            Turn("assistant" if m.sender is _CUSTOMER else "user", m.content)
            for m in conversation.messages
        )
        if len(turns) == 1:
            turns.append(Turn("user", _OPENING))
        return turns

    async def decide(self, conversation: Conversation) -> SupervisorDecision:
        """Ask the model for a decision on ``conversation``.

        Raises:
            ModelError: the model failed, or does not support structured output.
            InvalidModelOutputError: the answer is malformed (the message names the
                field).
        """
        from clientsim.llm import StructuredCall, resolve_model  # noqa: PLC0415

        call = self._call
        if call is None:  # resolved on first use, on the loop that uses it
            model = _with_temperature(resolve_model(self.model), self.temperature)
            call = self._call = StructuredCall(
                model, _SCHEMA, timeout=self.timeouts.model_call
            )
        answer, usage = await call(self.turns(conversation))
        self.token_usage = self.token_usage + usage
        return _parse(answer, call.model)


def _goal_of(intent: object) -> str | None:
    if intent is None:
        return None
    if isinstance(intent, Intent):
        if intent.role is not _CUSTOMER:
            raise ConfigError(
                "intent must be the customer's (the supervisor writes for the "
                f"customer); got the {intent.role.value}'s intent"
            )
        return intent.description
    if isinstance(intent, str):
        return intent.strip() or None
    raise ConfigError(
        f"intent must be a description string, a customer Intent or None; got {intent!r}"
    )


def _with_temperature(model: BaseChatModel, temperature: float | None) -> BaseChatModel:
    """A copy of ``model`` at ``temperature`` if it has such a field; else ``model``."""
    if temperature is None or "temperature" not in type(model).model_fields:
        return model
    return model.model_copy(update={"temperature": temperature})


def _parse(answer: Mapping[str, Any], model: BaseChatModel) -> SupervisorDecision:
    from clientsim.llm import model_name  # noqa: PLC0415

    name = model_name(model)

    def bad(field: str, problem: str) -> InvalidModelOutputError:
        return InvalidModelOutputError(
            f"supervisor model {name!r} gave an invalid {field!r} field: {problem}"
        )

    action = answer.get("action")
    if action not in _ACTIONS:
        raise bad("action", f"got {action!r}; it must be 'continue' or 'terminate'")
    fields: dict[str, str | None] = {}
    for field in ("reason", "next_message", "closing"):
        value = answer.get(field)
        if value is not None and not isinstance(value, str):
            raise bad(field, f"got {value!r}; it must be a string")
        fields[field] = (value or "").strip() or None
    if action == "continue":
        if fields["next_message"] is None:
            raise bad(
                "next_message",
                f"it is {answer.get('next_message')!r}, but action 'continue' needs "
                "the customer's next message",
            )
        return SupervisorDecision.proceed(
            fields["next_message"], fields["reason"] or ""
        )
    return SupervisorDecision.terminate(fields["reason"] or "", fields["closing"])


_MOCK_OPTIONS: Final = (
    "scripted_questions",
    "mock_decision",
    "mock_reason",
    "mock_closing",
)


class MockSupervisor:
    """Scripted playback: the seed's ``mock`` supervisor provider.

    Each :meth:`decide` plays the next scripted question as a ``continue`` decision.
    Once the script is exhausted it answers ``mock_decision``:

    * ``"terminate"`` (the default): terminate with ``mock_reason`` and the closing
      message ``mock_closing`` (``None`` or blank for no closing message);
    * ``"continue"``: keep the conversation going by sending ``mock_closing`` again
      after every agent reply (reason ``mock_reason``), so another limit
      (``max_turns``, the runner's ``max_messages``) ends it. This needs a
      ``mock_closing``.

    Deterministic and free (its ``token_usage`` stays zero). It keeps its place in
    the script, so use one per conversation.

    Example:
        >>> supervisor = MockSupervisor(
        ...     ["What are your hours?", "Do you offer refunds?"],
        ...     mock_closing="Thanks for the help. I have no further questions.",
        ... )

    Args:
        scripted_questions: the customer's follow-up messages, in order.
        mock_decision: what to do when the script is exhausted.
        mock_reason: the reason given then.
        mock_closing: the customer's last message then.

    Raises:
        ConfigError: a bad argument (named in the message).
    """

    def __init__(
        self,
        scripted_questions: Sequence[str] = (),
        *,
        mock_decision: SupervisorAction = "terminate",
        mock_reason: str = "script_complete",
        mock_closing: str | None = "Thanks for the help. I have no further questions.",
    ) -> None:
        if isinstance(scripted_questions, str) or not isinstance(
            scripted_questions, Sequence
        ):
            raise ConfigError(
                "scripted_questions must be a list of strings; got "
                f"{scripted_questions!r}"
            )
        for index, question in enumerate(scripted_questions):
            if not isinstance(question, str) or not question.strip():
                raise ConfigError(
                    f"scripted_questions[{index}] must be a non-empty string; got "
                    f"{question!r}"
                )
        if mock_decision not in _ACTIONS:
            raise ConfigError(
                f"mock_decision must be 'terminate' or 'continue'; got {mock_decision!r}"
            )
        if not isinstance(mock_reason, str):
            raise ConfigError(f"mock_reason must be a string; got {mock_reason!r}")
        if mock_closing is not None and not isinstance(mock_closing, str):
            raise ConfigError(
                f"mock_closing must be a string or None; got {mock_closing!r}"
            )
        closing = mock_closing.strip() if mock_closing is not None else ""
        if mock_decision == "continue" and not closing:
            raise ConfigError(
                "mock_decision 'continue' needs a mock_closing: the message the customer "
                "keeps sending once the scripted questions run out"
            )
        self.scripted_questions: tuple[str, ...] = tuple(scripted_questions)
        self.mock_decision: SupervisorAction = mock_decision
        self.mock_reason = mock_reason
        self.mock_closing = closing or None
        self.token_usage = TokenUsage()
        self._next = 0

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> MockSupervisor:
        """Build from the seed's ``supervisor.metadata`` mapping.

        Example:
            >>> from clientsim.participants.supervisor import MockSupervisor
            >>> supervisor = MockSupervisor.from_metadata(
            ...     {"scripted_questions": ["Hi?"], "mock_reason": "done"}
            ... )
            >>> supervisor.scripted_questions, supervisor.mock_reason
            (('Hi?',), 'done')

        Raises:
            ConfigError: an unknown key (the message lists the known ones) or a bad
                value.
        """
        options = dict(metadata or {})
        unknown = sorted(set(options) - set(_MOCK_OPTIONS))
        if unknown:
            raise ConfigError(
                f"unknown mock supervisor option(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(map(repr, _MOCK_OPTIONS))}"
            )
        questions = options.pop("scripted_questions", None) or ()
        return cls(questions, **options)

    @property
    def remaining(self) -> int:
        """How many scripted questions are still to be played."""
        return len(self.scripted_questions) - self._next

    async def decide(self, conversation: Conversation) -> SupervisorDecision:  # noqa: ARG002
        """The next scripted question, or the end-of-script decision."""
        total = len(self.scripted_questions)
        if self._next < total:
            question = self.scripted_questions[self._next]
            self._next += 1
            return SupervisorDecision.proceed(
                question, f"scripted question {self._next} of {total}"
            )
        if self.mock_decision == "continue":
            assert self.mock_closing is not None  # noqa: S101 - checked in __init__
            return SupervisorDecision.proceed(self.mock_closing, self.mock_reason)
        return SupervisorDecision.terminate(self.mock_reason, self.mock_closing)
