"""Experiments end to end: the example file, cache, cassette, resume after SIGKILL,
argument replay and runner targets, through the public API and real processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from clientsim.errors import ConfigError
from clientsim.experiments import ExperimentConfig, run_experiment
from clientsim.models import RunStatus


ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "support_desk" / "simulation.yaml"
OFFLINE_ENV = {
    **{k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"},
    "OPENAI_BASE_URL": "http://127.0.0.1:9/unreachable",
}


def example(tmp_path: Path, **changes: Any) -> ExperimentConfig:
    folder = tmp_path / "support_desk"
    folder.mkdir(exist_ok=True)
    shutil.copy(EXAMPLE, folder / "simulation.yaml")
    config = ExperimentConfig.from_file(folder / "simulation.yaml")
    data = config.to_dict()
    data.update(changes)
    return ExperimentConfig.from_dict(data, base_dir=folder)


def transcripts(records: Any) -> dict[str, list[tuple[str, str]]]:
    return {
        record.key: [
            (message.sender.value, message.content)
            for message in record.result.conversation.messages
        ]
        for record in records
    }


async def test_the_example_experiment_writes_the_seed_layout(tmp_path):
    result = await run_experiment(example(tmp_path))
    folder = result.directory
    assert folder.parent == tmp_path / "support_desk" / "experiments"
    assert folder.name.startswith("exp_")
    assert len(folder.name) == len("exp_20261130_120000")
    for name in ("summary.json", "metadata.json"):
        assert (folder / name).is_file()
    for name in ("traces.jsonl", "observations.jsonl"):
        assert (folder / "artifacts" / name).is_file()
    assert (folder / "logs" / "run.log").is_file()
    traces = (folder / "artifacts" / "traces.jsonl").read_text().splitlines()
    assert len(traces) == result.total == 12
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["by_status"]["done"] == 12
    assert set(summary["by_outcome"]) <= {"resolved", "escalated", "none"}
    low, high = summary["pass_rate"]["ci95_low"], summary["pass_rate"]["ci95_high"]
    assert 0 <= low <= summary["pass_rate"]["value"] <= high <= 1
    assert summary["turns"]["p50"] >= 1
    assert summary["by_model"]["offline"]["calls"] > 0
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["run_id"] == folder.name
    assert metadata["status"] == "done"
    assert metadata["config"]["name"] == "support_desk"
    assert result.exit_code == 0


async def test_rerunning_a_seeded_experiment_makes_no_model_call(tmp_path):
    first = await run_experiment(example(tmp_path))
    assert first.live_model_calls > 0
    again = await run_experiment(example(tmp_path))
    assert again.run_id != first.run_id
    assert again.live_model_calls == 0
    assert transcripts(again.records) == transcripts(first.records)


async def test_a_cassette_replays_a_run_exactly_with_no_live_call(tmp_path):
    config = example(tmp_path, cache=False)
    tape = tmp_path / "tape.sqlite"
    recorded = await run_experiment(config, cassette=tape, cassette_mode="record")
    assert recorded.live_model_calls > 0
    replayed = await run_experiment(config, cassette=tape, cassette_mode="replay")
    assert replayed.live_model_calls == 0
    assert transcripts(replayed.records) == transcripts(recorded.records)
    outcome = {r.key: r.result.outcome for r in recorded.records}
    assert {r.key: r.result.outcome for r in replayed.records} == outcome
    assert all(r.status is RunStatus.DONE for r in replayed.records)


async def test_a_strict_replay_miss_fails_instead_of_calling_live(tmp_path):
    tape = tmp_path / "tape.sqlite"
    await run_experiment(example(tmp_path, cache=False, iterations=1), cassette=tape)
    replayed = await run_experiment(
        example(tmp_path, cache=False, iterations=2),
        cassette=tape,
        cassette_mode="replay",
    )
    assert replayed.live_model_calls == 0
    by_iteration = {
        it: [r for r in replayed.records if r.cell.iteration == it] for it in (0, 1)
    }
    assert all(r.status is RunStatus.DONE for r in by_iteration[0])
    assert by_iteration[1]
    for record in by_iteration[1]:
        assert record.status is RunStatus.FAILED
        assert record.error is not None
        assert "cassette" in record.error.message.lower()
    assert replayed.exit_code == 1


AGENT_MODULE = """
import anyio

CALLS = []


async def run(message: str) -> str:
    await anyio.sleep({delay})
    CALLS.append(message)
    if "boom" in message:
        raise ValueError("the agent broke")
    return "I've sent a password reset link to your email."


def handle(data: dict) -> str:
    return "echo: " + data["content"]


def approving(message: str, *, auto_approve_tools: bool) -> str:
    return f"tools auto-approved: {{auto_approve_tools}}"
"""


def project(tmp_path: Path, config: str, *, delay: float = 0.0) -> Path:
    root = tmp_path / "proj"
    (root / "configs").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "src" / "my_agent.py").write_text(AGENT_MODULE.format(delay=delay))
    path = root / "configs" / "simulation.yaml"
    path.write_text(textwrap.dedent(config))
    return path


TARGET_CONFIG = """
name: target_test
description: a real agent through runner.target
iterations: {iterations}
parallel_runs: {parallel}
runner:
  target: "my_agent:run"
  python_path: [src]
  timeout_seconds: 30
  max_retries: 0
inputs: {inputs}
outcomes:
  - name: resolved
    patterns: ["reset link"]
    sender: agent
pass_outcomes: [resolved]
"""


async def test_a_runner_target_is_imported_from_python_path(tmp_path):
    path = project(
        tmp_path,
        TARGET_CONFIG.format(
            iterations=1, parallel=2, inputs='["I forgot my password", "boom"]'
        ),
    )
    result = await run_experiment(path)
    statuses = {r.input: r.status for r in result.records}
    assert statuses == {
        "I forgot my password": RunStatus.DONE,
        "boom": RunStatus.FAILED,
    }
    failed = next(r for r in result.records if r.status is RunStatus.FAILED)
    assert failed.error is not None
    assert failed.error.side == "agent"
    assert "the agent broke" in failed.error.message
    done = next(r for r in result.records if r.status is RunStatus.DONE)
    assert done.result is not None
    assert done.result.outcome is not None
    assert done.result.outcome.name == "resolved"
    assert result.exit_code == 1


async def test_a_target_that_cannot_be_imported_is_a_config_error(tmp_path):
    path = project(
        tmp_path,
        TARGET_CONFIG.format(iterations=1, parallel=1, inputs='["hi"]').replace(
            "my_agent:run", "no_such_agent:run"
        ),
    )
    with pytest.raises(ConfigError, match="no_such_agent"):
        await run_experiment(path)


async def test_recorded_arguments_are_replayed_with_the_input_substituted(tmp_path):
    path = project(
        tmp_path,
        """
        name: replay
        description: argument replay
        runner:
          target: "my_agent:handle"
          python_path: [src]
        replay_args:
          enabled: true
          recording_file: recordings/args.jsonl
          override_param_path: data.content
        inputs: ["first question", "second question"]
        """,
    )
    recordings = path.parents[1] / "recordings"
    recordings.mkdir()
    line = {"args": [], "kwargs": {"data": {"content": "original"}}, "timestamp": None}
    (recordings / "args.jsonl").write_text(json.dumps(line) + "\n")
    result = await run_experiment(path)
    replies = sorted(
        r.result.conversation.messages[-1].content for r in result.records if r.result
    )
    assert replies == ["echo: first question", "echo: second question"]


def store_rows(store: Path, run_id: str) -> tuple[int, int]:
    with sqlite3.connect(store) as db:
        row = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT key) FROM conversations WHERE run_id = ?",
            (run_id,),
        ).fetchone()
    return int(row[0]), int(row[1])


def test_a_run_killed_with_sigkill_resumes_and_stores_every_cell_once(tmp_path):
    inputs = json.dumps([f"I forgot my password ({i})" for i in range(12)])
    path = project(
        tmp_path,
        TARGET_CONFIG.format(iterations=2, parallel=3, inputs=inputs),
        delay=0.05,
    )
    command = [sys.executable, "-c", "from clientsim.cli import main; main()", "run"]
    process = subprocess.Popen(
        [*command, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=OFFLINE_ENV,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    run_id = process.stdout.readline().split()[1]
    assert run_id.startswith("exp_")
    for _ in range(12):  # half of the 24 cells
        assert process.stdout.readline().startswith("[")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    assert process.stderr is not None
    process.stderr.close()
    store = path.parents[1] / "experiments" / "runs.sqlite"
    stored, distinct = store_rows(store, run_id)
    assert stored == distinct
    assert 12 <= stored < 24
    resumed = subprocess.run(
        [*command, str(path), "--resume", run_id],
        capture_output=True,
        text=True,
        env=OFFLINE_ENV,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    progress = [line for line in resumed.stdout.splitlines() if line.startswith("[")]
    assert len(progress) == 24 - stored  # only what was missing ran
    assert store_rows(store, run_id) == (24, 24)
    folder = path.parents[1] / "experiments" / run_id
    traces = (folder / "artifacts" / "traces.jsonl").read_text().splitlines()
    assert len(traces) == 24
    assert json.loads((folder / "metadata.json").read_text())["status"] == "done"


async def test_resuming_an_unknown_run_names_the_runs_there(tmp_path):
    config = example(tmp_path, iterations=1)
    done = await run_experiment(config)
    with pytest.raises(ConfigError, match=done.run_id):
        await run_experiment(config, resume="exp_19990101_000000")


@pytest.mark.parametrize("flag", [True, False])
async def test_auto_approve_tools_reaches_a_target_that_declares_it(tmp_path, flag):
    path = project(
        tmp_path,
        f"""
        name: approve
        description: auto_approve_tools
        runner:
          target: "my_agent:approving"
          python_path: [src]
        multi_turn:
          auto_approve_tools: {str(flag).lower()}
        inputs: ["hi"]
        """,
    )
    (record,) = (await run_experiment(path)).records
    assert record.result is not None
    reply = record.result.conversation.messages[-1].content
    assert reply == f"tools auto-approved: {flag}"
