"""The simulator-side cassette in experiments: ``run_experiment(cassette_replay=...)``
and ``clientsim run --cassette-replay simulator``.

The agent is a module in the project folder (the experiment's ``runner.target``) that
answers a broken line while a flag file exists; the supervisor (the simulated
customer) is the offline model.
"""

from __future__ import annotations

import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from clientsim.experiments import run_experiment
from tests.integration.spine_agents import explain, run_cli, traces


BROKEN = "Let me transfer you..."
RESET = "I have sent you a reset link. Did that fix it?"

AGENT = f"""
from pathlib import Path

BROKEN = Path(__file__).with_name("BROKEN")
calls = 0


def run(message: str) -> str:
    global calls
    calls += 1
    if BROKEN.exists():
        return {BROKEN!r}
    if "password" in message.lower():
        return {RESET!r}
    return "Glad I could help. Anything else?"
"""

CONFIG = """
name: simulator_replay
description: replay the simulated side, call the agent live
iterations: 2
seed: 4
runner:
  target: "{module}:run"
multi_turn:
  enabled: true
  max_turns: 3
  supervisor:
    model: offline
inputs:
  - I forgot my password
outcomes:
  - name: reset
    patterns: ["reset link"]
    sender: agent
pass_outcomes: [reset]
"""


def project(tmp_path: Path) -> tuple[Path, str]:
    """A project folder with a uniquely named agent module (imported in-process)."""
    module = f"sim_bot_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(AGENT), encoding="utf-8")
    config = tmp_path / "simulation.yaml"
    config.write_text(CONFIG.format(module=module), encoding="utf-8")
    return config, module


def talks(result: Any) -> dict[str, list[str]]:
    return {
        record.key: [message.content for message in record.result.conversation.messages]
        for record in result.records
    }


async def test_run_experiment_replays_the_simulated_side_only(tmp_path: Path) -> None:
    config, module = project(tmp_path)
    tape = tmp_path / "tape.sqlite"

    def agent_calls() -> int:
        calls = sys.modules[module].calls
        sys.modules[module].calls = 0
        return int(calls)

    recorded = await run_experiment(config, cassette=tape)
    assert agent_calls() > 0
    assert recorded.live_model_calls > 0

    replayed = await run_experiment(
        config, cassette=tape, cassette_mode="replay", cassette_replay="simulator"
    )
    assert agent_calls() > 0  # the agent ran
    assert replayed.live_model_calls == 0  # the simulated side did not
    assert talks(replayed) == talks(recorded)
    assert replayed.summary["by_outcome"] == recorded.summary["by_outcome"]

    (tmp_path / "BROKEN").write_text("")
    failed = await run_experiment(
        config, cassette=tape, cassette_mode="replay", cassette_replay="simulator"
    )
    assert failed.live_model_calls == 0
    errors = [record.result.error for record in failed.records]
    assert all(
        error is not None and error.type.endswith("CassetteDivergenceError")
        for error in errors
    )
    first = errors[0]
    assert first is not None
    assert "at turn 1 (its reply to 'I forgot my password')" in first.message
    assert any(
        RESET[:25] in line and BROKEN in line for line in first.message.splitlines()
    )

    # strict=False (on_miss="live"): from the divergence on the supervisor is live,
    # and the cassette holds the new run
    rerecorded = await run_experiment(
        config,
        cassette=tape,
        cassette_mode="replay",
        cassette_replay="simulator",
        strict=False,
    )
    assert rerecorded.live_model_calls > 0
    assert all(record.result.error is None for record in rerecorded.records)
    again = await run_experiment(
        config, cassette=tape, cassette_mode="replay", cassette_replay="simulator"
    )
    assert again.live_model_calls == 0
    assert talks(again) == talks(rerecorded)
    assert all(talk[1] == BROKEN for talk in talks(again).values())


@pytest.mark.parametrize("broken", [False, True], ids=["working", "broken"])
async def test_the_cli_option_picks_the_simulator_replay(
    tmp_path: Path, broken: bool
) -> None:
    config, _ = project(tmp_path)
    recorded = await run_cli(
        "run", config, "--record-cassette", "tape.sqlite", cwd=tmp_path
    )
    assert recorded.returncode == 0, explain(recorded)
    if broken:
        (tmp_path / "BROKEN").write_text("")
    replayed = await run_cli(
        "run",
        config,
        "--replay-cassette",
        "tape.sqlite",
        "--cassette-replay",
        "simulator",
        cwd=tmp_path,
    )
    assert replayed.returncode == (1 if broken else 0), explain(replayed)
    folders = sorted(
        (tmp_path / "experiments").glob("exp_*"), key=lambda p: p.stat().st_mtime
    )
    errors = [trace.get("error") for trace in traces(folders[-1])]
    if broken:
        assert all(
            error and "CassetteDivergenceError" in error["type"] for error in errors
        )
    else:
        assert errors == [None, None]
