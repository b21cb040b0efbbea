"""The executor setting on every surface goes the one way (``factory.build_executor``,
BatchRunner's ``executor=``): a plugin executor that records what it ran is chosen from
an experiment file, the command line, Python (``simulate``, ``run_experiment``), a
study file, ``begin`` and ``run_intervention``, and it is what actually runs the
conversations."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from clientsim import simulate
from clientsim.errors import UnknownStrategyError
from clientsim.experiments import run_experiment
from clientsim.experiments.config import ExperimentConfig
from clientsim.factory import executors
from clientsim.interventions import Intervention, run_intervention
from clientsim.plugins import ENTRY_POINT_GROUP, register_plugin, unregister_plugin
from clientsim.population import begin
from clientsim.store import InMemoryStore
from tests import executor_plugin
from tests.integration.test_cli import clientsim, explain, offline_env
from tests.interventions.modes import ConvertMode, people


EXPERIMENT = """\
name: executor_check
description: Which executor runs the conversations
agent: {system_prompt: "You help with orders."}
inputs: ["Where is my order?", "I want a refund"]
personas: [{id: calm}, {id: terse}]
iterations: 2
parallel_runs: 3
output_directory: out
"""
GRID = 2 * 2 * 2


@pytest.fixture(name="recording")
def _recording() -> Iterator[type[executor_plugin.RecordingExecutor]]:
    """The recording executor, registered in this process for one test."""
    executor_plugin.RAN.clear()
    executor_plugin.RecordingExecutor.built.clear()
    register_plugin(executor_plugin)
    try:
        yield executor_plugin.RecordingExecutor
    finally:
        unregister_plugin(executor_plugin)
    assert "recording" not in executors


def _project(root: Path, executor: str = "") -> Path:
    (root / "configs").mkdir(parents=True)
    path = root / "configs" / "simulation.yaml"
    path.write_text(EXPERIMENT + executor, encoding="utf-8")
    return path


def _agent(message: str) -> str:
    return f"About {message.rsplit(maxsplit=1)[-1]}: your refund and your parcel are on the way."


def _said(runs: object) -> list[list[str]]:
    return [
        [m.content for m in run.result.conversation.messages]
        for run in runs  # type: ignore[attr-defined]
    ]


# ----- Python ----------------------------------------------------------------------


async def test_an_experiment_file_names_the_executor_that_runs_its_conversations(
    tmp_path, recording
):
    path = _project(tmp_path, "executor: {strategy: recording, label: from-file}\n")
    config = ExperimentConfig.from_file(path)
    assert config.executor.to_config() == {
        "strategy": "recording",
        "label": "from-file",
    }
    result = await run_experiment(config)
    assert len(result.records) == GRID
    assert sorted(executor_plugin.RAN) == sorted(r.key for r in result.records)
    assert recording.built == ["from-file"]  # built once for the run, with its option


async def test_run_experiment_executor_wins_over_the_file(tmp_path, recording):
    path = _project(tmp_path)  # no executor key: local
    mine = recording(label="mine")
    result = await run_experiment(path, executor=mine)
    assert len(executor_plugin.RAN) == GRID == len(result.records)
    # an executor object is the caller's: the run neither builds another nor closes it
    assert recording.built == ["mine"]


async def test_the_default_executor_is_local_and_gives_what_a_plugin_one_gives(
    tmp_path, recording
):
    kwargs = {
        "personas": ["terse", "chatty"],
        "intents": ["refund my order", "where is my parcel"],
        "runs": 2,
        "seed": 5,
        "outcomes": {"helped": "refund|parcel"},
    }
    local = await simulate(_agent, **kwargs)
    assert executor_plugin.RAN == []
    recorded = await simulate(_agent, executor="recording", **kwargs)
    assert len(executor_plugin.RAN) == 8
    assert _said(recorded) == _said(local)
    assert [r.result.outcome for r in recorded] == [r.result.outcome for r in local]


async def test_simulate_refuses_an_unknown_executor_naming_the_known_ones():
    with pytest.raises(UnknownStrategyError, match=r"'local', 'ray'"):
        await simulate(lambda message: "ok", intents=["hi"], executor="nosuch")


STUDY = """\
name: Bottle survey
population: {name: Adults, demographic_base: usa, size: 5}
questions: [{id: interest, text: "How interested are you?", type: scale}]
checkpoint_every: 2
"""


async def test_a_study_file_names_its_executor_built_once_for_all_checkpoints(
    tmp_path, recording
):
    path = tmp_path / "study.yaml"
    path.write_text(STUDY + "executor: {strategy: recording, label: study}\n")
    session = await begin(path, store=InMemoryStore())
    run = await session.run()
    assert len(run.responses) == 5
    assert len(executor_plugin.RAN) == 5
    assert recording.built == ["study"]  # one executor for the three steps


async def test_begin_executor_wins_over_the_study_file(tmp_path, recording):
    path = tmp_path / "study.yaml"
    path.write_text(STUDY + "executor: ray\n")  # would need a cluster
    session = await begin(path, store=InMemoryStore(), executor="recording")
    await session.run()
    assert len(executor_plugin.RAN) == 5


async def test_run_intervention_runs_its_units_on_the_executor(recording):
    intervention = Intervention(
        name="Subject line",
        control="control",
        variants=[{"name": "bold", "content": "Half price"}],
        success_metrics=["conversion"],
    )
    mode = ConvertMode({"control": 0.2, "bold": 0.4})
    results = await run_intervention(
        intervention, people(40), run_id="ab", mode=mode, executor="recording"
    )
    assert len(executor_plugin.RAN) == 40
    assert sum(len(ids) for ids in results.assignment.values()) == 40


# ----- the command line ------------------------------------------------------------


def _fake_plugin(root: Path) -> dict[str, str]:
    """A fake distribution whose entry point is :mod:`tests.executor_plugin`; the
    environment of a child process that loads it."""
    info = root / "recording_executor-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: recording-executor\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nrecording = recording_executor_plugin\n"
    )
    source = Path(executor_plugin.__file__).read_text(encoding="utf-8")
    (root / "recording_executor_plugin.py").write_text(source, encoding="utf-8")
    env = offline_env()
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    env["RECORDING_EXECUTOR_LOG"] = str(root / "ran.log")
    return env


def _ran(env: dict[str, str]) -> list[str]:
    log = Path(env["RECORDING_EXECUTOR_LOG"])
    return log.read_text().splitlines() if log.exists() else []


def test_cli_executor_local_runs_and_an_unknown_one_exits_2_naming_the_known(
    tmp_path,
):
    path = _project(tmp_path)
    env = offline_env()
    done = clientsim("run", path, "--executor", "local", "-q", cwd=tmp_path, env=env)
    assert done.returncode == 0, explain(done)
    assert f"{GRID} of {GRID} stored" in done.stdout
    done = clientsim("run", path, "--executor", "nosuch", cwd=tmp_path, env=env)
    assert done.returncode == 2, explain(done)
    assert done.stderr.strip().count("\n") == 0, explain(done)  # one line
    assert "executor" in done.stderr
    assert "'nosuch'" in done.stderr
    assert "'local', 'ray'" in done.stderr


def test_a_plugin_executor_chosen_on_the_command_line_runs_the_conversations(
    tmp_path,
):
    env = _fake_plugin(tmp_path / "site")
    path = _project(tmp_path / "project")
    done = clientsim(
        "run", path, "--executor", "recording", "-q", cwd=tmp_path, env=env
    )
    assert done.returncode == 0, explain(done)
    assert len(_ran(env)) == GRID
    assert all(line.startswith("|") for line in _ran(env))  # no options given


def test_a_plugin_executor_chosen_in_the_file_keeps_its_options_when_named_again(
    tmp_path,
):
    env = _fake_plugin(tmp_path / "site")
    path = _project(
        tmp_path / "project", "executor: {strategy: recording, label: filed}\n"
    )
    done = clientsim("run", path, "-q", cwd=tmp_path, env=env)
    assert done.returncode == 0, explain(done)
    assert [line.partition("|")[0] for line in _ran(env)] == ["filed"] * GRID
    done = clientsim(
        "run", path, "--executor", "recording", "-q", cwd=tmp_path, env=env
    )
    assert done.returncode == 0, explain(done)
    assert [line.partition("|")[0] for line in _ran(env)] == ["filed"] * 2 * GRID
    # --executor local wins over the file: nothing more is recorded
    done = clientsim("run", path, "--executor", "local", "-q", cwd=tmp_path, env=env)
    assert done.returncode == 0, explain(done)
    assert len(_ran(env)) == 2 * GRID


def test_population_run_executor_from_the_command_line(tmp_path):
    env = _fake_plugin(tmp_path / "site")
    study = tmp_path / "study.yaml"
    study.write_text(STUDY, encoding="utf-8")
    store = tmp_path / "runs.sqlite"
    done = clientsim(
        "population", "run", study, "--executor", "nosuch", "--store", store,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 2, explain(done)
    assert "'local'" in done.stderr
    assert "'recording'" in done.stderr
    done = clientsim(
        "population", "run", study, "--executor", "recording", "--store", store,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert done.returncode == 0, explain(done)
    assert len(_ran(env)) == 5


# ----- Ray, end to end (passes once the Ray executor is in) ------------------------


@pytest.mark.xdist_group("ray")
async def test_simulate_on_ray_gives_the_local_results(ray_cluster):
    kwargs = {
        "personas": ["terse"],
        "intents": ["refund my order", "where is my parcel"],
        "runs": 2,
        "seed": 3,
    }

    def agent(message: str) -> str:  # defined here: it travels to Ray by value
        return f"About {message.rsplit(maxsplit=1)[-1]}: on its way."

    local = await simulate(agent, **kwargs)
    on_ray = await simulate(
        agent,
        executor={"strategy": "ray", "address": ray_cluster, "workers": 2},
        **kwargs,
    )
    assert _said(on_ray) == _said(local)
