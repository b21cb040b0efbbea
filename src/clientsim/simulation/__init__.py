"""Client simulation runs (seed 000): configuration, metrics, results and reports."""

from clientsim.simulation.batch import (
    SimulationReplicate,
    SimulationWork,
    run_simulations,
)
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
from clientsim.simulation.runner import ContinuousMode, SimulationRunner, build_clients


__all__ = [
    "ClientSimulationConfig",
    "ContinuousMode",
    "ContinuousModeConfig",
    "FeedbackConfig",
    "IntakeConfig",
    "ReportConfig",
    "RequirementGeneratorConfig",
    "SimulationMetrics",
    "SimulationReplicate",
    "SimulationResult",
    "SimulationRunner",
    "SimulationRunnerConfig",
    "SimulationWork",
    "TaskOutcome",
    "build_clients",
    "run_simulations",
]
