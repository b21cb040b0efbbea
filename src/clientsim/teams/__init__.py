"""Team simulation (seed 001): roles, memory, the analyst, sessions and what-if, on the
group runner.

The seed's operations: :func:`start` a session, :meth:`TeamSession.next` turn,
:meth:`TeamSession.what_if`, :func:`roles` (the agents list) and :func:`memory` (a
stored session's memory).
"""

from clientsim.teams.analyst import SimulationAnalyst
from clientsim.teams.batch import SessionRun, WhatIfPlan, run_sessions
from clientsim.teams.memory import MemoryManager
from clientsim.teams.panel import StakeholderPanel
from clientsim.teams.participant import ParticipantMemory, RoleParticipant
from clientsim.teams.roles import (
    builtin_roles,
    get_role,
    load_roles,
    load_team,
    register_role,
    roles,
)
from clientsim.teams.scenario import TeamConfig, TeamScenario, load_team_config
from clientsim.teams.session import TeamSession, memory, start
from clientsim.teams.whatif import ComparisonRow, WhatIfChange, WhatIfComparison


__all__: list[str] = [
    "ComparisonRow",
    "MemoryManager",
    "ParticipantMemory",
    "RoleParticipant",
    "SessionRun",
    "SimulationAnalyst",
    "StakeholderPanel",
    "TeamConfig",
    "TeamScenario",
    "TeamSession",
    "WhatIfChange",
    "WhatIfComparison",
    "WhatIfPlan",
    "builtin_roles",
    "get_role",
    "load_roles",
    "load_team",
    "load_team_config",
    "memory",
    "register_role",
    "roles",
    "run_sessions",
    "start",
]
