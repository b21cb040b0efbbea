"""Group conversations: N named members, one shared transcript, a turn policy.

A team meeting, a focus group, a panel: every message of the transcript carries its
speaker (:class:`~clientsim.models.group.Speaker`), every member sees the transcript
from its own side, and a :class:`~clientsim.turns.base.TurnPolicy` chosen by name
(``round_robin``, ``earliest``, ``moderator``, ``llm_selector``, ``addressed``, or a
plugin's) decides who speaks at each turn.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final, TypeAlias

import anyio
import attrs

from clientsim import events
from clientsim._validators import a_text
from clientsim.channels.base import Channel
from clientsim.errors import ConfigError, SimulationError
from clientsim.evaluation.base import OutcomeEvaluator
from clientsim.models import (
    DEFAULT_TIMEOUTS,
    Conversation,
    ConversationResult,
    Ending,
    ErrorRecord,
    Intent,
    Message,
    MessageDraft,
    Outcomes,
    Timeouts,
    TokenUsage,
)
from clientsim.models.team import RoleTemplate
from clientsim.participants.base import Participant
from clientsim.participants.channel import ChannelParticipant
from clientsim.registry import StrategyConfig
from clientsim.runners._core import (
    NO_USAGE,
    NO_USAGE_REPORT,
    ConversationCore,
    Failed,
    ProgressCallback,
    RunState,
    _spent,
    _usage,
    as_termination,
    check_participant,
    check_positive_int,
    new_conversation_id,
)
from clientsim.runners._group_members import (
    as_audience,
    build_policy,
    check_history,
    check_opening,
    check_scalars,
    close_members,
    member_failure,
    member_seats,
    open_channels,
    opening_message,
    posted,
    seat_of,
    usage_report,
)
from clientsim.runners._group_view import (
    Labels,
    LiveRun,
    Seat,
    TurnRound,
    member_seed,
    quick_conversation,
)
from clientsim.runners.base import Runner
from clientsim.termination.base import TerminationStrategy
from clientsim.turns.base import MemberInfo, TurnPolicy


if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = [
    "GroupMember",
    "GroupSimulationRunner",
    "GroupStep",
    "MemberLike",
    "member_seed",
]

_NO_OUTCOMES: Final = Outcomes(outcomes=())


@attrs.frozen
class GroupMember:
    """A member of a group conversation: a participant with a name (and a role).

    Example:
        >>> from clientsim import LLMParticipant, ParticipantRole
        >>> GroupMember("Dana", LLMParticipant(ParticipantRole.AGENT, "offline"),
        ...             role="Designer").info
        MemberInfo(name='Dana', role='Designer', description='')

    Attributes:
        name: unique in the group; its messages' speaker name.
        participant: who writes its messages.
        role: the part it plays (shown to the others: ``"Dana (Designer)"``).
        description: what it does or knows, for policies that pick the speaker.
        audience: who its messages reach, besides itself, when they name no audience
            of their own (``("Moderator",)``: no one else); ``None``: everyone.
    """

    name: str = attrs.field(validator=a_text(non_empty=True))
    participant: Participant = attrs.field(validator=check_participant)
    role: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    description: str = attrs.field(
        default="", validator=attrs.validators.instance_of(str)
    )
    audience: tuple[str, ...] | None = attrs.field(
        default=None, kw_only=True, converter=as_audience
    )

    @property
    def info(self) -> MemberInfo:
        """What turn policies know of it."""
        return MemberInfo(self.name, self.role, self.description)


MemberLike: TypeAlias = (
    GroupMember | Participant | RoleTemplate | Channel | str | object
)
"""What may stand for a group member: a :class:`GroupMember`, a participant, a role
template or a role's name, a channel, or any agent :func:`~clientsim.runners.
resolve_agent` takes (a URL, a callable, a runnable, ``"module:attr"``)."""


@attrs.frozen
class GroupStep:
    """What one :meth:`GroupSimulationRunner.step` added.

    Attributes:
        messages: the new messages (the opening too, on the first step).
        ending: why the conversation ended, if this step ended it.
    """

    messages: tuple[Message, ...]
    ending: Ending | None = None


@attrs.define
class GroupSimulationRunner(ConversationCore, Runner):
    """Runs a conversation among N named members under a turn policy.

    Each turn the policy asks the members it wants (each sees the transcript from
    its own side: its own messages as its own, everyone else's as the other side's,
    as ``"Name (Role): text"``, but none with an ``audience`` it is not in) and
    returns the message that makes the turn, stamped with its author's
    :class:`~clientsim.models.group.Speaker` and appended.
    A policy that finds everyone passing ends the run (``"all_passed"``). After every
    message the outcome evaluator, the progress callback, the termination strategies
    and ``max_messages`` are applied as in
    :class:`~clientsim.runners.FullSimulationRunner`, with the same endings.

    A member that fails or takes longer than ``timeouts.turn`` ends the run with
    ``result.error.source`` its name (side ``"agent"`` for a real agent behind a
    channel); ``raise_on_error`` raises a :class:`~clientsim.errors.ParticipantError`.

    Time is simulated, randomness seeded: the same members and seed give the same
    transcript. Given ``history`` (the first messages of an earlier run), the runner
    takes them as said and, with the same members and seed, continues as that run did.

    Example:
        >>> import anyio
        >>> from datetime import UTC, datetime
        >>> from clientsim import GroupSimulationRunner, ScriptedParticipant
        >>> def member(*lines):
        ...     return ScriptedParticipant("agent", list(lines))
        >>> runner = GroupSimulationRunner(
        ...     [GroupMember("Ana", member("Ship it."), role="CEO"),
        ...      GroupMember("Dana", member("Not before the review."), role="Designer")],
        ...     initial_message="Do we launch on Monday?",
        ...     base_timestamp=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        ... )
        >>> result = anyio.run(runner.run)
        >>> for message in result.conversation.messages:
        ...     print(f"{message.speaker.label}: {message.content}")
        Facilitator: Do we launch on Monday?
        Ana (CEO): Ship it.
        Dana (Designer): Not before the review.
        >>> result.ending.reason
        'all_passed'

    Args:
        participants: the members (at least two, or one and an opening): each a
            :class:`GroupMember`, a participant (named by its ``name`` attribute,
            else ``"member N"``; role and description from its ``info``), a role
            template or a role's name (a member built through the ``team_role``
            participant strategy, on ``model``), a channel (a
            :class:`~clientsim.participants.channel.ChannelParticipant`), or any
            agent :func:`~clientsim.runners.resolve_agent` takes.
        turn_policy: a :class:`~clientsim.turns.base.TurnPolicy` or its name or
            config (``{"strategy": "moderator", "moderator": "Chair"}``).
        initial_message: the opening, stamped ``base_timestamp``.
        initial_speaker: who says the opening: a member's name, or an outside voice.
        intent: what the run is about (for goal judges).
        outcomes: the legal outcomes (none by default).
        max_messages: the conversation ends when it has this many messages.
        progress_callback: ``callback(conversation, progress)`` after each message.
        outcome_evaluator: decides the outcome after each message.
        termination: a strategy or a list of them (any of them ends the talk).
        min_messages: no strategy but ``max_messages`` ends the talk before it.
        raise_on_error: raise a failure instead of recording it on the result.
        base_timestamp: the opening's time (``now`` if ``None``).
        timeouts: ``turn`` bounds each member's message, ``conversation`` the run.
        model: the chat model of members given as role templates or names.
        seed: the run's seed: the turn policy's, and that of the members it builds.
        history: messages taken as already said (each with its speaker); no one is
            asked for them. Give the same ``initial_message`` as the original run.
        conversation_id: the run's id in events.
    """

    participants: Sequence[MemberLike] = attrs.field()
    turn_policy: TurnPolicy | StrategyConfig = attrs.field(
        default="round_robin", kw_only=True
    )
    initial_message: str | MessageDraft | None = attrs.field(
        default=None, kw_only=True, validator=lambda _s, _a, v: check_opening(v)
    )
    initial_speaker: str = attrs.field(default="Facilitator", kw_only=True)
    intent: Intent | None = attrs.field(
        default=None,
        kw_only=True,
        validator=attrs.validators.optional(attrs.validators.instance_of(Intent)),
    )
    outcomes: Outcomes = attrs.field(
        default=_NO_OUTCOMES,
        kw_only=True,
        validator=attrs.validators.instance_of(Outcomes),
    )
    max_messages: int = attrs.field(
        default=100, kw_only=True, validator=check_positive_int
    )
    base_timestamp: datetime | None = attrs.field(default=None, kw_only=True)
    progress_callback: ProgressCallback | None = attrs.field(
        default=None, kw_only=True, repr=False
    )
    outcome_evaluator: OutcomeEvaluator | None = attrs.field(default=None, kw_only=True)
    termination: TerminationStrategy | None = attrs.field(
        default=None, kw_only=True, converter=as_termination
    )
    min_messages: int = attrs.field(default=0, kw_only=True)
    raise_on_error: bool = attrs.field(default=False, kw_only=True)
    timeouts: Timeouts = attrs.field(
        default=DEFAULT_TIMEOUTS,
        kw_only=True,
        validator=attrs.validators.instance_of(Timeouts),
    )
    model: str | BaseChatModel = attrs.field(
        default="offline", kw_only=True, repr=False
    )
    seed: int = attrs.field(default=0, kw_only=True)
    history: Sequence[Message] = attrs.field(
        default=(), kw_only=True, converter=check_history, repr=False
    )
    conversation_id: str = attrs.field(
        factory=new_conversation_id, kw_only=True, repr=False
    )

    _state: RunState = attrs.field(init=False, factory=RunState)
    _seats: dict[str, Seat] = attrs.field(init=False, factory=dict, repr=False)
    _owned: list[Channel] = attrs.field(init=False, factory=list, repr=False)
    _policy: TurnPolicy = attrs.field(init=False, repr=False)
    _labels: Labels = attrs.field(init=False, factory=Labels, repr=False)
    _opening: Message | None = attrs.field(init=False, default=None, repr=False)
    _live: LiveRun = attrs.field(init=False, factory=LiveRun, repr=False)

    def __attrs_post_init__(self) -> None:
        self._check_options()
        check_scalars(self.seed, self.initial_speaker, self.base_timestamp)
        opening = self.initial_message is not None and not self.history
        seats, owned = member_seats(
            self.participants, model=self.model, seed=self.seed, opening=opening
        )
        self._seats = seats
        self._owned = owned
        self._infos = tuple(seat.info for seat in seats.values())
        self._policy = self._build_policy()
        self._state.conversation = quick_conversation(tuple(self.history), None)
        self._opening = self._make_opening()  # checked now, restamped if need be
        if self.history and self.initial_message is not None:
            content = (
                self.initial_message
                if isinstance(self.initial_message, str)
                else self.initial_message.content
            )
            if self.history[0].content != content:
                raise ConfigError(
                    "with history, initial_message must be the history's first "
                    "message (the opening of the run it continues), or None"
                )

    def _build_policy(self) -> TurnPolicy:
        return build_policy(self.turn_policy, self.seed, self.members)

    # ----- what the group is -----------------------------------------------------

    @property
    def members(self) -> tuple[MemberInfo, ...]:
        """The members, in the group's order."""
        return self._infos

    def participant(self, name: str) -> Participant:
        """The participant of member ``name``.

        Raises:
            ConfigError: no member has that name.
        """
        return seat_of(self._seats, name).participant

    def view(self, name: str) -> Conversation:
        """The transcript as member ``name`` sees it (without what it may not see).

        Raises:
            ConfigError: no member has that name.
        """
        return seat_of(self._seats, name).view(self._state.conversation, self._labels)

    def post(self, message: Message) -> None:
        """Add a member's ``message`` (a direct message, a thought: see
        :mod:`clientsim.population.direct`) to the transcript, between turns.

        Raises:
            ConfigError: it has no member's speaker, names non-members in its
                audience, or is earlier than the last message.
            SimulationError: no turn was taken yet, or the conversation has ended.
        """
        state, live = self._state, self._live.opened and not self._state.is_complete
        state.conversation = posted(state.conversation, message, self._seats, live)

    @property
    def usage_by_member(self) -> Mapping[str, TokenUsage]:
        """What each member's model calls have spent in this run, by name."""
        return {
            name: _spent(
                _usage(seat.participant), self._live.before.get(name, NO_USAGE)
            )
            for name, seat in self._seats.items()
        }

    @property
    def ending(self) -> Ending | None:
        """Why the conversation ended (``None`` while it goes on)."""
        return self._live.ending

    # ----- running ---------------------------------------------------------------

    async def run(self) -> ConversationResult:
        """Run the conversation to its end (after any :meth:`step` calls).

        Raises:
            SimulationError: the runner already ran, or its conversation has ended.
            ConfigError: a strategy is misconfigured for this run.
        """
        if self._live.ran or self._state.is_complete:
            raise SimulationError(
                "this GroupSimulationRunner has already run; runners are single-use, "
                "so create a new one (with fresh participants) for another conversation"
            )
        self._live.ran = True
        while (await self.step()).ending is None:
            pass
        return self.result()

    async def step(self) -> GroupStep:
        """Take one turn (on the first call, the opening too): the new messages, and
        the ending if the conversation ended.

        Raises:
            SimulationError: the conversation has already ended.
            ParticipantError: with ``raise_on_error``, a member failed.
        """
        state = self._state
        if state.is_complete:
            raise SimulationError(
                "this group conversation has ended "
                f"({self._live.ending.reason if self._live.ending else 'error'}); create a new "
                "runner for another"
            )
        first = not state.started
        if first:
            self._start()
        before = len(state.conversation.messages)
        token = events.current_conversation.set(self.conversation_id)
        ending: Ending | None = None
        try:
            if first:  # here, not in a scope of a turn: a session may hold a task group
                await open_channels(self._seats)
            ending = await self._turn_within_limits()
        except Failed as failure:
            ending = await self._fail(failure)
        finally:
            events.current_conversation.reset(token)
        if ending is not None:
            await self._finish(ending)
        return GroupStep(state.conversation.messages[before:], ending)

    def result(self) -> ConversationResult:
        """The result so far: the transcript, and once it ended its ending, error
        and token usage."""
        state = self._state
        duration = self._live.duration
        if duration is None:
            duration = (
                time.monotonic() - self._live.started_at if state.started else 0.0
            )
        return ConversationResult(
            state.conversation,
            duration,
            ending=self._live.ending,
            token_usage=usage_report(
                self._seats,
                self.usage_by_member,
                _spent(_usage(*self._judges(), self._policy), self._live.judged),
            )
            if self._state.started
            else NO_USAGE_REPORT,
            error=self._live.error,
        )

    async def aclose(self) -> None:
        """Close the sessions of channel members and the channels the runner made
        (done when the conversation ends; for a run left unfinished)."""
        owned, self._owned = self._owned, []
        await close_members(self._seats, owned)

    def _start(self) -> None:
        state = self._state
        state.started = True
        state.start_monotonic = self._live.started_at = time.monotonic()
        self._live.before = {
            name: _usage(seat.participant) for name, seat in self._seats.items()
        }
        self._live.judged = _usage(*self._judges(), self._policy)
        if events.enabled(events.CONVERSATION_STARTED):
            events.emit(
                events.CONVERSATION_STARTED,
                conversation_id=self.conversation_id,
                runner="group",
            )

    def _make_opening(self) -> Message | None:
        return opening_message(
            self.initial_message,
            self.initial_speaker,
            self._seats,
            self.base_timestamp,
            history=bool(self.history),
        )

    async def _begin(self) -> Ending | None:
        """Record the opening, or judge the history's outcome; the ending, if any."""
        self._live.opened = True
        opening = self._opening
        if opening is not None and self.base_timestamp is None:
            opening = self._make_opening()
        if opening is not None:
            return await self._record(quick_conversation((opening,), None))
        evaluator = self.outcome_evaluator
        if evaluator is not None:  # as the original run judged it, message by message
            history = tuple(self.history)
            for count in range(1, len(history) + 1):
                judged = await self._evaluate(
                    evaluator, quick_conversation(history[:count], None)
                )
                if judged.outcome is not None:
                    self._state.conversation = quick_conversation(
                        history, judged.outcome
                    )
                    break
        return None

    async def _turn_within_limits(self) -> Ending | None:
        """:meth:`_advance` under one cancel scope for both limits: first a
        member's (``timeouts.turn``, moved on at each ask), then, once the turn's
        message is in, the conversation's (``timeouts.conversation``)."""
        now = anyio.current_time()
        limits = self.timeouts
        ends = now + self._live.started_at + limits.conversation - time.monotonic()
        with anyio.CancelScope(deadline=min(ends, now + limits.turn)) as scope:
            self._live.limits = (scope, ends)
            return await self._advance()
        if anyio.current_time() < ends:
            asking = self._live.asking.asking if self._live.asking is not None else None
            name = asking or "turn_policy"
            raise Failed(
                name,
                TimeoutError(
                    f"{name} took longer than {limits.turn:g}s to write a message "
                    "(timeouts.turn)"
                ),
            )
        return Ending(
            reason="max_duration",
            detail=f"the conversation reached its maximum duration of "
            f"{limits.conversation:g}s (timeouts.conversation)",
            message_count=len(self._state.conversation.messages),
        )

    async def _advance(self) -> Ending | None:
        """One turn (the opening first, on the first call); the ending, if any."""
        if not self._live.opened:
            ending = await self._begin()
            if ending is not None:
                return ending
        transcript = self._state.conversation
        count = len(transcript.messages)
        limits = self._live.limits
        assert limits is not None  # noqa: S101 - set by _turn_within_limits
        if count >= self.max_messages:
            return Ending(
                reason="max_messages",
                detail=f"reached the limit of {self.max_messages} messages",
                message_count=count,
            )
        context = TurnRound(
            seats=self._seats,
            members=self._infos,
            transcript=transcript,
            turn=count - (1 if self.initial_message is not None else 0),
            seed=self.seed,
            timeout=self.timeouts.turn,
            labels=self._labels,
            limits=limits,
        )
        self._live.asking = context
        try:
            message = await self._policy.take_turn(context)
        except (Failed, ConfigError):
            raise
        except Exception as exc:
            raise Failed("turn_policy", exc) from exc
        if message is None:
            return Ending(
                reason="all_passed",
                detail="every member asked had nothing more to say",
                message_count=count,
            )
        if (
            not isinstance(message, Message)
            or message.speaker is None
            or message.speaker.name not in self._seats
        ):
            raise Failed(
                "turn_policy",
                SimulationError(
                    f"the turn policy {self._policy!r} returned "
                    f"{type(message).__name__} without a member's speaker; it must "
                    "return a proposal it got from context.ask() or None"
                ),
            )
        if self.outcome_evaluator or self.progress_callback or self.termination:
            scope, ends = limits  # from here on, only the conversation's limit holds
            scope.deadline = ends
        return await self._record(transcript.with_message(message))

    async def _fail(self, failure: Failed) -> Ending:
        """Record ``failure`` on the run; raise it with ``raise_on_error``."""
        seat = self._seats.get(failure.source)
        error = ErrorRecord.from_exception(failure.source, failure.error)
        if seat is not None and isinstance(seat.participant, ChannelParticipant):
            error = attrs.evolve(error, blame="agent")
        self._live.error = error
        ending = self._failed(error)
        if self.raise_on_error:
            await self._finish(ending, emit=False)
            raise member_failure(
                failure, self._state.conversation, member=seat is not None
            )
        return ending

    async def _finish(self, ending: Ending, *, emit: bool = True) -> None:
        state = self._state
        state.is_complete = True
        self._live.ending = ending
        self._live.duration = time.monotonic() - self._live.started_at
        await self.aclose()
        if emit and events.enabled(events.CONVERSATION_ENDED):
            conversation = state.conversation
            events.emit(
                events.CONVERSATION_ENDED,
                conversation_id=self.conversation_id,
                reason=ending.reason,
                message_count=len(conversation.messages),
                outcome=conversation.outcome.name if conversation.outcome else None,
                duration_seconds=self._live.duration,
            )
