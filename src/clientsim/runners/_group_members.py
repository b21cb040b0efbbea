"""Turning what a user gives as group members into the runner's seats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeGuard

from clientsim import factory
from clientsim.channels.base import Channel
from clientsim.errors import ConfigError, UnknownStrategyError
from clientsim.models.team import RoleTemplate, role_key
from clientsim.participants.base import Participant
from clientsim.participants.channel import ChannelParticipant
from clientsim.runners._group_view import Seat, derived_seed
from clientsim.runners.agents import builds_a_channel, resolve_agent
from clientsim.turns.base import MemberInfo


__all__ = ["member_seats"]

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
        seats[info.name] = Seat(info, participant)
    return seats, owned


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
