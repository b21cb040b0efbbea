"""Hybrid simulation: a simulated customer against a real agent, in real time."""

from __future__ import annotations

import contextlib
import time
from datetime import datetime
from typing import Final, Literal

import anyio
import anyio.lowlevel
import attrs
from anyio.abc import TaskGroup

from clientsim import events
from clientsim._runtime import task_group as user_task_group
from clientsim.channels.base import (
    AgentInterrupted,
    Channel,
    QueueSession,
    Session,
    TurnEnded,
    now,
    silenced,
)
from clientsim.errors import ConfigError
from clientsim.evaluation.base import OutcomeEvaluator
from clientsim.models import (
    Conversation,
    ConversationResult,
    Ending,
    Intent,
    Message,
    MessageDraft,
    Outcomes,
    ParticipantRole,
)
from clientsim.models.conversation import stamped
from clientsim.participants.base import Participant
from clientsim.runners._core import (
    ConversationCore,
    Failed,
    ProgressCallback,
    RunState,
    as_termination,
    check_first,
    check_participant,
    check_positive_int,
    check_seconds,
    new_conversation_id,
)
from clientsim.runners._hybrid_opening import read_opening
from clientsim.runners._hybrid_options import (
    check_channel,
    check_customer_opener,
    check_optional_seconds,
    check_overlap,
)
from clientsim.runners._hybrid_sources import (
    INBOX_SIZE,
    Closed,
    Failure,
    Item,
    QueueSource,
    Source,
    StreamSource,
    channel_error,
    interrupted,
    pump,
)
from clientsim.runners.base import Runner
from clientsim.termination.base import TerminationStrategy


__all__ = ["HybridSimulationRunner"]

_CUSTOMER: Final = ParticipantRole.CUSTOMER
_AGENT: Final = ParticipantRole.AGENT
_SILENT_ENDINGS: Final = frozenset({"agent_silent", "max_duration"})
"""Endings that a failing channel explains: then the run records the channel's error."""


@attrs.define
class HybridSimulationRunner(ConversationCore, Runner):
    """Runs a simulated customer against a real agent reached through a channel.

    Real time, not simulated time. Each round, the customer's message is sent and the
    agent's reply burst is collected: the burst ends at an explicit end of turn from
    the channel (a request/response agent's reply is complete), after
    ``quiet_period_seconds`` without a new agent message, or after
    ``max_turn_seconds``. No agent message within ``reply_timeout_seconds`` is an
    "agent silent" turn, never a hang; if the customer then has nothing to say, the
    conversation ends with the reason ``"agent_silent"``.

    Agent messages that arrive while the customer is composing are folded into the
    customer's view before it replies (``overlap="fold"``: the customer is asked again)
    or queued after its message (``overlap="queue"``).

    Endings, outcomes, progress and failures work as in
    :class:`~clientsim.runners.FullSimulationRunner`, plus: ``"agent_silent"``,
    ``"agent_closed"`` (the agent side ended the session), ``"agent_interrupted"``
    (the agent stopped to ask, e.g. a LangGraph ``interrupt()``; the detail is the
    payload as JSON and ``result.ok`` is false) and ``"max_duration"``
    (``max_duration_seconds`` passed). A channel failure (a dropped connection, 5xx
    after retries, a malformed reply) ends the run with ``result.error.source ==
    "channel"`` (``result.error.side == "agent"``) and the transcript so far kept.

    Example:
        >>> import anyio
        >>> from clientsim import (HybridSimulationRunner, Intent, LLMParticipant,
        ...     MessageDraft, Outcome, Outcomes, ParticipantRole, TargetChannel)
        >>> intent = Intent(role=ParticipantRole.CUSTOMER, description="Reset my password")
        >>> outcomes = Outcomes(outcomes=(Outcome(name="resolved", description="Fixed"),))
        >>> customer = LLMParticipant(ParticipantRole.CUSTOMER, "offline", intent=intent)
        >>> async def support_bot(message):
        ...     return f"You said: {message}"
        >>> runner = HybridSimulationRunner(
        ...     customer=customer,
        ...     # or e.g. HTTPChannel(base_url="http://127.0.0.1:8000/v1", model="bot")
        ...     channel=TargetChannel(support_bot),
        ...     intent=intent,
        ...     outcomes=outcomes,
        ...     initial_message=MessageDraft("Hello, I need help", ParticipantRole.CUSTOMER),
        ...     max_messages=4,
        ... )
        >>> result = anyio.run(runner.run)
        >>> for message in result.conversation.messages:
        ...     print(f"{message.sender.value}: {message.content}")
        customer: Hello, I need help
        agent: You said: Hello, I need help
        customer: I need to reset my password. Can you help me with that?
        agent: You said: I need to reset my password. Can you help me with that?
        >>> result.ending.reason
        'max_messages'

    Args:
        customer: the simulated customer.
        channel: how to reach the real agent; one session is opened per run.
        intent: the customer's intent (for goal judges; never sent to the agent).
        outcomes: the legal outcomes of the run.
        initial_message: the customer's first message; if ``None`` the customer
            participant writes it. With ``first="agent"`` it is sent in answer to the
            agent's opening.
        max_messages: the conversation ends when it has this many messages.
        progress_callback: called as ``callback(conversation, progress)`` after
            every message, in a worker thread; one that takes longer than
            ``customer_timeout_seconds`` is abandoned and fails the run.
        reply_timeout_seconds: longest wait for the agent's first message of a turn.
        quiet_period_seconds: silence that ends an agent's burst (``None``: only an
            end-of-turn event or ``max_turn_seconds`` ends it).
        max_turn_seconds: longest an agent's burst may go on.
        max_duration_seconds: the whole conversation's deadline.
        customer_timeout_seconds: longest the customer may take to write a message.
        overlap: ``"fold"`` or ``"queue"`` agent messages that arrive while the
            customer is composing.
        typing_delays: wait, in real time, as long as the customer's typing model
            says it takes to write each message (off by default).
        max_typing_delay_seconds: the longest such wait.
        outcome_evaluator: decides the outcome after every message.
        termination: a strategy or a list of them (any of them ends the talk).
        min_messages: no strategy but ``max_messages`` may end the talk earlier.
        raise_on_error: re-raise a failure instead of recording it on the result.
        first: who opens the conversation: ``"customer"`` (the default) or
            ``"agent"``: the runner first waits up to ``reply_timeout_seconds`` for the
            agent's opening burst (a greeting a WebSocket agent pushes on connect, or
            one a session has queued when it opens, as a replayed cassette's turn 0)
            and records it, then the customer speaks. A request/response session
            (HTTP, a callable, a runnable) can only have queued its opening when it
            opened, so it is not waited for. No opening ends the run with the reason
            ``"agent_silent"`` (the customer never speaks).
    """

    customer: Participant = attrs.field(validator=check_participant)
    channel: Channel = attrs.field(validator=check_channel)
    intent: Intent | None = attrs.field(
        validator=attrs.validators.optional(attrs.validators.instance_of(Intent))
    )
    outcomes: Outcomes = attrs.field(validator=attrs.validators.instance_of(Outcomes))
    initial_message: MessageDraft | None = attrs.field(
        default=None, validator=check_customer_opener
    )
    max_messages: int = attrs.field(default=100, validator=check_positive_int)
    progress_callback: ProgressCallback | None = attrs.field(default=None, repr=False)
    reply_timeout_seconds: float = attrs.field(
        default=30.0, kw_only=True, validator=check_seconds
    )
    quiet_period_seconds: float | None = attrs.field(
        default=2.0, kw_only=True, validator=check_optional_seconds
    )
    max_turn_seconds: float = attrs.field(
        default=120.0, kw_only=True, validator=check_seconds
    )
    max_duration_seconds: float = attrs.field(
        default=600.0, kw_only=True, validator=check_seconds
    )
    customer_timeout_seconds: float = attrs.field(
        default=120.0, kw_only=True, validator=check_seconds
    )
    overlap: Literal["fold", "queue"] = attrs.field(
        default="fold", kw_only=True, validator=check_overlap
    )
    typing_delays: bool = attrs.field(default=False, kw_only=True)
    max_typing_delay_seconds: float = attrs.field(
        default=15.0, kw_only=True, validator=check_seconds
    )
    outcome_evaluator: OutcomeEvaluator | None = attrs.field(default=None, kw_only=True)
    termination: TerminationStrategy | None = attrs.field(
        default=None, kw_only=True, converter=as_termination
    )
    min_messages: int = attrs.field(default=0, kw_only=True)
    raise_on_error: bool = attrs.field(default=False, kw_only=True)
    first: Literal["customer", "agent"] = attrs.field(
        default="customer", kw_only=True, validator=check_first
    )
    conversation_id: str = attrs.field(
        factory=new_conversation_id, kw_only=True, repr=False
    )

    _state: RunState = attrs.field(init=False, factory=RunState)
    session: Session | None = attrs.field(init=False, default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        self._check_options()

    @property
    def _hook_seconds(self) -> float:
        return self.customer_timeout_seconds

    @property
    def pending_call_seconds(self) -> float | None:
        """How long the call to the agent still in flight has been running (``None``
        if there is none): once the run is over, a call that was abandoned."""
        since = self._state.call_since
        return None if since is None else time.monotonic() - since

    @property
    def silent_turns(self) -> int:
        """How many agent turns so far brought no message."""
        return self._state.silent_turns

    async def run(self) -> ConversationResult:
        """Run the conversation against the real agent.

        Returns:
            ConversationResult with the conversation, its ending, token usage and, if
            something failed, the error (the conversation up to it is kept).

        Raises:
            SimulationError: the runner was already run.
            ConfigError: a strategy is misconfigured for this run.
        """
        return await self._execute(
            self._run, runner="hybrid", customer=self.customer, agent=None
        )

    async def _run(self) -> Ending:
        try:
            session = await self.channel.create_session()
        except ConfigError:
            raise
        except Exception as exc:
            raise Failed("channel", exc) from exc
        self.session = session
        failure: Failed | None = None
        ending: Ending | None = None
        ends = anyio.current_time() + self.max_duration_seconds
        stage = "channel"  # who is to blame for an error outside the talk itself
        try:
            async with contextlib.AsyncExitStack() as stack:
                stack.enter_context(anyio.CancelScope(deadline=ends))  # closing too
                await stack.enter_async_context(session)
                # A session whose send is the whole turn runs nothing beside the talk:
                # no task group to open and cancel for it.
                task_group = (
                    None
                    if isinstance(session, QueueSession) and session.send_completes_turn
                    else await stack.enter_async_context(user_task_group())
                )
                source = await self._source(session, stack, task_group)
                stage = "simulator"
                with anyio.CancelScope(deadline=ends) as deadline:
                    try:
                        ending = await self._converse(session, source, task_group)
                    except Failed as exc:
                        failure = exc
                if deadline.cancelled_caught:
                    ending = self._max_duration()
                if ending is not None:
                    ending = self._with_abandoned_call(ending)
                stage = "channel"
                if task_group is not None:
                    task_group.cancel_scope.cancel()
        except ConfigError:
            raise
        except Exception as exc:  # opening or closing the session failed, or a bug
            if failure is None and ending is None:
                raise Failed(stage, exc) from exc
        return self._settle(failure, ending, session)

    def _max_duration(self) -> Ending:
        return Ending(
            reason="max_duration",
            detail=f"the conversation reached its maximum duration of "
            f"{self.max_duration_seconds:g}s",
            message_count=len(self._state.conversation.messages),
        )

    def _settle(
        self, failure: Failed | None, ending: Ending | None, session: Session
    ) -> Ending:
        """The run's ending, or its failure raised: the channel's error too, if it
        explains a silent ending (a reply timeout cut the channel's retries short)."""
        if failure is None and ending is None:  # the deadline passed while opening
            ending = self._max_duration()
        if failure is None and ending is not None and ending.reason in _SILENT_ENDINGS:
            silence = silenced(session, ending.detail)
            failure = None if silence is None else Failed("channel", silence)
        if failure is not None:
            raise failure
        assert ending is not None  # noqa: S101 - set above if nothing else did
        return ending

    def _with_abandoned_call(self, ending: Ending) -> Ending:
        """``ending``, saying so if an agent call was still running (it is abandoned)."""
        waited = self.pending_call_seconds or self._state.abandoned_after
        if waited is None:
            return ending
        return attrs.evolve(
            ending,
            detail=f"{ending.detail}; an agent call was abandoned after {waited:.1f}s "
            "without returning",
        )

    async def _source(
        self,
        session: Session,
        stack: contextlib.AsyncExitStack,
        task_group: TaskGroup | None,
    ) -> Source:
        """Where the agent's events come from: the session's own queue if it has one."""
        if isinstance(session, QueueSession):
            return QueueSource(session, self._state)
        assert task_group is not None  # noqa: S101 - only an inline session has none
        inbox_send, inbox = anyio.create_memory_object_stream[Item](INBOX_SIZE)
        await stack.enter_async_context(inbox_send)
        await stack.enter_async_context(inbox)
        task_group.start_soon(pump, session, inbox_send)
        return StreamSource(inbox, inbox_send, self._state)

    async def _converse(
        self, session: Session, source: Source, task_group: TaskGroup | None
    ) -> Ending:
        """The talk, after the agent's opening burst if it speaks first
        (``agent_silent`` if it has none)."""
        if self.first == "agent":
            opened = await read_opening(
                self._state.conversation,
                source,
                waits=session.speaks_unprompted,
                reply_timeout=self.reply_timeout_seconds,
                take=self._take,
                agent_turn=self._agent_turn,
                state=self._state,
                conversation_id=self.conversation_id,
            )
            if isinstance(opened, Ending):
                return opened
        return await self._talk(session, source, task_group)

    async def _talk(
        self, session: Session, source: Source, task_group: TaskGroup | None
    ) -> Ending:
        conversation = self._state.conversation
        draft = self.initial_message
        inline = task_group is None  # a QueueSession whose send is the whole turn
        silent = False
        while True:
            if draft is not None:
                proposal: Message | None = Message(draft.content, now(), _CUSTOMER)
                draft = None
            else:
                composed = await self._compose(conversation, source, settle=not inline)
                if isinstance(composed, Ending):
                    return composed
                conversation, proposal = composed
            if proposal is None:
                return self._customer_passed(conversation, silent=silent)
            message = stamped(proposal.content, _after(conversation), _CUSTOMER)
            ending = await self._record(conversation.with_message(message))
            if ending is not None:
                return ending
            conversation = self._state.conversation
            reply_timeout = self.reply_timeout_seconds
            if inline:
                # The send is the whole turn: await it here, no task, no hop.
                assert isinstance(session, QueueSession)  # noqa: S101 - inline implies it
                if await self._send_inline(session, message):
                    reply_timeout = 0.0  # timed out: take what came, wait no more
            else:
                assert task_group is not None  # noqa: S101 - not inline
                task_group.start_soon(source.deliver, session, message)
            turn = await self._agent_turn(conversation, source, reply_timeout)
            if isinstance(turn, Ending):
                return turn
            conversation, received = turn
            silent = received == 0
            if silent:
                state = self._state
                state.silent_turns += 1
                events.emit(
                    events.AGENT_SILENT,
                    conversation_id=self.conversation_id,
                    waited_seconds=state.turn_waited,
                    ended_turn=state.turn_ended_empty,
                    message_count=len(conversation.messages),
                )

    async def _send_inline(self, session: QueueSession, message: Message) -> bool:
        """Send and wait for the whole reply; ``True`` if the reply timeout passed.

        A failure goes into the session's queue after whatever the agent already
        said, so the conversation keeps those messages and then ends with the error.
        """
        state = self._state
        state.call_since = time.monotonic()
        # A scope with a deadline: what anyio.move_on_after builds, without its
        # lookups of the async backend (once per message).
        with anyio.CancelScope(
            deadline=anyio.current_time() + self.reply_timeout_seconds
        ) as scope:
            try:
                await session.send(message)
            except ConfigError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported in order, through the queue
                await session.push_failure(channel_error(exc))
        state.call_since = None
        if scope.cancelled_caught:  # the call is abandoned: say so with the ending
            state.abandoned_after = self.reply_timeout_seconds
        return scope.cancelled_caught

    def _customer_passed(self, conversation: Conversation, *, silent: bool) -> Ending:
        count = len(conversation.messages)
        if silent:
            what = (
                "the agent ended its turn without a message"
                if self._state.turn_ended_empty
                else f"the agent sent nothing within {self.reply_timeout_seconds:g}s"
            )
            return Ending(
                reason="agent_silent",
                detail=f"{what} and the customer had nothing more to say",
                message_count=count,
            )
        return Ending(
            reason="both_passed",
            detail="the agent's turn was over and the customer had nothing more to say",
            message_count=count,
        )

    async def _ask_customer(self, conversation: Conversation) -> Message | None:
        proposal: Message | None = None
        try:
            with anyio.CancelScope(
                deadline=anyio.current_time() + self.customer_timeout_seconds
            ) as scope:
                proposal = await self.customer.get_next_message(conversation)
        except ConfigError:
            raise
        except Exception as exc:
            raise Failed("customer", exc) from exc
        if scope.cancelled_caught:
            raise Failed(
                "customer",
                TimeoutError(
                    f"the customer took longer than {self.customer_timeout_seconds:g}s "
                    "to write a message"
                ),
            )
        return proposal

    async def _compose(
        self, conversation: Conversation, source: Source, *, settle: bool
    ) -> tuple[Conversation, Message | None] | Ending:
        """The customer's next message, with late agent messages folded in first."""
        while True:
            proposal = await self._ask_customer(conversation)
            if proposal is not None and self.typing_delays and conversation.messages:
                typing = (
                    proposal.timestamp - conversation.messages[-1].timestamp
                ).total_seconds()
                await anyio.sleep(min(self.max_typing_delay_seconds, max(0.0, typing)))
            if self.overlap == "queue":
                return conversation, proposal
            folded = 0
            if settle:  # let messages already received by a transport reach the queue
                await anyio.lowlevel.checkpoint()
            while True:  # take what the agent said meanwhile, without waiting
                try:
                    item = source.receive_nowait()
                except anyio.WouldBlock:
                    break
                result = await self._take(conversation, item)
                if isinstance(result, Ending):
                    return result
                if result is not conversation:
                    folded += 1
                conversation = result
            if not folded:
                return conversation, proposal

    async def _take(
        self, conversation: Conversation, item: Item
    ) -> Conversation | Ending:
        """Add one agent event to the conversation; an ending if it calls for one."""
        if isinstance(item, Failure):
            raise Failed(item.source, item.error)
        if isinstance(item, Closed):
            return Ending(
                reason="agent_closed",
                detail="the agent side closed the session",
                message_count=len(conversation.messages),
            )
        if isinstance(item, TurnEnded):
            return conversation
        if isinstance(item, AgentInterrupted):
            return interrupted(item, conversation, self.conversation_id)
        message = item
        if (
            conversation.messages
            and message.timestamp < conversation.messages[-1].timestamp
        ):
            message = Message(
                message.content,
                _after(conversation),
                _AGENT,
                tool_calls=message.tool_calls,
            )
        ending = await self._record(conversation.with_message(message))
        return ending if ending is not None else self._state.conversation

    async def _agent_turn(
        self, conversation: Conversation, source: Source, reply_timeout: float
    ) -> tuple[Conversation, int] | Ending:
        """Collect the agent's burst of messages for this turn."""
        received = 0
        start = anyio.current_time()
        state = self._state  # no attrs hooks on its updates (see RunState)
        state.turn_ended_empty = False
        turn_end = start + self.max_turn_seconds
        wait_until = start + reply_timeout
        quiet = self.quiet_period_seconds
        while True:
            try:  # what is already queued needs no timer
                item: Item | None = source.receive_nowait()
            except anyio.WouldBlock:
                remaining = min(wait_until, turn_end) - anyio.current_time()
                if remaining <= 0:  # silence, the quiet period or the turn limit
                    state.turn_waited = anyio.current_time() - start
                    return conversation, received
                item = None
                with anyio.move_on_after(remaining):
                    item = await source.receive()
            if item is None or isinstance(item, TurnEnded):
                state.turn_waited = anyio.current_time() - start
                state.turn_ended_empty = item is not None and received == 0
                return conversation, received
            result = await self._take(conversation, item)
            if isinstance(result, Ending):
                return result
            conversation = result
            received += 1
            wait_until = anyio.current_time() + quiet if quiet is not None else turn_end


def _after(conversation: Conversation) -> datetime:
    """Now, or the last message's timestamp if the clock would put it earlier."""
    stamp = now()
    if conversation.messages and stamp < conversation.messages[-1].timestamp:
        return conversation.messages[-1].timestamp
    return stamp
