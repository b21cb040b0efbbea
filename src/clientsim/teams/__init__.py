"""Team simulation (seed 001): roles, memory, the analyst, sessions and what-if, on the
group runner."""

from clientsim.teams.panel import StakeholderPanel


__all__: list[str] = ["StakeholderPanel"]
