"""Full simulation: a simulated customer and a simulated agent, in simulated time."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Literal

import anyio
import attrs

from clientsim.errors import ConfigError, ParticipantError
from clientsim.evaluation.base import OutcomeEvaluator
from clientsim.models import (
    DEFAULT_TIMEOUTS,
    Conversation,
    ConversationResult,
    Ending,
    Intent,
    Message,
    MessageDraft,
    Outcomes,
    ParticipantRole,
    Timeouts,
)
from clientsim.models.conversation import stamped
from clientsim.models.timestamps import timestamp_field_or_none
from clientsim.participants.base import Participant
from clientsim.participants.timing import CUSTOMER_TYPING
from clientsim.runners._core import (
    ConversationCore,
    Failed,
    ProgressCallback,
    RunState,
    as_termination,
    check_first,
    check_participant,
    check_positive_int,
    new_conversation_id,
)
from clientsim.runners.base import Runner
from clientsim.termination.base import TerminationStrategy


__all__ = ["FullSimulationRunner", "ProgressCallback"]

_CUSTOMER = ParticipantRole.CUSTOMER
_AGENT = ParticipantRole.AGENT
_EMPTY = Conversation(())


@attrs.define
class FullSimulationRunner(ConversationCore, Runner):
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
        >>> import anyio
        >>> from datetime import UTC, datetime
        >>> from clientsim import (FullSimulationRunner, Intent, LLMParticipant,
        ...     MessageDraft, Outcome, Outcomes, ParticipantRole)
        >>> intent = Intent(role=ParticipantRole.CUSTOMER, description="Reset my password")
        >>> outcomes = Outcomes(outcomes=(Outcome(name="resolved", description="Fixed"),))
        >>> customer = LLMParticipant(ParticipantRole.CUSTOMER, "offline", intent=intent)
        >>> agent = LLMParticipant(ParticipantRole.AGENT, "offline:1")
        >>> runner = FullSimulationRunner(
        ...     customer=customer,
        ...     agent=agent,
        ...     initial_message=MessageDraft("Hello, I need help", ParticipantRole.CUSTOMER),
        ...     intent=intent,
        ...     outcomes=outcomes,
        ...     max_messages=4,
        ...     base_timestamp=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        ... )
        >>> result = anyio.run(runner.run)
        >>> for message in result.conversation.messages:
        ...     print(f"{message.timestamp:%H:%M:%S} {message.sender.value}: {message.content}")
        09:00:00 customer: Hello, I need help
        09:00:07 agent: I'd be glad to help. What exactly is going wrong?
        09:00:24 customer: I need to reset my password. Can you help me with that?
        09:00:32 agent: Sorry to hear that. Which email address is on the account?
        >>> result.ending.reason
        'max_messages'

    Args:
        customer: the simulated customer.
        agent: the simulated agent.
        initial_message: the first message; the runner stamps it. With
            ``first="agent"`` it is the customer's fixed answer to the agent's
            opening, or ``None`` to let the customer participant write that answer
            from its intent.
        intent: the customer's intent (used by goal judges; never shown to the agent).
        outcomes: the legal outcomes of the run.
        max_messages: the conversation ends when it has this many messages.
        base_timestamp: the first message's timestamp (``now`` if ``None``); a naive
            datetime is read as local time and converted to UTC, as every timestamp
            is, so participants may stamp with ``datetime.now()`` or aware times.
        progress_callback: called as ``callback(conversation, progress)`` after every
            message, the first included, in a worker thread (so a slow callback never
            stalls the event loop); one that takes longer than ``timeouts.turn`` is
            abandoned and fails the run (source ``"progress_callback"``).
        outcome_evaluator: decides the outcome after every message until one is
            reached; without one the outcome stays ``None``.
        termination: a strategy or a list of them (any of them ends the talk).
        min_messages: no strategy but ``max_messages`` may end the talk before the
            conversation has this many messages.
        raise_on_error: re-raise a failure instead of recording it on the result
            (participant failures as :class:`~clientsim.errors.ParticipantError`
            carrying the conversation so far).
        first: who opens the conversation: ``"customer"`` (the default: the
            ``initial_message``) or ``"agent"`` (the agent participant is asked for
            the first message, stamped ``base_timestamp``; if it passes, the run
            ends with the reason ``"agent_silent"``).
        timeouts: ``timeouts.turn`` bounds each participant's
            ``get_next_message`` (past it, the run fails with a ``TimeoutError``
            from that participant); ``timeouts.conversation`` bounds the whole run
            (past it, the run ends with the reason ``"max_duration"``). See
            :class:`~clientsim.models.Timeouts`.
    """

    customer: Participant = attrs.field(validator=check_participant)
    agent: Participant = attrs.field(validator=check_participant)
    initial_message: MessageDraft | None = attrs.field(
        validator=attrs.validators.optional(attrs.validators.instance_of(MessageDraft))
    )
    intent: Intent | None = attrs.field(
        validator=attrs.validators.optional(attrs.validators.instance_of(Intent))
    )
    outcomes: Outcomes = attrs.field(validator=attrs.validators.instance_of(Outcomes))
    max_messages: int = attrs.field(default=100, validator=check_positive_int)
    base_timestamp: datetime | None = attrs.field(
        default=None, converter=timestamp_field_or_none
    )
    progress_callback: ProgressCallback | None = attrs.field(default=None, repr=False)
    outcome_evaluator: OutcomeEvaluator | None = attrs.field(default=None, kw_only=True)
    termination: TerminationStrategy | None = attrs.field(
        default=None, kw_only=True, converter=as_termination
    )
    min_messages: int = attrs.field(default=0, kw_only=True)
    raise_on_error: bool = attrs.field(default=False, kw_only=True)
    first: Literal["customer", "agent"] = attrs.field(
        default="customer", kw_only=True, validator=check_first
    )
    timeouts: Timeouts = attrs.field(
        default=DEFAULT_TIMEOUTS,
        kw_only=True,
        validator=attrs.validators.instance_of(Timeouts),
    )
    conversation_id: str = attrs.field(
        factory=new_conversation_id, kw_only=True, repr=False
    )

    _state: RunState = attrs.field(init=False, factory=RunState)

    def __attrs_post_init__(self) -> None:
        self._check_options()
        if self.first == "customer":
            if self.initial_message is None:
                raise ConfigError(
                    "initial_message is required when the customer speaks first "
                    "(first='customer'); give a MessageDraft, or set first='agent'"
                )
            self._state.conversation = Conversation((self._first_message(),))
        elif (
            self.initial_message is not None
            and self.initial_message.sender is not _CUSTOMER
        ):
            raise ConfigError(
                "with first='agent', initial_message is the customer's answer to "
                "the agent's opening: its sender must be CUSTOMER; got "
                f"{self.initial_message.sender.name}"
            )

    def _first_message(self) -> Message:
        draft = self.initial_message
        assert draft is not None  # noqa: S101 - checked when the runner was built
        timestamp = self.base_timestamp or datetime.now(UTC)
        return Message(content=draft.content, timestamp=timestamp, sender=draft.sender)

    async def run(self) -> ConversationResult:
        """Execute the full simulation conversation.

        Returns:
            ConversationResult with the conversation, its ending, token usage and, if
            something failed, the error (the conversation up to it is kept).

        Raises:
            SimulationError: the runner was already run.
            ConfigError: a strategy is misconfigured for this run.
        """
        if (
            self.base_timestamp is None
            and not self._state.started
            and self.first == "customer"
        ):
            self._state.conversation = Conversation((self._first_message(),))
        return await self._execute(
            self._run, runner="full", customer=self.customer, agent=self.agent
        )

    async def _run(self) -> Ending:
        limit = self.timeouts.conversation
        ending: Ending | None = None
        with anyio.move_on_after(limit):
            ending = await self._talk()
        if ending is None:
            return Ending(
                reason="max_duration",
                detail=f"the conversation reached its maximum duration of {limit:g}s "
                "(timeouts.conversation)",
                message_count=len(self._state.conversation.messages),
            )
        return ending

    async def _begin(self) -> Ending | None:
        """Record the opening: the customer's first message, or the agent's."""
        if self.first == "agent":
            return await self._open()
        return await self._record(self._state.conversation)

    async def _open(self) -> Ending | None:
        """``first="agent"``: record the agent's opening (and the customer's fixed
        answer, if ``initial_message`` is given); the ending it calls for, if any."""
        turn = self.timeouts.turn
        try:
            with anyio.move_on_after(turn) as scope:
                opening = await self.agent.get_next_message(_EMPTY)
        except ConfigError:
            raise
        except Exception as exc:
            raise Failed("agent", exc) from exc
        if scope.cancelled_caught:
            raise Failed(
                "agent",
                TimeoutError(
                    f"the agent took longer than {turn:g}s to write its opening "
                    "message (timeouts.turn)"
                ),
            )
        if opening is None:
            return Ending(
                reason="agent_silent",
                detail="the agent had no opening message (first='agent')",
                message_count=0,
            )
        self._validate_sender(opening, _AGENT)
        stamp = self.base_timestamp or datetime.now(UTC)
        opening = stamped(opening.content, stamp, _AGENT)
        ending = await self._record(Conversation((opening,)))
        draft = self.initial_message
        if ending is not None or draft is None:
            return ending
        # The customer's fixed answer, after its reading and typing time.
        delay = CUSTOMER_TYPING.delay(
            read=opening.content, write=draft.content, rng=random.Random(0)
        )
        answer = stamped(draft.content, stamp + delay, draft.sender)
        return await self._record(self._state.conversation.with_message(answer))

    async def _talk(self) -> Ending:
        state = self._state
        turn = self.timeouts.turn
        customer, agent = self.customer, self.agent
        ending = await self._begin()
        while ending is None:
            conversation = state.conversation
            last = conversation.messages[-1]
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
            asking = first_role
            try:
                with anyio.move_on_after(turn) as scope:
                    proposal = await first.get_next_message(conversation)
                if not scope.cancelled_caught:
                    asking = second_role
                    with anyio.move_on_after(turn) as scope:
                        other = await second.get_next_message(conversation)
            except ConfigError:
                raise
            except Exception as exc:
                raise Failed(asking.value, exc) from exc
            if scope.cancelled_caught:
                raise Failed(
                    asking.value,
                    TimeoutError(
                        f"the {asking.value} took longer than {turn:g}s to write a "
                        "message (timeouts.turn)"
                    ),
                )
            if proposal is None:
                if other is None:
                    return Ending(
                        reason="both_passed",
                        detail="neither participant had anything more to say",
                        message_count=len(conversation.messages),
                    )
                proposal, first_role = other, second_role
            elif other is not None and _earlier(other, proposal):
                # Earliest wins; a tie goes to the side that did not send the last one.
                proposal, first_role = other, second_role
            self._validate(proposal, first_role, last)
            ending = await self._record(conversation.with_message(proposal))
        return ending

    def _validate(self, message: Message, role: ParticipantRole, last: Message) -> None:
        self._validate_sender(message, role)
        # Every Message holds an aware UTC timestamp (a naive one was read as local
        # time when the message was built), so any two compare.
        if message.timestamp < last.timestamp:
            raise Failed(
                role.value,
                ParticipantError(
                    f"the {role.value} participant proposed a message at "
                    f"{message.timestamp.isoformat()}, earlier than the last message "
                    f"({last.timestamp.isoformat()}); timestamps must not go back"
                ),
            )

    @staticmethod
    def _validate_sender(message: Message, role: ParticipantRole) -> None:
        if not isinstance(message, Message):
            raise Failed(
                role.value,
                ParticipantError(
                    f"the {role.value} participant returned {type(message).__name__}; "
                    "get_next_message must return a Message or None"
                ),
            )
        if message.sender is not role:
            raise Failed(
                role.value,
                ParticipantError(
                    f"the {role.value} participant returned a message with sender "
                    f"{message.sender.name}; its messages must have sender {role.name}"
                ),
            )


def _earlier(candidate: Message, incumbent: Message) -> bool:
    return candidate.timestamp < incumbent.timestamp
