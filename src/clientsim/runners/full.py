"""Full simulation: a simulated customer and a simulated agent, in simulated time."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from clientsim import events
from clientsim.errors import ConfigError, ParticipantError, SimulationError
from clientsim.evaluation.base import OutcomeEvaluator
from clientsim.models import (
    Conversation,
    ConversationResult,
    Ending,
    ErrorRecord,
    Intent,
    Message,
    MessageDraft,
    Outcomes,
    ParticipantRole,
    TokenUsage,
    TokenUsageReport,
)
from clientsim.participants.base import Participant
from clientsim.runners.base import Runner
from clientsim.termination.base import TerminationContext, TerminationStrategy
from clientsim.termination.strategies import AnyOf


__all__ = ["FullSimulationRunner", "ProgressCallback"]

ProgressCallback = Callable[[Conversation, dict[str, Any]], None]
"""``callback(conversation, progress)``, called after every message."""

_NO_USAGE = TokenUsage()
_CUSTOMER = ParticipantRole.CUSTOMER
_AGENT = ParticipantRole.AGENT


def _participant(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not callable(getattr(value, "get_next_message", None)):
        raise ConfigError(
            f"{attribute.name} must be a Participant (an object with an async "
            f"get_next_message(conversation) method); got {type(value).__name__}"
        )


def _max_messages(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{attribute.name} must be an int >= 1; got {value!r}")


def _termination(value: object) -> TerminationStrategy | None:
    if value is None:
        return None
    if isinstance(value, Sequence) and not isinstance(value, str):
        return AnyOf(*value) if value else None
    if not isinstance(value, TerminationStrategy):
        raise ConfigError(
            "termination must be a termination strategy or a list of them (objects "
            f"with an async check(context) method); got {type(value).__name__}"
        )
    return value


class _Failed(Exception):  # noqa: N818 - internal control flow, never escapes run()
    def __init__(self, source: str, error: Exception) -> None:
        super().__init__(source)
        self.source = source
        self.error = error


@attrs.define
class FullSimulationRunner(Runner):
    """Runs a conversation between a simulated customer and a simulated agent.

    At each step the runner asks both participants for their next message (the side
    that did not send the last message first); each proposes a timestamped message or
    passes with ``None``. The earliest proposal is appended (a tie goes to the side that
    did not send the last message), so plain alternation is the common case and a
    double message is possible when a side's timing says so. Both passing in a row ends
    the conversation. Time is simulated: nobody sleeps.

    After every message the outcome evaluator (if any) is asked for an outcome, the
    progress callback is called, and the termination strategies are checked (once the
    conversation has ``min_messages`` messages; ``max_messages`` always applies).

    Single-use: a second :meth:`run` raises :class:`~clientsim.errors.SimulationError`.

    Example:
        >>> runner = FullSimulationRunner(
        ...     customer=customer,
        ...     agent=agent,
        ...     initial_message=MessageDraft("Hello, I need help", ParticipantRole.CUSTOMER),
        ...     intent=intent,
        ...     outcomes=outcomes,
        ...     max_messages=50,
        ... )
        >>> result = await runner.run()  # doctest: +SKIP

    Args:
        customer: the simulated customer.
        agent: the simulated agent.
        initial_message: the first message; the runner stamps it.
        intent: the customer's intent (used by goal judges; never shown to the agent).
        outcomes: the legal outcomes of the run.
        max_messages: the conversation ends when it has this many messages.
        base_timestamp: the first message's timestamp (``now`` if ``None``).
        progress_callback: called as ``callback(conversation, progress)`` after every
            message, the first included.
        outcome_evaluator: decides the outcome after every message until one is
            reached; without one the outcome stays ``None``.
        termination: a strategy or a list of them (any of them ends the talk).
        min_messages: no strategy but ``max_messages`` may end the talk before the
            conversation has this many messages.
        raise_on_error: re-raise a failure instead of recording it on the result
            (participant failures as :class:`~clientsim.errors.ParticipantError`
            carrying the conversation so far).
    """

    customer: Participant = attrs.field(validator=_participant)
    agent: Participant = attrs.field(validator=_participant)
    initial_message: MessageDraft = attrs.field(
        validator=attrs.validators.instance_of(MessageDraft)
    )
    intent: Intent | None = attrs.field(
        validator=attrs.validators.optional(attrs.validators.instance_of(Intent))
    )
    outcomes: Outcomes = attrs.field(validator=attrs.validators.instance_of(Outcomes))
    max_messages: int = attrs.field(default=100, validator=_max_messages)
    base_timestamp: datetime | None = None
    progress_callback: ProgressCallback | None = attrs.field(default=None, repr=False)
    outcome_evaluator: OutcomeEvaluator | None = attrs.field(default=None, kw_only=True)
    termination: TerminationStrategy | None = attrs.field(
        default=None, kw_only=True, converter=_termination
    )
    min_messages: int = attrs.field(default=0, kw_only=True)
    raise_on_error: bool = attrs.field(default=False, kw_only=True)
    conversation_id: str = attrs.field(
        factory=lambda: uuid.uuid4().hex, kw_only=True, repr=False
    )

    _conversation: Conversation = attrs.field(init=False, repr=False)
    _is_complete: bool = attrs.field(init=False, default=False)
    _started: bool = attrs.field(init=False, default=False)
    _start_time: datetime | None = attrs.field(init=False, default=None)
    _start_monotonic: float = attrs.field(init=False, default=0.0)
    _outcome_at: int | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        if (
            not isinstance(self.min_messages, int)
            or not 0 <= self.min_messages <= self.max_messages
        ):
            raise ConfigError(
                f"min_messages must be an int between 0 and max_messages "
                f"({self.max_messages}); got {self.min_messages!r}"
            )
        if self.outcome_evaluator is not None and not isinstance(
            self.outcome_evaluator, OutcomeEvaluator
        ):
            raise ConfigError(
                "outcome_evaluator must have an async evaluate(conversation, outcomes) "
                f"method; got {type(self.outcome_evaluator).__name__}"
            )
        self._conversation = Conversation((self._first_message(),))

    def _first_message(self) -> Message:
        timestamp = self.base_timestamp or datetime.now(UTC)
        return Message(
            content=self.initial_message.content,
            timestamp=timestamp,
            sender=self.initial_message.sender,
        )

    @property
    def conversation(self) -> Conversation:
        """Get current conversation state (read-only access)."""
        return self._conversation

    @property
    def is_complete(self) -> bool:
        """Check if the simulation has completed."""
        return self._is_complete

    def get_progress(self) -> dict[str, Any]:
        """Get current progress information."""
        outcome = self._conversation.outcome
        return {
            "message_count": len(self._conversation.messages),
            "max_messages": self.max_messages,
            "is_complete": self._is_complete,
            "outcome": outcome.name if outcome else None,
            "elapsed_seconds": (
                time.monotonic() - self._start_monotonic if self._start_time else 0
            ),
        }

    def _judges(self) -> list[object]:
        """The evaluator and termination strategies that report token usage."""
        judges: list[object] = []
        pending: list[object] = [self.outcome_evaluator, self.termination]
        while pending:
            strategy = pending.pop()
            if isinstance(strategy, AnyOf):
                pending.extend(strategy.strategies)
            elif isinstance(getattr(strategy, "token_usage", None), TokenUsage):
                judges.append(strategy)
        return judges

    def _judge_usage(self, judges: list[object]) -> TokenUsage:
        total = _NO_USAGE
        for judge in judges:
            total = total + judge.token_usage  # type: ignore[attr-defined]
        return total

    async def run(self) -> ConversationResult:
        """Execute the full simulation conversation.

        Returns:
            ConversationResult with the conversation, its ending, token usage and, if
            something failed, the error (the conversation up to it is kept).

        Raises:
            SimulationError: the runner was already run.
            ConfigError: a strategy is misconfigured for this run.
        """
        if self._started:
            raise SimulationError(
                "this FullSimulationRunner has already run; runners are single-use, so "
                "create a new one (with fresh participants) for another conversation"
            )
        self._started = True
        start = time.perf_counter()
        self._start_monotonic = time.monotonic()
        self._start_time = datetime.now(UTC)
        if self.base_timestamp is None:
            self._conversation = Conversation((self._first_message(),))
        judges = self._judges()
        before = (
            self.customer.token_usage,
            self.agent.token_usage,
            self._judge_usage(judges),
        )
        events.emit(
            events.CONVERSATION_STARTED,
            conversation_id=self.conversation_id,
            runner="full",
        )
        error: ErrorRecord | None = None
        try:
            ending = await self._run()
        except _Failed as failure:
            error = ErrorRecord.from_exception(failure.source, failure.error)
            ending = Ending(
                reason="error",
                detail=f"{failure.source} failed: {error.type}: {error.message}",
                message_count=len(self._conversation.messages),
            )
            events.emit(
                events.CONVERSATION_FAILED,
                conversation_id=self.conversation_id,
                source=failure.source,
                error=f"{error.type}: {error.message}",
            )
            if self.raise_on_error:
                self._is_complete = True
                self._raise(failure)
        self._is_complete = True
        conversation = self._conversation
        duration = time.perf_counter() - start
        usage = TokenUsageReport(
            customer=self.customer.token_usage - before[0],
            agent=self.agent.token_usage - before[1],
            judge=self._judge_usage(judges) - before[2],
        )
        events.emit(
            events.CONVERSATION_ENDED,
            conversation_id=self.conversation_id,
            reason=ending.reason,
            message_count=len(conversation.messages),
            outcome=conversation.outcome.name if conversation.outcome else None,
            duration_seconds=duration,
        )
        return ConversationResult(
            conversation, duration, ending=ending, token_usage=usage, error=error
        )

    def _raise(self, failure: _Failed) -> None:
        if isinstance(failure.error, ParticipantError):
            if failure.error.conversation is None:
                failure.error.conversation = self._conversation
            raise failure.error
        if failure.source in {"customer", "agent"} and not isinstance(
            failure.error, SimulationError
        ):
            raise ParticipantError(
                f"the {failure.source} participant failed: "
                f"{type(failure.error).__name__}: {failure.error}",
                conversation=self._conversation,
            ) from failure.error
        raise failure.error

    async def _run(self) -> Ending:
        conversation = await self._observe(self._conversation)
        max_messages = self.max_messages
        customer, agent = self.customer, self.agent
        while True:
            ending = await self._check(conversation)
            if ending is not None:
                return ending
            messages = conversation.messages
            if len(messages) >= max_messages:
                return Ending(
                    reason="max_messages",
                    detail=f"reached the limit of {max_messages} messages",
                    message_count=len(messages),
                )
            last = messages[-1]
            if last.sender is _CUSTOMER:
                first, first_role, second, second_role = (
                    agent,
                    _AGENT,
                    customer,
                    _CUSTOMER,
                )
            else:
                first, first_role, second, second_role = (
                    customer,
                    _CUSTOMER,
                    agent,
                    _AGENT,
                )
            proposal = await _ask(first, first_role, conversation)
            other = await _ask(second, second_role, conversation)
            if proposal is None:
                if other is None:
                    return Ending(
                        reason="both_passed",
                        detail="neither participant had anything more to say",
                        message_count=len(messages),
                    )
                proposal, first_role = other, second_role
            elif other is not None and _earlier(other, proposal):
                # Earliest wins; a tie goes to the side that did not send the last one.
                proposal, first_role = other, second_role
            self._validate(proposal, first_role, last)
            conversation = await self._observe(conversation.with_message(proposal))

    def _validate(self, message: Message, role: ParticipantRole, last: Message) -> None:
        if not isinstance(message, Message):
            raise _Failed(
                role.value,
                ParticipantError(
                    f"the {role.value} participant returned {type(message).__name__}; "
                    "get_next_message must return a Message or None"
                ),
            )
        if message.sender is not role:
            raise _Failed(
                role.value,
                ParticipantError(
                    f"the {role.value} participant returned a message with sender "
                    f"{message.sender.name}; its messages must have sender {role.name}"
                ),
            )
        try:
            early = message.timestamp < last.timestamp
        except TypeError:
            raise _Failed(
                role.value,
                ParticipantError(
                    f"the {role.value} participant's timestamp {message.timestamp!r} "
                    f"cannot be compared with the last message's {last.timestamp!r}; use "
                    "timezone-aware datetimes throughout (or naive ones throughout)"
                ),
            ) from None
        if early:
            raise _Failed(
                role.value,
                ParticipantError(
                    f"the {role.value} participant proposed a message at "
                    f"{message.timestamp.isoformat()}, earlier than the last message "
                    f"({last.timestamp.isoformat()}); timestamps must not go back"
                ),
            )

    async def _observe(self, conversation: Conversation) -> Conversation:
        """Record a new message: outcome, events, progress callback."""
        self._conversation = conversation
        count = len(conversation.messages)
        events.emit(
            events.CONVERSATION_MESSAGE,
            conversation_id=self.conversation_id,
            index=count - 1,
            sender=conversation.messages[-1].sender.value,
        )
        evaluator = self.outcome_evaluator
        if evaluator is not None and conversation.outcome is None:
            try:
                outcome = await evaluator.evaluate(conversation, self.outcomes)
            except ConfigError:
                raise
            except Exception as exc:
                raise _Failed("evaluator", exc) from exc
            if outcome is not None:
                conversation = self._conversation = conversation.with_outcome(outcome)
                self._outcome_at = count
                events.emit(
                    events.CONVERSATION_OUTCOME,
                    conversation_id=self.conversation_id,
                    outcome=outcome.name,
                    message_count=count,
                )
        if self.progress_callback is not None:
            try:
                self.progress_callback(conversation, self.get_progress())
            except Exception as exc:
                raise _Failed("progress_callback", exc) from exc
        return conversation

    async def _check(self, conversation: Conversation) -> Ending | None:
        termination = self.termination
        if termination is None or len(conversation.messages) < self.min_messages:
            return None
        context = TerminationContext(
            conversation=conversation,
            intent=self.intent,
            outcomes=self.outcomes,
            elapsed_seconds=time.monotonic() - self._start_monotonic,
            outcome_message_count=self._outcome_at,
        )
        try:
            return await termination.check(context)
        except ConfigError:
            raise
        except Exception as exc:
            raise _Failed("termination", exc) from exc


async def _ask(
    participant: Participant, role: ParticipantRole, conversation: Conversation
) -> Message | None:
    try:
        return await participant.get_next_message(conversation)
    except ConfigError:
        raise
    except Exception as exc:
        raise _Failed(role.value, exc) from exc


def _earlier(candidate: Message, incumbent: Message) -> bool:
    try:
        return candidate.timestamp < incumbent.timestamp
    except TypeError:  # mixed naive/aware: _validate reports it on the chosen one
        return False
