"""The group runner's members as it runs them: each one's own view of the transcript,
built incrementally, and the context a turn policy asks them through."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

import anyio

from clientsim.errors import ConfigError, ParticipantError
from clientsim.models import (
    Conversation,
    Ending,
    ErrorRecord,
    Message,
    Outcome,
    ParticipantRole,
    TokenUsage,
)
from clientsim.models.conversation import stamped
from clientsim.models.group import Speaker
from clientsim.participants.base import Participant
from clientsim.runners._core import NO_USAGE, Failed
from clientsim.turns.base import MemberInfo


__all__ = [
    "LiveRun",
    "Seat",
    "TurnRound",
    "derived_seed",
    "labelled",
    "member_seed",
    "quick_conversation",
    "with_speaker",
]

_new: Final = object.__new__
_set: Final = object.__setattr__
_AGENT: Final = ParticipantRole.AGENT
_CUSTOMER: Final = ParticipantRole.CUSTOMER


def derived_seed(seed: int, *parts: object) -> int:
    """A seed for one part of a run (a member, a turn), from the run's seed alone:
    the same in every process (no ``hash()`` salt)."""
    text = ":".join(str(part) for part in (seed, *parts))
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def member_seed(seed: int, name: str) -> int:
    """The seed a member built by the runner gets: from the run's seed and the
    member's name only, so adding a member changes no one else's.

    Example:
        >>> member_seed(0, "CEO") == member_seed(0, "CEO") != member_seed(1, "CEO")
        True
    """
    return derived_seed(seed, "member", name)


def quick_conversation(
    messages: tuple[Message, ...], outcome: Outcome | None
) -> Conversation:
    """``Conversation(messages, outcome)`` for messages that were checked already."""
    conversation = _new(Conversation)
    _set(conversation, "messages", messages)
    _set(conversation, "outcome", outcome)
    return conversation


def with_speaker(
    message: Message,
    speaker: Speaker,
    audience: tuple[str, ...] | None = None,
) -> Message:
    """``message`` carrying ``speaker`` (a copy; its other values were checked), and
    ``audience`` when it has none of its own."""
    chosen = message.audience if message.audience is not None else audience
    if message.speaker == speaker and message.audience == chosen:
        return message
    copy = _new(Message)
    _set(copy, "content", message.content)
    _set(copy, "timestamp", message.timestamp)
    _set(copy, "sender", message.sender)
    _set(copy, "tool_calls", message.tool_calls)
    _set(copy, "speaker", speaker)
    _set(copy, "audience", chosen)
    return copy


def restamped(message: Message, when: datetime) -> Message:
    """``message`` sent at ``when`` instead (a copy; its other values were checked)."""
    copy = _new(Message)
    for name in ("content", "sender", "tool_calls", "speaker", "audience"):
        _set(copy, name, getattr(message, name))
    _set(copy, "timestamp", when)
    return copy


def labelled(message: Message) -> str:
    """How a member sees another's message: ``"Name (Role): text"``, or
    ``"Name (Role), to you privately: text"`` for one sent to only some."""
    speaker = message.speaker
    label = speaker.label if speaker is not None else message.sender.value
    if message.audience is not None:
        label += ", to you privately"
    return f"{label}: {message.content}"


class LiveRun:
    """What a group run changes as it goes, apart from the conversation itself: a
    plain object (the runner is an attrs class whose assignments run its hooks)."""

    __slots__ = (
        "asking",
        "before",
        "duration",
        "ending",
        "error",
        "judged",
        "limits",
        "opened",
        "ran",
        "started_at",
    )

    def __init__(self) -> None:
        self.limits: tuple[anyio.CancelScope, float] | None = None
        self.asking: TurnRound | None = None
        self.opened = False
        self.ran = False
        self.ending: Ending | None = None
        self.error: ErrorRecord | None = None
        self.duration: float | None = None
        self.started_at = 0.0
        self.before: dict[str, TokenUsage] = {}
        self.judged = NO_USAGE


class Labels:
    """Everyone else's messages as a member sees them: ``"label: content"``, sent by
    the other side. Made once per transcript message and side, and shared by every
    member of that side."""

    __slots__ = ("_by_side",)

    def __init__(self) -> None:
        self._by_side: dict[ParticipantRole, list[Message]] = {
            _AGENT: [],
            _CUSTOMER: [],
        }

    def upto(
        self, side: ParticipantRole, messages: tuple[Message, ...]
    ) -> list[Message]:
        """The labelled copies, for ``side``, of every message of ``messages``."""
        made = self._by_side[side]
        for message in messages[len(made) :]:
            speaker = message.speaker
            copy = stamped(labelled(message), message.timestamp, side)
            if speaker is not None:
                _set(copy, "speaker", speaker)
            made.append(copy)
        return made


class Seat:
    """One member in a run: its participant, its side, who its messages reach by
    default (``None``: everyone) and its view so far."""

    __slots__ = (
        "_seen",
        "_view",
        "audience",
        "info",
        "other",
        "participant",
        "side",
        "speaker",
    )

    def __init__(
        self,
        info: MemberInfo,
        participant: Participant,
        audience: tuple[str, ...] | None = None,
    ) -> None:
        self.info = info
        self.participant = participant
        self.audience = audience
        role = getattr(participant, "role", None)
        self.side = role if isinstance(role, ParticipantRole) else _AGENT
        self.other = self.side.other
        self.speaker = info.speaker
        self._view = quick_conversation((), None)
        self._seen = 0

    def seen_until(self) -> datetime | None:
        """When the last message of its latest view was sent (``None``: none)."""
        last = self._view.last_message
        return last.timestamp if last is not None else None

    def view(self, transcript: Conversation, labels: Labels) -> Conversation:
        """The transcript from this member's side (only new messages converted),
        without the messages it is not in the audience of."""
        messages = transcript.messages
        seen = self._seen
        view = self._view
        if seen == len(messages) and view.outcome is transcript.outcome:
            return view
        name = self.info.name
        shown = labels.upto(self.other, messages)
        added = [
            message
            if message.speaker is not None and message.speaker.name == name
            else shown[index]
            for index, message in enumerate(messages[seen:], seen)
            if message.audience is None or message.visible_to(name)
        ]
        self._view = quick_conversation(
            (*view.messages, *added) if seen else tuple(added), transcript.outcome
        )
        self._seen = len(messages)
        return self._view


class TurnRound:
    """The :class:`~clientsim.turns.base.TurnContext` of one turn."""

    __slots__ = (
        "_asks",
        "_ends",
        "_labels",
        "_pending",
        "_rng",
        "_scope",
        "_seats",
        "_seed",
        "_timeout",
        "members",
        "transcript",
        "turn",
    )

    def __init__(
        self,
        *,
        seats: Mapping[str, Seat],
        members: tuple[MemberInfo, ...],
        transcript: Conversation,
        turn: int,
        seed: int,
        timeout: float,
        labels: Labels,
        limits: tuple[anyio.CancelScope, float],
    ) -> None:
        self._seats = seats
        self.members = members
        self.transcript = transcript
        self.turn = turn
        self._seed = seed
        self._timeout = timeout
        self._labels = labels
        self._rng: random.Random | None = None
        self._scope, self._ends = limits
        self._asks = 0
        self._pending: dict[str, None] = {}

    @property
    def asking(self) -> str | None:
        """Who was being asked when the turn's time ran out (the first of several)."""
        return next(iter(self._pending), None)

    @property
    def rng(self) -> random.Random:
        """Seeded by the run's seed and the turn's number only."""
        if self._rng is None:
            self._rng = random.Random(derived_seed(self._seed, "turn", self.turn))
        return self._rng

    async def ask(self, name: str) -> Message | None:
        seat = self._seats.get(name)
        if seat is None:
            raise ConfigError(
                f"a turn policy asked for {name!r}, who is not a member of the group; "
                f"the members are {', '.join(map(repr, self._seats))}"
            )
        view = seat.view(self.transcript, self._labels)
        if self._asks:  # the runner's scope gave the first ask its time already
            self._scope.deadline = min(self._ends, anyio.current_time() + self._timeout)
        self._asks += 1
        self._pending[name] = None
        try:
            proposal = await seat.participant.get_next_message(view)
        except ConfigError:
            raise
        except Exception as exc:
            raise Failed(name, exc) from exc
        del self._pending[name]  # not on cancellation: then it was too slow
        if proposal is None:
            return None
        return with_speaker(self._checked(seat, proposal), seat.speaker, seat.audience)

    def _checked(self, seat: Seat, proposal: object) -> Message:
        name = seat.info.name
        if not isinstance(proposal, Message):
            raise Failed(
                name,
                ParticipantError(
                    f"{name} returned {type(proposal).__name__}; get_next_message "
                    "must return a Message or None"
                ),
            )
        if proposal.sender is not seat.side:
            raise Failed(
                name,
                ParticipantError(
                    f"{name} returned a message with sender {proposal.sender.name}; "
                    f"its messages must have sender {seat.side.name} (its side)"
                ),
            )
        last = self.transcript.last_message
        if last is not None and proposal.timestamp < last.timestamp:
            seen = seat.seen_until()
            if seen is None:  # it saw nothing: the messages so far were hidden from it
                return restamped(proposal, last.timestamp)
            if seen < last.timestamp and proposal.timestamp >= seen:
                # It wrote after the last message it could see; the later ones were
                # hidden from it: its message comes as long after the last one.
                return restamped(proposal, last.timestamp + (proposal.timestamp - seen))
            raise Failed(
                name,
                ParticipantError(
                    f"{name} proposed a message at {proposal.timestamp.isoformat()}, "
                    f"earlier than the last message ({last.timestamp.isoformat()}); "
                    "timestamps must not go back"
                ),
            )
        return proposal

    async def ask_each(self, names: Sequence[str]) -> Mapping[str, Message | None]:
        if len(names) == 1:
            return {names[0]: await self.ask(names[0])}
        found: dict[str, Message | None] = {}
        failures: dict[str, BaseException] = {}

        async def one(name: str, scope: anyio.CancelScope) -> None:
            try:
                found[name] = await self.ask(name)
            except (Failed, ConfigError) as exc:
                failures[name] = exc
                scope.cancel()

        async with anyio.create_task_group() as group:
            for name in names:
                group.start_soon(one, name, group.cancel_scope)
        for name in names:  # the first failure in the order asked
            if name in failures:
                raise failures[name]
        return {name: found.get(name) for name in names}
