"""Intake (seed 000): client requests walked from SUBMITTED to a task."""

from clientsim.intake.engine import IntakeEngine, fold_scoping_notes
from clientsim.intake.strategies import (
    BUILTINS,
    AgentIntake,
    DirectIntake,
    IntakeDecision,
    IntakeStrategy,
)


__all__ = [
    "BUILTINS",
    "AgentIntake",
    "DirectIntake",
    "IntakeDecision",
    "IntakeEngine",
    "IntakeStrategy",
    "fold_scoping_notes",
]
