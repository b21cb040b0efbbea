"""Scripted scenarios: a conversation run step by step against any agent.

A script mixes fixed customer lines, lines from the simulated customer, the agent's
turns and checks (see :mod:`clientsim.script` for the step constructors). The
``ScriptRunner`` plays one script against a simulated agent (a participant) or a
real one (a channel, as :func:`~clientsim.runners.agents.resolve_agent` gives it) and
returns a :class:`ScriptResult`: the conversation and the verdict.
:func:`run_script` runs one scenario; ``simulate(..., script=[...])`` runs the same
script once per persona, intent and repetition.

Every step is bounded by the run's :class:`~clientsim.models.Timeouts`: a customer
line, an agent turn, a check and a judge by ``turn``, the whole scenario by
``conversation``. An agent that does not answer ends the scenario as an error.

Example:
    >>> import anyio
    >>> from clientsim import run_script
    >>> from clientsim.script import agent, check, succeed, user
    >>> async def support_bot(message):
    ...     return "I've sent you a reset link."
    >>> def link_sent(conversation):
    ...     assert "reset link" in conversation.messages[-1].content
    >>> result = anyio.run(lambda: run_script(support_bot, [
    ...     user("I forgot my password"), agent(), check(link_sent), succeed(),
    ... ]))
    >>> result.verdict, [message.content for message in result.conversation.messages]
    ('passed', ['I forgot my password', "I've sent you a reset link."])
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final, TypeVar

import anyio
import attrs

from clientsim._runtime import run_sync
from clientsim._runtime import task_group as user_task_group
from clientsim.channels.base import (
    AgentInterrupted,
    Channel,
    QueueSession,
    Session,
    TurnEnded,
    silenced,
)
from clientsim.errors import ConfigError
from clientsim.models import (
    DEFAULT_TIMEOUTS,
    Conversation,
    Ending,
    Intent,
    Message,
    Outcome,
    Outcomes,
    ParticipantRole,
    Timeouts,
    ToolCall,
)
from clientsim.models.conversation import stamped
from clientsim.models.criteria import CriteriaVerdict
from clientsim.models.script_result import ScriptResult, Verdict
from clientsim.participants.base import Participant
from clientsim.runners._core import (
    ConversationCore,
    Failed,
    ProgressCallback,
    RunState,
    as_termination,
    new_conversation_id,
)
from clientsim.runners._hybrid_sources import (
    INBOX_SIZE,
    Closed,
    Failure,
    Item,
    QueueSource,
    Source,
    StreamSource,
    interrupted,
    pump,
)
from clientsim.runners.base import Runner
from clientsim.runners.hybrid import _after
from clientsim.runners.script_steps import (
    AgentTurn,
    Check,
    CheckFunction,
    Judge,
    Proceed,
    Step,
    UserLine,
    describe_step,
    is_async,
)
from clientsim.termination.base import TerminationStrategy


if TYPE_CHECKING:
    from anyio.abc import TaskGroup
    from langchain_core.language_models import BaseChatModel

    from clientsim.evaluation.base import OutcomeEvaluator
    from clientsim.evaluation.criteria import CriteriaJudge
    from clientsim.runners.batch import ConversationModels


__all__ = ["SCRIPT_OUTCOMES", "ScriptResult", "ScriptRunner", "Verdict"]

T = TypeVar("T")

_CUSTOMER: Final = ParticipantRole.CUSTOMER
_AGENT: Final = ParticipantRole.AGENT
_PASSED: Final = Outcome("passed", "every step of the script passed")
_FAILED: Final = Outcome("failed", "a step of the script failed")
SCRIPT_OUTCOMES: Final = Outcomes((_PASSED, _FAILED))
"""A scripted conversation's outcomes: its verdict (an error reaches none)."""
_NO_LIMIT: Final = 1_000_000
"""The script, not a message count, decides a scripted conversation's length."""


@attrs.define
class ScriptRunner(ConversationCore, Runner):
    """Plays a script against an agent: a participant (simulated) or a channel (real).

    Args:
        steps: the checked script (:func:`~clientsim.runners.script_steps.
            check_script`).
        customer: the simulated customer (writes ``user()`` lines and the customer's
            side of ``proceed()``).
        agent: the agent under test.
        intent: the customer's intent.
        timeouts: every step's bound (``turn``) and the scenario's (``conversation``).
        termination: strategies that end the conversation (``proceed()`` stops).
        judge_model: the chat model of ``judge()`` steps that name none.
        models: the conversation's models inside a batch (judges' models go through
            them: seeded, recorded or replayed).
        seed: the conversation's seed (the judges').
        quiet_period_seconds: silence that ends an agent's turn when its channel
            does not say so (a WebSocket agent); also how long ``agent()`` waits for
            an agent that was sent nothing to speak on its own.
        reply_timeout_seconds: longest wait for the agent's first message of a turn
            (``None``: ``timeouts.turn``); past it the scenario is an error.
        max_turn_seconds: longest an agent's turn may go on (``None``:
            ``timeouts.turn``).
    """

    steps: tuple[Step, ...]
    customer: Participant
    agent: Participant | Channel
    intent: Intent | None = None
    timeouts: Timeouts = attrs.field(default=DEFAULT_TIMEOUTS, kw_only=True)
    termination: TerminationStrategy | None = attrs.field(
        default=None, kw_only=True, converter=as_termination
    )
    judge_model: str | BaseChatModel = attrs.field(default="offline", kw_only=True)
    models: ConversationModels | None = attrs.field(
        default=None, kw_only=True, repr=False
    )
    seed: int = attrs.field(default=0, kw_only=True)
    quiet_period_seconds: float | None = attrs.field(default=2.0, kw_only=True)
    reply_timeout_seconds: float | None = attrs.field(default=None, kw_only=True)
    max_turn_seconds: float | None = attrs.field(default=None, kw_only=True)
    conversation_id: str = attrs.field(
        factory=new_conversation_id, kw_only=True, repr=False
    )
    outcomes: Outcomes = attrs.field(default=SCRIPT_OUTCOMES, init=False)
    max_messages: int = attrs.field(default=_NO_LIMIT, init=False)
    min_messages: int = attrs.field(default=0, init=False)
    progress_callback: ProgressCallback | None = attrs.field(default=None, init=False)
    outcome_evaluator: OutcomeEvaluator | None = attrs.field(default=None, init=False)
    raise_on_error: bool = attrs.field(default=False, init=False)

    _state: RunState = attrs.field(init=False, factory=RunState)
    _index: int | None = attrs.field(init=False, default=None)
    _ended: Ending | None = attrs.field(init=False, default=None)
    _interrupt: Ending | None = attrs.field(init=False, default=None)
    _decided: tuple[Verdict, int | None, str] | None = attrs.field(
        init=False, default=None
    )
    _judged: list[CriteriaVerdict] = attrs.field(init=False, factory=list)
    _judges_run: list[CriteriaJudge] = attrs.field(init=False, factory=list)
    _pending: int = attrs.field(init=False, default=0)
    _session: Session | None = attrs.field(init=False, default=None)
    _source: Source | None = attrs.field(init=False, default=None)
    _tasks: TaskGroup | None = attrs.field(init=False, default=None)

    @property
    def _hook_seconds(self) -> float:
        return self.timeouts.turn

    @property
    def _reply_seconds(self) -> float:
        return self.reply_timeout_seconds or self.timeouts.turn

    async def run(self) -> ScriptResult:
        """Play the script.

        Returns:
            The conversation and the verdict; an error (the conversation so far is
            kept) is the verdict ``"error"``, never raised.

        Raises:
            SimulationError: the runner was already run.
            ConfigError: a strategy is misconfigured for this run.
        """
        result = await self._execute(
            self._run, runner="script", customer=self.customer, agent=self.agent
        )
        if self._decided is not None and result.error is None:
            verdict, step, reason = self._decided
        else:
            verdict, step = "error", self._index
            reason = result.ending.detail if result.ending is not None else "error"
            if step is not None:
                reason = f"step {step} {describe_step(self.steps[step])}: {reason}"
        usage = result.token_usage
        for judge in self._judges_run:  # made by the steps: not in the runner's count
            usage = attrs.evolve(usage, judge=usage.judge + judge.token_usage)
        return ScriptResult(
            result.conversation,
            result.duration_seconds,
            ending=result.ending,
            token_usage=usage,
            error=result.error,
            verdict=verdict,
            reason=reason,
            step=step,
            criteria=_together(self._judged) or result.criteria,
            judge_verdicts=tuple(self._judged),
            seed=self.seed,
        )

    async def _run(self) -> Ending:
        limit = self.timeouts.conversation
        ending: Ending | None = None
        with anyio.CancelScope(deadline=anyio.current_time() + limit):
            async with contextlib.AsyncExitStack() as stack:
                if isinstance(self.agent, Channel):
                    await self._open(self.agent, stack)
                ending = await self._play()
                if self._tasks is not None:  # a send still in flight is abandoned
                    self._tasks.cancel_scope.cancel()
        if ending is None:  # the deadline passed
            raise Failed(
                "agent" if self._pending else "simulator",
                TimeoutError(f"the scenario ran past its {limit:g}s limit"),
            )
        return ending

    async def _open(self, channel: Channel, stack: contextlib.AsyncExitStack) -> None:
        if self.models is not None:
            channel = self.models.channel(channel)
        try:
            with anyio.fail_after(self.timeouts.turn):
                session = await channel.create_session()
            await stack.enter_async_context(session)
        except ConfigError:
            raise
        except Exception as exc:
            raise Failed("channel", exc) from exc
        self._session = session
        self._tasks = await stack.enter_async_context(user_task_group())
        if isinstance(session, QueueSession):
            self._source = QueueSource(session, self._state)
            return
        inbox_send, inbox = anyio.create_memory_object_stream[Item](INBOX_SIZE)
        await stack.enter_async_context(inbox_send)
        await stack.enter_async_context(inbox)
        self._tasks.start_soon(pump, session, inbox_send)
        self._source = StreamSource(inbox, inbox_send, self._state)

    async def _play(self) -> Ending:
        for index, step in enumerate(self.steps):
            self._index = index
            await self._step(index, step)
            if self._decided is not None:
                return self._verdict()
        count = len(self.steps)
        self._decided = (
            "passed",
            None,
            f"the script ran to its end ({count} step{'s' * (count != 1)})",
        )
        return self._verdict()

    def _verdict(self) -> Ending:
        assert self._decided is not None  # noqa: S101 - set by the caller
        verdict, _, reason = self._decided
        state = self._state
        state.conversation = state.conversation.with_outcome(
            _PASSED if verdict == "passed" else _FAILED
        )
        if self._interrupt is not None:
            return self._interrupt  # "agent_interrupted", as in a free conversation
        return Ending(
            reason=f"script_{verdict}",
            detail=reason,
            message_count=len(state.conversation.messages),
        )

    def _decide(self, verdict: Verdict, index: int, reason: str) -> None:
        step = describe_step(self.steps[index])
        self._decided = (verdict, index, f"step {index} {step}: {reason}")

    async def _step(self, index: int, step: Step) -> None:
        if isinstance(step, UserLine):
            await self._user(step.text)
        elif isinstance(step, AgentTurn):
            await self._agent_turn()
        elif isinstance(step, Proceed):
            await self._proceed(index, step)
        elif isinstance(step, Check):
            await self._check_step(index, step.fn, "check")
        elif isinstance(step, Judge):
            await self._judge(index, step)
        else:
            verdict: Verdict = "passed" if step.verdict == "passed" else "failed"
            self._decide(verdict, index, step.reason or f"the script says {verdict}")

    # ----- the conversation's sides --------------------------------------------------

    async def _record_message(
        self,
        content: str,
        sender: ParticipantRole,
        tool_calls: tuple[ToolCall, ...] = (),
    ) -> None:
        conversation = self._state.conversation
        message = stamped(content, _after(conversation), sender)
        if tool_calls:  # the agent's tool calls stay on its message
            message = Message(
                message.content, message.timestamp, sender, tool_calls=tool_calls
            )
        ending = await self._record(conversation.with_message(message))
        if ending is not None and self._ended is None:
            self._ended = ending
        if sender is _CUSTOMER and self._source is not None:
            assert self._tasks is not None  # noqa: S101 - opened with the source
            assert self._session is not None  # noqa: S101 - opened with the source
            self._pending += 1
            self._tasks.start_soon(self._source.deliver, self._session, message)

    async def _user(self, text: str | None) -> bool:
        """The customer's line; ``False`` if the simulated customer had none."""
        if text is None:
            proposal = await self._bounded(
                "customer",
                "the customer took longer than {:g}s to write a message",
                self.customer.get_next_message,
                self._state.conversation,
            )
            if proposal is None:
                self._end("customer_done", "the customer had nothing more to say")
                return False
            text = proposal.content
        await self._record_message(text, _CUSTOMER)
        return True

    async def _agent_turn(self) -> None:
        if isinstance(self.agent, Participant):
            proposal = await self._bounded(
                "agent",
                "the agent took longer than {:g}s to answer",
                self.agent.get_next_message,
                self._state.conversation,
            )
            if proposal is not None:
                await self._record_message(proposal.content, _AGENT)
            return
        await self._read_turn()

    async def _read_turn(self) -> None:
        """The agent's next burst of messages, from its channel."""
        source, session = self._source, self._session
        assert source is not None  # noqa: S101 - a channel's run opened them
        assert session is not None  # noqa: S101
        expected = self._pending > 0
        quiet = self.quiet_period_seconds
        start = anyio.current_time()
        turn_end = start + (self.max_turn_seconds or self.timeouts.turn)
        wait_until = start + self._first_wait(session, expected=expected)
        received = 0
        while True:
            try:
                item: Item | None = source.receive_nowait()
            except anyio.WouldBlock:
                item = None
                remaining = min(wait_until, turn_end) - anyio.current_time()
                if remaining > 0:
                    with anyio.move_on_after(remaining):
                        item = await source.receive()
            if item is None or isinstance(item, TurnEnded):
                if expected and item is None and received == 0:
                    self._silent(session, anyio.current_time() - start)
                self._pending -= expected
                return
            if not await self._take(item):
                return
            received += 1
            wait_until = anyio.current_time() + quiet if quiet is not None else math.inf

    def _first_wait(self, session: Session, *, expected: bool) -> float:
        """How long to wait for the turn's first message."""
        if expected:
            return self._reply_seconds
        if isinstance(session, QueueSession) and session.send_completes_turn:
            return 0.0  # nothing was sent: nothing will come
        return self.quiet_period_seconds or 0.0  # it may speak on its own

    async def _take(self, item: Message | AgentInterrupted | Failure | Closed) -> bool:
        """Add an agent event to the conversation; ``False`` if the session ended."""
        if isinstance(item, Failure):
            raise Failed(item.source, item.error)
        if isinstance(item, Closed):
            self._pending = 0
            self._end("agent_closed", "the agent side closed the session")
            return False
        if isinstance(item, AgentInterrupted):  # it waits for an answer: the end
            self._pending = 0
            ending = interrupted(item, self._state.conversation, self.conversation_id)
            self._ended = self._interrupt = ending
            index = self._index or 0
            self._decide("failed", index, f"the agent stopped to ask: {ending.detail}")
            return False
        await self._record_message(item.content, _AGENT, item.tool_calls)
        return True

    def _silent(self, session: Session, waited: float) -> None:
        detail = f"the agent sent nothing within {waited:g}s"
        error = silenced(session, detail)
        if error is not None:
            raise Failed("channel", error)
        raise Failed("agent", TimeoutError(detail))

    def _end(self, reason: str, detail: str) -> None:
        if self._ended is None:
            self._ended = Ending(
                reason=reason,
                detail=detail,
                message_count=len(self._state.conversation.messages),
            )

    def _owes_reply(self) -> bool:
        if isinstance(self.agent, Participant):
            last = self._state.conversation.last_message
            return last is not None and last.sender is _CUSTOMER
        return self._pending > 0

    async def _proceed(self, index: int, step: Proceed) -> None:
        if self._ended is None and self._owes_reply():
            await self._agent_turn()
        for _ in range(step.turns):
            if self._ended is not None:
                return
            if not await self._user(None) or self._ended is not None:
                return
            await self._agent_turn()
            if step.on_turn is not None:
                await self._check_step(index, step.on_turn, "on_turn")
                if self._decided is not None:
                    return

    # ----- checks and judges ---------------------------------------------------------

    async def _check_step(self, index: int, fn: CheckFunction, source: str) -> None:
        """``fn(conversation)``: an ``AssertionError`` or ``False`` fails the scenario."""
        call = _awaited(fn) if is_async(fn) else _in_thread(fn)
        try:
            result = await self._bounded(
                source,
                f"{describe_step(self.steps[index])} took longer than {{:g}}s",
                call,
                self._state.conversation,
                catch=False,
            )
        except AssertionError as exc:
            self._decide("failed", index, str(exc) or "AssertionError")
            return
        except (Failed, ConfigError):
            raise
        except Exception as exc:
            raise Failed(source, exc) from exc
        if result is False:
            self._decide("failed", index, f"{source} returned False")

    async def _judge(self, index: int, step: Judge) -> None:
        from clientsim.evaluation.criteria import CriteriaJudge  # noqa: PLC0415

        model = step.model if step.model is not None else self.judge_model
        if self.models is not None:
            model = self.models.model(model, "judge")
        judge = CriteriaJudge(
            list(step.criteria), model, seed=self.seed, timeouts=self.timeouts
        )
        self._judges_run.append(judge)
        verdict = await self._bounded(
            "judge",
            "the judge took longer than {:g}s",
            judge.judge,
            self._state.conversation,
        )
        self._judged.append(verdict)
        if not verdict.passed:
            failed = verdict.failed
            reasons = "; ".join(f"{item.criterion!r}: {item.reason}" for item in failed)
            self._decide(
                "failed",
                index,
                f"{len(failed)} of {len(step.criteria)} criteria failed: {reasons}",
            )

    async def _bounded(
        self,
        source: str,
        what: str,
        call: Callable[[Conversation], Awaitable[T]],
        conversation: Conversation,
        *,
        catch: bool = True,
    ) -> T:
        """``await call(conversation)`` within a turn; a failure or overrun is the
        scenario's error from ``source`` (with ``catch=False`` exceptions go out)."""
        limit = self.timeouts.turn
        result: list[T] = []
        try:
            with anyio.move_on_after(limit):
                result.append(await call(conversation))
        except ConfigError:
            raise
        except Exception as exc:
            if not catch:
                raise
            raise Failed(source, exc) from exc
        if not result:
            raise Failed(source, TimeoutError(what.format(limit)))
        return result[0]


def _together(verdicts: list[CriteriaVerdict]) -> CriteriaVerdict | None:
    """The verdicts of every judge step as one (``None`` if none ran)."""
    if not verdicts:
        return None
    return CriteriaVerdict(
        tuple(item for verdict in verdicts for item in verdict.verdicts)
    )


def _awaited(fn: CheckFunction) -> Callable[[Conversation], Awaitable[object]]:
    async def call(conversation: Conversation) -> object:
        return await fn(conversation)  # type: ignore[misc]

    return call


def _in_thread(fn: CheckFunction) -> Callable[[Conversation], Awaitable[object]]:
    async def call(conversation: Conversation) -> object:
        result = await run_sync(fn, conversation, name="check")
        if isinstance(result, Awaitable):  # a lambda around a coroutine function
            return await result
        return result

    return call
