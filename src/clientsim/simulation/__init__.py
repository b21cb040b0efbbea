"""Client simulation runs (seed 000): configuration, metrics, results and reports."""

from clientsim.simulation.config import (
    ClientSimulationConfig,
    ContinuousModeConfig,
    FeedbackConfig,
    IntakeConfig,
    ReportConfig,
    RequirementGeneratorConfig,
    SimulationRunnerConfig,
)
from clientsim.simulation.metrics import SimulationMetrics, TaskOutcome
from clientsim.simulation.result import SimulationResult


__all__ = [
    "ClientSimulationConfig",
    "ContinuousModeConfig",
    "FeedbackConfig",
    "IntakeConfig",
    "ReportConfig",
    "RequirementGeneratorConfig",
    "SimulationMetrics",
    "SimulationResult",
    "SimulationRunnerConfig",
    "TaskOutcome",
]
