"""Experiments at scale (seed 003): the experiment file, batch runs, the run store,
resume, record/replay and the output folder.

Names load on first use, so ``import clientsim.experiments`` stays light.

Example:
    >>> from clientsim.experiments import ExperimentConfig, run_experiment
    >>> config = ExperimentConfig.from_file("my-agent/configs/simulation.yaml")
    ... # doctest: +SKIP
    >>> result = await run_experiment(config)  # doctest: +SKIP
    >>> result.summary["by_status"]  # doctest: +SKIP
    {'done': 12, 'failed': 0, 'timeout': 0}
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from clientsim.experiments._model import ResponseCache, RunChatModel
    from clientsim.experiments.batch import (
        BatchCell,
        BatchResult,
        BatchRunner,
        ConversationJob,
        ConversationModels,
        derive_seed,
    )
    from clientsim.experiments.cassette import (
        AgentCassetteMissError,
        Cassette,
        CassetteChannel,
        CassetteScope,
    )
    from clientsim.experiments.config import (
        AgentConfig,
        ExperimentConfig,
        InputItem,
        MultiTurnConfig,
        OutcomeConfig,
        PersonaConfig,
        ReplayArgsConfig,
        RunnerConfig,
        SupervisorConfig,
        SupervisorMetadata,
    )
    from clientsim.experiments.html_report import render_html_report, write_html_report
    from clientsim.experiments.output import (
        ExperimentWriter,
        load_experiment,
        new_experiment_dir,
        summarize,
    )
    from clientsim.experiments.recording import (
        RecordedCall,
        ReplayTarget,
        load_recording,
        override_param,
        record_args,
    )
    from clientsim.experiments.report import render_text_report
    from clientsim.experiments.run import (
        ExperimentResult,
        grid,
        make_build,
        run_experiment,
    )
    from clientsim.experiments.scaffold import scaffold
    from clientsim.experiments.supervisor import (
        LLMSupervisor,
        MockSupervisor,
        Supervisor,
        SupervisorDecision,
        SupervisorParticipant,
        SupervisorTermination,
    )

_WHERE = {
    "ResponseCache": "_model",
    "RunChatModel": "_model",
    "BatchCell": "batch",
    "BatchResult": "batch",
    "BatchRunner": "batch",
    "ConversationJob": "batch",
    "ConversationModels": "batch",
    "derive_seed": "batch",
    "AgentCassetteMissError": "cassette",
    "Cassette": "cassette",
    "CassetteChannel": "cassette",
    "CassetteScope": "cassette",
    "AgentConfig": "config",
    "ExperimentConfig": "config",
    "InputItem": "config",
    "MultiTurnConfig": "config",
    "OutcomeConfig": "config",
    "PersonaConfig": "config",
    "ReplayArgsConfig": "config",
    "RunnerConfig": "config",
    "SupervisorConfig": "config",
    "SupervisorMetadata": "config",
    "render_html_report": "html_report",
    "write_html_report": "html_report",
    "ExperimentWriter": "output",
    "load_experiment": "output",
    "new_experiment_dir": "output",
    "summarize": "output",
    "RecordedCall": "recording",
    "ReplayTarget": "recording",
    "load_recording": "recording",
    "override_param": "recording",
    "record_args": "recording",
    "render_text_report": "report",
    "ExperimentResult": "run",
    "grid": "run",
    "make_build": "run",
    "run_experiment": "run",
    "scaffold": "scaffold",
    "LLMSupervisor": "supervisor",
    "MockSupervisor": "supervisor",
    "Supervisor": "supervisor",
    "SupervisorDecision": "supervisor",
    "SupervisorParticipant": "supervisor",
    "SupervisorTermination": "supervisor",
}

__all__ = [
    "AgentCassetteMissError",
    "AgentConfig",
    "BatchCell",
    "BatchResult",
    "BatchRunner",
    "Cassette",
    "CassetteChannel",
    "CassetteScope",
    "ConversationJob",
    "ConversationModels",
    "ExperimentConfig",
    "ExperimentResult",
    "ExperimentWriter",
    "InputItem",
    "LLMSupervisor",
    "MockSupervisor",
    "MultiTurnConfig",
    "OutcomeConfig",
    "PersonaConfig",
    "RecordedCall",
    "ReplayArgsConfig",
    "ReplayTarget",
    "ResponseCache",
    "RunChatModel",
    "RunnerConfig",
    "Supervisor",
    "SupervisorConfig",
    "SupervisorDecision",
    "SupervisorMetadata",
    "SupervisorParticipant",
    "SupervisorTermination",
    "derive_seed",
    "grid",
    "load_experiment",
    "load_recording",
    "make_build",
    "new_experiment_dir",
    "override_param",
    "record_args",
    "render_html_report",
    "render_text_report",
    "run_experiment",
    "scaffold",
    "summarize",
    "write_html_report",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(
            f"module 'clientsim.experiments' has no attribute {name!r}"
        )
    value = getattr(importlib.import_module(f"clientsim.experiments.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
