"""Turning what a user gives as group members into the runner's seats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeGuard

import anyio

from clientsim import factory
from clientsim.channels.base import Channel
from clientsim.errors import (
    ConfigError,
    ParticipantError,
    SimulationError,
    UnknownStrategyError,
)
from clientsim.models import (
    Conversation,
    Message,
    MessageDraft,
    ParticipantRole,
    TokenUsage,
    TokenUsageReport,
)
from clientsim.models.conversation import stamped
from clientsim.models.group import Speaker
from clientsim.models.team import RoleTemplate, role_key
from clientsim.participants.base import Participant
from clientsim.participants.channel import ChannelParticipant
from clientsim.runners._core import NO_USAGE, NO_USAGE_REPORT, Failed
from clientsim.runners._group_view import Seat, derived_seed, with_speaker
from clientsim.runners.agents import builds_a_channel, resolve_agent
from clientsim.turns.base import MemberInfo, TurnPolicy


__all__ = [
    "as_audience",
    "build_policy",
    "check_audience",
    "check_history",
    "check_opening",
    "check_scalars",
    "member_failure",
    "member_seats",
    "opening_message",
    "posted",
    "seat_of",
]

_FORMS = (
    "a GroupMember, a Participant, a RoleTemplate or a role's name, a Channel, or an "
    "agent (a URL, a callable, a LangChain runnable, 'module:attr')"
)


def _info_of(participant: Participant, default: str) -> MemberInfo:
    info = getattr(participant, "info", None)
    if isinstance(info, MemberInfo):
        return info
    name = getattr(participant, "name", None)
    return MemberInfo(name if isinstance(name, str) and name.strip() else default)


def _is_role(value: object) -> TypeGuard[RoleTemplate | str]:
    if isinstance(value, RoleTemplate):
        return True
    if not isinstance(value, str) or not value.strip() or "://" in value:
        return False
    try:
        return role_key(value) in factory.roles
    except Exception:  # noqa: BLE001 - no role registry (or a broken plugin): not a role
        return False


def _role_member(
    value: RoleTemplate | str, *, model: object, seed: int, taken: set[str]
) -> Participant:
    template = value if isinstance(value, RoleTemplate) else factory.build_role(value)
    name = template.name
    if name in taken:  # a second member in the same role
        number = 2
        while f"{name} {number}" in taken:
            number += 1
        name = f"{name} {number}"
    return factory.build_participant(
        {
            "strategy": "team_role",
            "role": template,
            "model": model,
            "seed": derived_seed(seed, "member", name),
            "name": name,
        }
    )


def member_seats(
    participants: object, *, model: object, seed: int, opening: bool
) -> tuple[dict[str, Seat], list[Channel]]:
    """The seats by name, in order, and the channels made here (to close).

    Raises:
        ConfigError: too few members, a duplicate name, a value that is no member.
    """
    from clientsim.runners.group import GroupMember  # noqa: PLC0415 - its own module's

    if isinstance(participants, str | bytes) or not isinstance(participants, Sequence):
        raise ConfigError(
            f"participants must be a list of members ({_FORMS}); got "
            f"{type(participants).__name__}"
        )
    least = 1 if opening else 2
    if len(participants) < least:
        raise ConfigError(
            f"a group needs at least 2 members (or 1 and an initial_message); got "
            f"{len(participants)}"
        )
    seats: dict[str, Seat] = {}
    owned: list[Channel] = []
    for index, value in enumerate(participants):
        where = f"participants[{index}]"
        default = f"member {index + 1}"
        audience = value.audience if isinstance(value, GroupMember) else None
        if isinstance(value, GroupMember):
            info, participant = value.info, value.participant
        elif isinstance(value, Participant):
            participant = value
            info = _info_of(value, default)
        elif _is_role(value):
            participant = _role_member(
                value,
                model=model,
                seed=seed,
                taken=set(seats),
            )
            info = _info_of(participant, default)
        else:
            agent = _resolve(value, where)
            if isinstance(agent, Channel):
                if builds_a_channel(value):
                    owned.append(agent)
                participant = ChannelParticipant(agent, name=default)
            else:
                participant = agent
            info = _info_of(participant, default)
        if info.name in seats:
            raise ConfigError(
                f"{where}: the name {info.name!r} is taken by another member; member "
                "names must be unique (give a GroupMember with a name of its own)"
            )
        seats[info.name] = Seat(info, participant, audience)
    _check_audiences(seats)
    return seats, owned


def _check_audiences(seats: Mapping[str, Seat]) -> None:
    for seat in seats.values():
        check_audience(seat.audience, seats, f"member {seat.info.name!r}'s audience")


def build_policy(
    policy: object, seed: int, members: Sequence[MemberInfo]
) -> TurnPolicy:
    """The runner's turn policy from what it was given, checked against the group."""
    if isinstance(policy, str | Mapping):
        policy = factory.build_turn_policy(policy, seed=seed)
    if not isinstance(policy, TurnPolicy):
        raise ConfigError(
            "turn_policy must be a TurnPolicy (a subclass with an async "
            "take_turn(context) method) or the name or config of one ("
            f"{', '.join(map(repr, factory.turn_policies.names()))}); got "
            f"{type(policy).__name__}"
        )
    check = getattr(policy, "check_members", None)
    if callable(check):
        check(members)
    return policy


def seat_of(seats: Mapping[str, Seat], name: str) -> Seat:
    """Member ``name``'s seat; a :class:`ConfigError` if no member has that name."""
    seat = seats.get(name)
    if seat is None:
        raise ConfigError(
            f"no member is called {name!r}; the members are "
            f"{', '.join(map(repr, seats))}"
        )
    return seat


def posted(
    transcript: Conversation, message: object, seats: Mapping[str, Seat], open_: bool
) -> Conversation:
    """``transcript`` with a member's ``message`` added between turns (see
    :meth:`~clientsim.runners.group.GroupSimulationRunner.post`)."""
    if not open_:
        raise SimulationError(
            "post() adds a message between turns: take a first step() before, and "
            "none once the conversation has ended"
        )
    speaker = message.speaker if isinstance(message, Message) else None
    if not isinstance(message, Message) or speaker is None or speaker.name not in seats:
        raise ConfigError(
            f"post() takes a Message whose speaker is a member ({', '.join(seats)}); "
            f"got {message!r}"
        )
    check_audience(message.audience, seats, "the message's audience")
    last = transcript.last_message
    if last is not None and message.timestamp < last.timestamp:
        raise ConfigError(
            f"a posted message must not be earlier than the last message "
            f"({last.timestamp.isoformat()}); got {message.timestamp.isoformat()}"
        )
    return transcript.with_message(message)


def as_audience(value: object) -> tuple[str, ...] | None:
    """A member's default audience as a tuple of names (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ConfigError(f"audience must be a list of member names; got {value!r}")
    names = tuple(value)
    if not all(isinstance(name, str) and name.strip() for name in names):
        raise ConfigError(f"audience must hold member names; got {names!r}")
    return names


def check_audience(
    audience: Sequence[str] | None, seats: Mapping[str, Seat], what: str
) -> None:
    """Raise :class:`ConfigError` unless every name of ``audience`` is a member's."""
    unknown = [name for name in audience or () if name not in seats]
    if unknown:
        raise ConfigError(
            f"{what} names {', '.join(map(repr, unknown))}, who are not members of "
            f"the group; the members are {', '.join(map(repr, seats))}"
        )


def _resolve(value: object, where: str) -> Participant | Channel:
    try:
        return resolve_agent(value, where=where)
    except UnknownStrategyError:
        raise
    except ConfigError as exc:
        try:
            roles = ", ".join(repr(name) for name in factory.roles.names())
        except Exception:  # noqa: BLE001 - the message must not fail
            roles = ""
        raise ConfigError(
            f"{where} must be {_FORMS}; got {value!r}: {exc} (known roles: "
            f"{roles or 'none'})"
        ) from exc


def check_history(value: object) -> tuple[Message, ...]:
    """``history`` as a tuple of messages with speakers, in time order."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigError(
            f"history must be a sequence of Messages; got {type(value).__name__}"
        )
    messages = tuple(value)
    last: datetime | None = None
    for index, message in enumerate(messages):
        if not isinstance(message, Message):
            raise ConfigError(
                f"history[{index}] must be a Message; got {type(message).__name__}"
            )
        if message.speaker is None:
            raise ConfigError(
                f"history[{index}] has no speaker; a group transcript's messages "
                "carry theirs (message.speaker)"
            )
        if last is not None and message.timestamp < last:
            raise ConfigError(
                f"history[{index}] is earlier than the message before it; a "
                "transcript's timestamps never go back"
            )
        last = message.timestamp
    return messages


def check_opening(value: object) -> str | MessageDraft | None:
    """``initial_message`` if it is one of the forms it may take."""
    if value is None or isinstance(value, str | MessageDraft):
        return value
    raise ConfigError(
        "initial_message must be a string, a MessageDraft or None; got "
        f"{type(value).__name__}"
    )


def opening_message(
    draft: str | MessageDraft | None,
    speaker_name: str,
    seats: Mapping[str, Seat],
    base_timestamp: datetime | None,
    *,
    history: bool,
) -> Message | None:
    """The opening message, stamped and with its speaker (``None`` if there is none,
    or the run continues a history, whose first message it was)."""
    if draft is None or history:
        return None
    seat = seats.get(speaker_name)
    content = draft if isinstance(draft, str) else draft.content
    if seat is not None:
        sender, speaker = seat.side, seat.speaker
        if isinstance(draft, MessageDraft) and draft.sender is not sender:
            raise ConfigError(
                f"initial_message's sender is {draft.sender.name} but its speaker "
                f"{speaker_name!r} is a member on the {sender.name} side; give a "
                "string, or a MessageDraft with that sender"
            )
    else:
        sender = (
            draft.sender
            if isinstance(draft, MessageDraft)
            else ParticipantRole.CUSTOMER
        )
        speaker = Speaker(speaker_name)
    stamp = base_timestamp or datetime.now(UTC)
    return with_speaker(stamped(content, stamp, sender), speaker)


def member_failure(
    failure: Failed, conversation: Conversation, *, member: bool
) -> Exception:
    """What ``raise_on_error`` raises for ``failure``: a member's error as a
    :class:`ParticipantError` carrying the conversation so far; others as they are."""
    error = failure.error
    if isinstance(error, ParticipantError):
        if error.conversation is None:
            error.conversation = conversation
        return error
    if member and not isinstance(error, SimulationError):
        wrapped = ParticipantError(
            f"group member {failure.source!r} failed: {type(error).__name__}: {error}",
            conversation=conversation,
        )
        wrapped.__cause__ = error
        return wrapped
    return error


async def open_channels(seats: Mapping[str, Seat]) -> None:
    """Open the sessions of the members that are real agents behind channels."""
    for name, seat in seats.items():
        participant = seat.participant
        if isinstance(participant, ChannelParticipant):
            try:
                await participant.open()
            except ConfigError:
                raise
            except Exception as exc:
                raise Failed(name, exc) from exc


async def close_members(seats: Mapping[str, Seat], owned: Sequence[Channel]) -> None:
    """Close channel members' sessions, then the channels made for members."""
    for seat in seats.values():
        participant = seat.participant
        if isinstance(participant, ChannelParticipant):
            # Not in a scope of the caller's: a session with a listener exits the
            # task group it entered when it opened (it shields its own cleanup).
            await participant.aclose()
    for channel in owned:
        with anyio.CancelScope(shield=True):
            await channel.aclose()


def usage_report(
    seats: Mapping[str, Seat], spent: Mapping[str, TokenUsage], judge: TokenUsage
) -> TokenUsageReport:
    """The run's usage: members summed by side (customer, agent), and the judges'."""
    customer = agent = NO_USAGE
    for name, usage in spent.items():
        if usage is NO_USAGE:
            continue
        if seats[name].side is ParticipantRole.CUSTOMER:
            customer = customer + usage
        else:
            agent = agent + usage
    if customer is agent is judge is NO_USAGE:
        return NO_USAGE_REPORT
    return TokenUsageReport(customer=customer, agent=agent, judge=judge)


def check_scalars(
    seed: object, initial_speaker: object, base_timestamp: object
) -> None:
    """Check the runner's plain options; a :class:`ConfigError` names the bad one."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed must be an int; got {seed!r}")
    if not isinstance(initial_speaker, str) or not initial_speaker.strip():
        raise ConfigError(
            "initial_speaker must be a member's name or an outside voice's "
            f"(a non-blank string); got {initial_speaker!r}"
        )
    if base_timestamp is not None and not isinstance(base_timestamp, datetime):
        raise ConfigError(
            f"base_timestamp must be a datetime or None; got {base_timestamp!r}"
        )
