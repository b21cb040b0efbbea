"""What every conversation runner shares: outcomes, progress, endings, failures, results.

A mixin: the runner classes (attrs classes with the seed's fields) define the fields
named below and call :meth:`ConversationCore._execute` from ``run()``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import anyio
import attrs

from clientsim import events
from clientsim._runtime import run_sync
from clientsim.errors import ConfigError, ParticipantError, SimulationError
from clientsim.evaluation.base import OutcomeEvaluator
from clientsim.models import (
    Conversation,
    ConversationResult,
    Ending,
    ErrorRecord,
    Intent,
    Outcomes,
    TokenUsage,
    TokenUsageReport,
)
from clientsim.termination.base import TerminationContext, TerminationStrategy
from clientsim.termination.strategies import AnyOf


ProgressCallback = Callable[[Conversation, dict[str, Any]], None]
"""``callback(conversation, progress)``, called after every message."""

NO_USAGE = TokenUsage()
NO_USAGE_REPORT = TokenUsageReport()
EMPTY = Conversation(())


class Failed(Exception):  # noqa: N818 - internal control flow, never escapes run()
    """Something failed during a run; ``source`` says where."""

    def __init__(self, source: str, error: Exception) -> None:
        super().__init__(source)
        self.source = source
        self.error = error


def new_conversation_id() -> str:
    """A fresh random conversation id: 32 hex digits (``uuid4().hex``'s shape, at a
    third of its cost)."""
    return secrets.token_hex(16)


def check_participant(
    _: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    """attrs validator: the value must have an async ``get_next_message``."""
    if not callable(getattr(value, "get_next_message", None)):
        raise ConfigError(
            f"{attribute.name} must be a Participant (an object with an async "
            f"get_next_message(conversation) method); got {type(value).__name__}"
        )


def check_positive_int(
    _: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    """attrs validator: an ``int`` (not a bool) >= 1."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{attribute.name} must be an int >= 1; got {value!r}")


def check_seconds(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """attrs validator: a positive number of seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(
            f"{attribute.name} must be a positive number of seconds; got {value!r}"
        )


FIRST_SPEAKERS: Final = ("customer", "agent")
"""Who may open a conversation (a runner's ``first``)."""


def check_first(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """attrs validator: ``"customer"`` or ``"agent"``."""
    check_first_value(attribute.name, value)


def check_first_value(name: str, value: object) -> None:
    """Raise :class:`ConfigError` unless ``value`` is one of :data:`FIRST_SPEAKERS`.

    Example:
        >>> check_first_value("first", "bot")
        Traceback (most recent call last):
        ...
        clientsim.errors.ConfigError: first must be one of 'customer', 'agent' (who ...
    """
    if not isinstance(value, str) or value not in FIRST_SPEAKERS:
        allowed = ", ".join(repr(speaker) for speaker in FIRST_SPEAKERS)
        raise ConfigError(
            f"{name} must be one of {allowed} (who opens the conversation); "
            f"got {value!r}"
        )


def as_termination(value: object) -> TerminationStrategy | None:
    """attrs converter: a strategy, a list of them (any of), or ``None``."""
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


@attrs.define
class RunState:
    """What a run changes as it goes: the conversation so far, and when it started.

    Kept apart from the runner's options: a runner is an attrs class whose fields
    are validated on every assignment (attrs' ``on_setattr`` hooks), and these values,
    written by the runner itself once per message, need no checking. This class has no
    validators, so attrs gives it no hooks: an update is a plain slot store.
    """

    conversation: Conversation = attrs.field(default=EMPTY, repr=False)
    is_complete: bool = False
    started: bool = False
    start_monotonic: float = 0.0
    outcome_at: int | None = None
    call_since: float | None = None
    """When the call to the agent now in flight started (``time.monotonic()``)."""
    abandoned_after: float | None = None
    """How long a call to the agent ran before it was abandoned, if one was."""
    silent_turns: int = 0
    """Hybrid runs: how many agent turns so far brought no message."""
    turn_waited: float = 0.0
    """Hybrid runs: how long the last agent turn was waited for."""
    turn_ended_empty: bool = False
    """Hybrid runs: whether the last agent turn ended (an end of turn) with no message."""


class ConversationCore:
    """Behaviour shared by the runners; subclasses define these attributes."""

    outcomes: Outcomes
    intent: Intent | None
    max_messages: int
    min_messages: int
    progress_callback: ProgressCallback | None
    outcome_evaluator: OutcomeEvaluator | None
    termination: TerminationStrategy | None
    raise_on_error: bool
    conversation_id: str
    _state: RunState

    @property
    def _hook_seconds(self) -> float:
        """The longest a user hook (the progress callback) may take: a turn."""
        return float(getattr(getattr(self, "timeouts", None), "turn", 300.0))

    def _check_options(self) -> None:
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

    @property
    def conversation(self) -> Conversation:
        """Get current conversation state (read-only access)."""
        return self._state.conversation

    @property
    def is_complete(self) -> bool:
        """Check if the simulation has completed."""
        return self._state.is_complete

    def get_progress(self) -> dict[str, Any]:
        """Get current progress information."""
        state = self._state
        outcome = state.conversation.outcome
        return {
            "message_count": len(state.conversation.messages),
            "max_messages": self.max_messages,
            "is_complete": state.is_complete,
            "outcome": outcome.name if outcome else None,
            "elapsed_seconds": (
                time.monotonic() - state.start_monotonic if state.started else 0
            ),
        }

    def _judges(self) -> list[object]:
        """The evaluator and termination strategies that report token usage."""
        judges: list[object] = []
        if self.outcome_evaluator is None and self.termination is None:
            return judges
        pending: list[object] = [self.outcome_evaluator, self.termination]
        while pending:
            strategy = pending.pop()
            if isinstance(strategy, AnyOf):
                pending.extend(strategy.strategies)
            elif isinstance(getattr(strategy, "token_usage", None), TokenUsage):
                judges.append(strategy)
        return judges

    async def _execute(
        self,
        body: Callable[[], Awaitable[Ending]],
        *,
        runner: str,
        customer: object,
        agent: object | None,
    ) -> ConversationResult:
        """Run ``body`` as the conversation and turn what happens into a result."""
        state = self._state
        if state.started:
            raise SimulationError(
                f"this {type(self).__name__} has already run; runners are single-use, so "
                "create a new one (with fresh participants) for another conversation"
            )
        state.started = True
        start = time.perf_counter()
        state.start_monotonic = time.monotonic()
        judges = self._judges()
        before = (_usage(customer), _usage(agent), _usage(*judges))
        if events.enabled(events.CONVERSATION_STARTED):
            events.emit(
                events.CONVERSATION_STARTED,
                conversation_id=self.conversation_id,
                runner=runner,
            )
        error: ErrorRecord | None = None
        token = events.current_conversation.set(self.conversation_id)
        try:
            ending = await body()
        except Failed as failure:
            error = ErrorRecord.from_exception(failure.source, failure.error)
            ending = self._failed(error)
            if self.raise_on_error:
                state.is_complete = True
                self._raise(failure)
        finally:
            events.current_conversation.reset(token)
        state.is_complete = True
        conversation = state.conversation
        duration = time.perf_counter() - start
        customer_spent = _spent(_usage(customer), before[0])
        agent_spent = _spent(_usage(agent), before[1])
        judge_spent = _spent(_usage(*judges), before[2])
        usage = (
            NO_USAGE_REPORT  # the common case without models: one shared value
            if customer_spent is agent_spent is judge_spent is NO_USAGE
            else TokenUsageReport(
                customer=customer_spent, agent=agent_spent, judge=judge_spent
            )
        )
        if events.enabled(events.CONVERSATION_ENDED):
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

    def _failed(self, error: ErrorRecord) -> Ending:
        """The ending ``error`` calls for, with the failure's event emitted."""
        events.emit(
            events.CONVERSATION_FAILED,
            conversation_id=self.conversation_id,
            source=error.source,
            side=error.side,
            error=f"{error.type}: {error.message}",
        )
        return Ending(
            reason="error",
            detail=f"{error.source} failed: {error.type}: {error.message}",
            message_count=len(self._state.conversation.messages),
        )

    def _raise(self, failure: Failed) -> None:
        if isinstance(failure.error, ParticipantError):
            if failure.error.conversation is None:
                failure.error.conversation = self._state.conversation
            raise failure.error
        if failure.source in {"customer", "agent"} and not isinstance(
            failure.error, SimulationError
        ):
            raise ParticipantError(
                f"the {failure.source} participant failed: "
                f"{type(failure.error).__name__}: {failure.error}",
                conversation=self._state.conversation,
            ) from failure.error
        raise failure.error

    async def _record(self, conversation: Conversation) -> Ending | None:
        """Take ``conversation`` (one message longer) as the current one and return
        the ending it calls for, if any.

        The runner's whole bookkeeping for a message, in one call: the message event,
        the outcome evaluator (until an outcome is reached), the progress callback,
        then the termination strategies and ``max_messages``. Afterwards the current
        conversation (with its outcome, if one was just reached) is
        ``self._state.conversation``.
        """
        state = self._state
        state.conversation = conversation
        count = len(conversation.messages)
        if events.enabled(events.CONVERSATION_MESSAGE):
            events.emit(
                events.CONVERSATION_MESSAGE,
                conversation_id=self.conversation_id,
                index=count - 1,
                sender=conversation.messages[-1].sender.value,
            )
        evaluator = self.outcome_evaluator
        if evaluator is not None and conversation.outcome is None:
            conversation = await self._evaluate(evaluator, conversation)
        if self.progress_callback is not None:
            await self._progress(self.progress_callback, conversation)
        termination = self.termination
        if termination is not None and count >= self.min_messages:
            ending = await self._check(termination, conversation)
            if ending is not None:
                return ending
        if count >= self.max_messages:
            return Ending(
                reason="max_messages",
                detail=f"reached the limit of {self.max_messages} messages",
                message_count=count,
            )
        return None

    async def _progress(
        self, callback: ProgressCallback, conversation: Conversation
    ) -> None:
        """Call the progress callback in a worker thread, abandoned past a turn's
        limit, so that a callback that blocks never stalls the run."""
        limit = self._hook_seconds
        try:
            with anyio.move_on_after(limit) as scope:
                await run_sync(
                    callback,
                    conversation,
                    self.get_progress(),
                    name="progress_callback",
                )
        except Exception as exc:
            raise Failed("progress_callback", exc) from exc
        if scope.cancelled_caught:
            raise Failed(
                "progress_callback",
                TimeoutError(
                    f"the progress callback took longer than {limit:g}s; it was "
                    "abandoned"
                ),
            )

    async def _evaluate(
        self, evaluator: OutcomeEvaluator, conversation: Conversation
    ) -> Conversation:
        """Ask ``evaluator`` for an outcome; the conversation with it, if one came."""
        try:
            outcome = await evaluator.evaluate(conversation, self.outcomes)
        except ConfigError:
            raise
        except Exception as exc:
            raise Failed("evaluator", exc) from exc
        if outcome is None:
            return conversation
        count = len(conversation.messages)
        state = self._state
        conversation = state.conversation = conversation.with_outcome(outcome)
        state.outcome_at = count
        events.emit(
            events.CONVERSATION_OUTCOME,
            conversation_id=self.conversation_id,
            outcome=outcome.name,
            message_count=count,
        )
        return conversation

    async def _check(
        self, termination: TerminationStrategy, conversation: Conversation
    ) -> Ending | None:
        """The ending ``termination`` calls for now, if any."""
        context = TerminationContext(
            conversation=conversation,
            intent=self.intent,
            outcomes=self.outcomes,
            elapsed_seconds=time.monotonic() - self._state.start_monotonic,
            outcome_message_count=self._state.outcome_at,
        )
        try:
            return await termination.check(context)
        except ConfigError:
            raise
        except Exception as exc:
            raise Failed("termination", exc) from exc


def _usage(*sources: object) -> TokenUsage:
    """What ``sources`` have spent so far, summed; a lone source's own object, so
    that :func:`_spent` can tell at once that it spent nothing since."""
    total: TokenUsage | None = None
    for source in sources:
        usage = getattr(source, "token_usage", None)
        if isinstance(usage, TokenUsage):
            total = usage if total is None else total + usage
    return NO_USAGE if total is None else total


def _spent(after: TokenUsage, before: TokenUsage) -> TokenUsage:
    """What was spent between two readings of a usage (the same object: nothing)."""
    return NO_USAGE if after is before else after - before
