"""Team simulation (seed 001): roles, memory, the analyst, sessions and what-if, on the
group runner."""

from clientsim.teams.participant import ParticipantMemory, RoleParticipant
from clientsim.teams.roles import (
    builtin_roles,
    get_role,
    load_roles,
    load_team,
    register_role,
    roles,
)


__all__: list[str] = [
    "ParticipantMemory",
    "RoleParticipant",
    "builtin_roles",
    "get_role",
    "load_roles",
    "load_team",
    "register_role",
    "roles",
]
