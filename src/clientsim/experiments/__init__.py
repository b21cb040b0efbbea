"""Experiments at scale (seed 003): the experiment file, batch runs, the run store,
resume, record/replay and the output folder.

Names load on first use, so ``import clientsim.experiments`` stays light.

Example:
    >>> import anyio
    >>> import tempfile
    >>> from pathlib import Path
    >>> from clientsim.experiments import ExperimentConfig, run_experiment, scaffold
    >>> folder = Path(tempfile.mkdtemp()) / "my-agent"
    >>> _ = scaffold(folder)  # what ``clientsim init my-agent`` writes
    >>> config = ExperimentConfig.from_file(folder / "configs" / "simulation.yaml")
    >>> result = anyio.run(lambda: run_experiment(config))
    >>> result.summary["by_status"]
    {'done': 12, 'failed': 0, 'timeout': 0}
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from clientsim.errors import ClientSimDeprecationWarning


if TYPE_CHECKING:
    from clientsim.experiments.build import grid, make_build
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
    from clientsim.experiments.junit import write_junit_xml
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
    from clientsim.experiments.run import ExperimentResult, run_experiment
    from clientsim.experiments.scaffold import scaffold

_WHERE = {
    "RunChatModel": "clientsim.llm.run_model",
    "BatchCell": "clientsim.runners.batch",
    "BatchResult": "clientsim.runners.batch",
    "BatchRunner": "clientsim.runners.batch",
    "ConversationJob": "clientsim.runners.batch",
    "ConversationModels": "clientsim.runners.batch",
    "derive_seed": "clientsim.runners.batch",
    "AgentCassetteMissError": "clientsim.experiments.cassette",
    "Cassette": "clientsim.experiments.cassette",
    "CassetteChannel": "clientsim.experiments.cassette",
    "CassetteScope": "clientsim.experiments.cassette",
    "AgentConfig": "clientsim.experiments.config",
    "ExperimentConfig": "clientsim.experiments.config",
    "InputItem": "clientsim.experiments.config",
    "MultiTurnConfig": "clientsim.experiments.config",
    "OutcomeConfig": "clientsim.experiments.config",
    "PersonaConfig": "clientsim.experiments.config",
    "ReplayArgsConfig": "clientsim.experiments.config",
    "RunnerConfig": "clientsim.experiments.config",
    "SupervisorConfig": "clientsim.experiments.config",
    "SupervisorMetadata": "clientsim.experiments.config",
    "render_html_report": "clientsim.render.html",
    "write_html_report": "clientsim.render.html",
    "ExperimentWriter": "clientsim.experiments.output",
    "load_experiment": "clientsim.experiments.output",
    "new_experiment_dir": "clientsim.experiments.output",
    "summarize": "clientsim.experiments.output",
    "write_junit_xml": "clientsim.experiments.junit",
    "RecordedCall": "clientsim.experiments.recording",
    "ReplayTarget": "clientsim.experiments.recording",
    "load_recording": "clientsim.experiments.recording",
    "override_param": "clientsim.experiments.recording",
    "record_args": "clientsim.experiments.recording",
    "render_text_report": "clientsim.render.text",
    "ExperimentResult": "clientsim.experiments.run",
    "grid": "clientsim.experiments.build",
    "make_build": "clientsim.experiments.build",
    "run_experiment": "clientsim.experiments.run",
    "scaffold": "clientsim.experiments.scaffold",
    "LLMSupervisor": "clientsim.participants.supervisor",
    "MockSupervisor": "clientsim.participants.supervisor",
    "Supervisor": "clientsim.participants.supervisor",
    "SupervisorDecision": "clientsim.participants.supervisor",
    "SupervisorParticipant": "clientsim.participants.supervised",
    "SupervisorTermination": "clientsim.participants.supervised",
}

__all__ = [
    "AgentCassetteMissError",
    "AgentConfig",
    "Cassette",
    "CassetteChannel",
    "CassetteScope",
    "ExperimentConfig",
    "ExperimentResult",
    "ExperimentWriter",
    "InputItem",
    "MultiTurnConfig",
    "OutcomeConfig",
    "PersonaConfig",
    "RecordedCall",
    "ReplayArgsConfig",
    "ReplayTarget",
    "RunnerConfig",
    "SupervisorConfig",
    "SupervisorMetadata",
    "grid",
    "load_experiment",
    "load_recording",
    "make_build",
    "new_experiment_dir",
    "override_param",
    "record_args",
    "run_experiment",
    "scaffold",
    "summarize",
    "write_junit_xml",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(
            f"module 'clientsim.experiments' has no attribute {name!r}"
        )
    if not module.startswith("clientsim.experiments."):
        warnings.warn(
            f"clientsim.experiments.{name} moved to {module}.{name}; import it from "
            "there (the old path will be removed in a future release)",
            ClientSimDeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(module), name)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
