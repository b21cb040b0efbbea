"""Intake (seed 000): client requests walked from SUBMITTED to a task, and the
adapters through which work enters the organisation."""

from clientsim.intake.base import (
    EntryPointStrategy,
    IntakeDecision,
    IntakeStrategy,
    WorkEntryAdapter,
    WorkItem,
    WorkPipeline,
    WorkSource,
)
from clientsim.intake.engine import IntakeEngine, fold_scoping_notes
from clientsim.intake.entry import (
    DirectAdapter,
    IntakeAdapter,
    IntakeEntryAdapter,
    ProjectAdapter,
    TaskBoardEntryAdapter,
    TaskBoardSubmission,
    TaskEngineWorkPipeline,
)
from clientsim.intake.strategies import BUILTINS, AgentIntake, DirectIntake


__all__ = [
    "BUILTINS",
    "AgentIntake",
    "DirectAdapter",
    "DirectIntake",
    "EntryPointStrategy",
    "IntakeAdapter",
    "IntakeDecision",
    "IntakeEngine",
    "IntakeEntryAdapter",
    "IntakeStrategy",
    "ProjectAdapter",
    "TaskBoardEntryAdapter",
    "TaskBoardSubmission",
    "TaskEngineWorkPipeline",
    "WorkEntryAdapter",
    "WorkItem",
    "WorkPipeline",
    "WorkSource",
    "fold_scoping_notes",
]
