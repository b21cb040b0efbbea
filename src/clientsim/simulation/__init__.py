"""Client simulation runs (seed 000): metrics, results and reports."""

from clientsim.simulation.metrics import SimulationMetrics, TaskOutcome
from clientsim.simulation.result import SimulationResult


__all__ = ["SimulationMetrics", "SimulationResult", "TaskOutcome"]
