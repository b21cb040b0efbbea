"""Team simulation (seed 001): roles, memory, the analyst, sessions and what-if, on the
group runner."""

from clientsim.teams.analyst import SimulationAnalyst
from clientsim.teams.memory import MemoryManager


__all__: list[str] = ["MemoryManager", "SimulationAnalyst"]
